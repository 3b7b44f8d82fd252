"""Administration of operations: create one (route and ceasefire windows), change its windows,
move it on (activate, suspend, close) and choose which published plan version it follows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from corridor.core.errors import CorridorError, InputError
from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.operations import service as operations
from corridor.server.operations import versions
from corridor.server.operations.schemas import OperationIn, OperationPatch, PointIn, WindowIn
from corridor.server.runtime import Runtime
from corridor.server.web.admin import operation_links, problems, record, show, show_operation, state_choices
from corridor.server.web.i18n import choose

router = APIRouter(include_in_schema=False)
KINDS = ("departure", "checkpoint", "arrival")
FieldText = Annotated[str, Form(max_length=20_000)]


def parse_route(text: str) -> list[PointIn]:
    """Route points from lines ``id; name; kind; minutes`` (departure first, arrival last)."""
    points = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 4:
            raise InputError(
                f"line {number} has {len(parts)} parts, not 4",
                where=f"route line {number}",
                hint="write each point as: id; name; kind; minutes (e.g. cp1; Ramouseh; checkpoint; 25)",
            )
        try:
            points.append(
                PointIn.model_validate(
                    {"id": parts[0], "name": parts[1], "kind": parts[2], "expected_minutes": parts[3]}
                )
            )
        except ValidationError as error:
            field = str(error.errors()[0]["loc"][0])
            raise InputError(
                f"line {number}: {field}: {error.errors()[0]['msg']}",
                where=f"route line {number}",
                hint="kind is departure, checkpoint or arrival; minutes is a number from the departure",
            ) from error
    return points


def parse_windows(starts: list[str], ends: list[str]) -> list[WindowIn]:
    """Ceasefire windows from pairs of ``datetime-local`` values read as UTC, in order; empty pairs
    left out (overlapping ones are refused by the operations service, as for the API)."""
    windows = []
    for number, (start, end) in enumerate(zip(starts, ends, strict=False), start=1):
        if not start.strip() and not end.strip():
            continue
        try:
            windows.append(WindowIn.model_validate({"start": _utc(start), "end": _utc(end)}))
        except ValidationError as error:
            raise InputError(
                f"window {number}: {error.errors()[0]['msg']}",
                where=f"window {number}",
                hint="give a start and an end (UTC), the end after the start",
            ) from error
    return sorted(windows, key=lambda w: w.start)


def _utc(value: str) -> str:
    value = value.strip()
    return value if not value or value.endswith("Z") or "+" in value[10:] else value + "Z"


def _list_page(
    request: Request,
    runtime: Runtime,
    actor: Actor,
    *,
    full: bool,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    with runtime.db.reading() as session:
        found = operations.list_for(session, None)
    context.setdefault("form", {"name": "", "scenario_name": "", "route": "", "start": "", "end": ""})
    return show(
        request,
        "admin_operations.html",
        actor=actor,
        full=full,
        status_code=status_code,
        title=choose(request).text("admin.operations"),
        operations=found,
        links={o.id: operation_links(actor, o.id) for o in found},
        **context,
    )


@router.get("/admin/operations")
def operations_admin(
    request: Request, runtime: RuntimeDep, actor: Annotated[Actor, permit("operations.create")]
) -> HTMLResponse:
    return _list_page(request, runtime, actor, full=True)


@router.post("/admin/operations")
def create_operation(
    request: Request,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operations.create")],
    # Longer than the operation's limits, so that the page itself says which is too long.
    name: Annotated[str, Form(max_length=2_000)] = "",
    scenario_name: Annotated[str, Form(max_length=2_000)] = "",
    route: FieldText = "",
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Create an operation (state ``planning``) with its route and first ceasefire window."""
    text = choose(request).text
    typed = {"name": name, "scenario_name": scenario_name, "route": route, "start": start, "end": end}
    try:
        body = OperationIn(
            name=name.strip(),
            scenario_name=scenario_name.strip(),
            route=parse_route(route),
            windows=parse_windows([start], [end]),
        )
        with runtime.db.writing() as session:
            made = operations.create(session, body)
            record(session, actor, made.id, "operation.created", request, made.id)
            made_id, made_name = made.id, made.name
    except (ValidationError, CorridorError) as error:
        return _list_page(
            request, runtime, actor, full=False, status_code=422, error=problems(error, text), form=typed
        )
    return _list_page(
        request,
        runtime,
        actor,
        full=False,
        done=text("admin.done.operation_created", name=made_name),
        made=made_id,
    )


def _operation_page(
    request: Request,
    runtime: Runtime,
    actor: Actor,
    operation_id: str,
    *,
    full: bool,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        listed = versions.listed(session, operation_id)
        current = versions.current(listed, operation)
    return show_operation(
        request,
        "admin_operation.html",
        actor=actor,
        operation=operation,
        title_key="admin.operation",
        full=full,
        status_code=status_code,
        windows=operations.windows_of(operation),
        next_states=state_choices(operation.state),
        versions=listed,
        current=current.version if current else None,
        **context,
    )


@router.get("/operations/{operation_id}/admin")
def operation_admin(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> HTMLResponse:
    return _operation_page(request, runtime, actor, operation_id, full=True)


@router.post("/operations/{operation_id}/admin/windows")
def change_windows(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
    start: Annotated[list[str] | None, Form()] = None,
    end: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    """Replace the operation's ceasefire windows with those in the form (an emptied row is removed)."""
    text = choose(request).text
    try:
        windows = parse_windows(start or [], end or [])
        with runtime.db.writing() as session:
            operation = operations.get(session, operation_id)
            operations.update(session, operation, OperationPatch(windows=windows))
            record(session, actor, operation_id, "operation.windows_changed", request)
    except (ValidationError, CorridorError) as error:
        return _operation_page(
            request, runtime, actor, operation_id, full=False, status_code=422, error=problems(error, text)
        )
    finally:
        runtime.operations.forget(operation_id)  # its start may have changed
    return _operation_page(
        request, runtime, actor, operation_id, full=False, done=text("admin.done.windows", n=len(windows))
    )


@router.post("/operations/{operation_id}/admin/state")
def change_state(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
    state: Annotated[str, Form(max_length=20)],
) -> HTMLResponse:
    """Move the operation on: planning -> active <-> suspended -> closed (closing is for good)."""
    text = choose(request).text
    try:
        patch = OperationPatch.model_validate({"state": state})
        with runtime.db.writing() as session:
            operation = operations.get(session, operation_id)
            operations.update(session, operation, patch)
            record(session, actor, operation_id, "operation.state_changed", request, state)
    except (ValidationError, CorridorError) as error:
        code = 409 if isinstance(error, CorridorError) else 422
        return _operation_page(
            request, runtime, actor, operation_id, full=False, status_code=code, error=problems(error, text)
        )
    finally:
        runtime.operations.forget(operation_id)
    return _operation_page(
        request,
        runtime,
        actor,
        operation_id,
        full=False,
        done=text("admin.done.state", state=text("state." + state)),
    )


@router.post("/operations/{operation_id}/admin/plans/{version}/publish")
def publish_version(
    request: Request,
    operation_id: str,
    version: int,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> HTMLResponse:
    """Make a published plan version the one the operation follows again (its hash and times)."""
    text = choose(request).text
    try:
        with runtime.db.writing() as session:
            operation = operations.get(session, operation_id)
            found = versions.get(session, operation_id, version)
            operations.publish(
                session, operation, plan=versions.plan_of(found), nodes=dict(found.nodes), by=actor.label
            )
            record(session, actor, operation_id, "plan.published", request)
    except CorridorError as error:
        code = 404 if isinstance(error, NotFoundError) else 409
        return _operation_page(
            request, runtime, actor, operation_id, full=False, status_code=code, error=problems(error, text)
        )
    return _operation_page(
        request, runtime, actor, operation_id, full=False, done=text("admin.done.published", version=version)
    )
