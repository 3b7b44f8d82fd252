"""Incidents: report with photos or files as evidence; the list on a timeline and on the map.

Reporting calls the same services as ``POST /api/operations/{id}/incidents`` and its evidence
route: files are stored unaltered under their SHA-256 and their receipt is a custody event in the
ledger. Monitors see the incidents newest first, grouped by day and hour, and those with
coordinates on a small map; checkpoint marshals, who may report but not read, get the form alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.datastructures import FormData
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message, Receive

from corridor.core.errors import InputError
from corridor.server.auth import Actor, allowed, authorize
from corridor.server.deps import RuntimeDep, permit
from corridor.server.incidents import service
from corridor.server.incidents.routes import store_of
from corridor.server.incidents.schemas import IncidentIn, IncidentKind, IncidentOut
from corridor.server.incidents.tables import EvidenceFile, Incident
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.runtime import Runtime
from corridor.server.web.i18n import choose
from corridor.server.web.map import log_incidents_read
from corridor.server.web.nav import menu
from corridor.server.web.register import CLIENT_ID
from corridor.server.web.render import clock, page
from corridor.server.web.zones import Clock

router = APIRouter(include_in_schema=False)
KINDS: tuple[str, ...] = get_args(IncidentKind)
Text = Callable[..., str]
# Files one report may carry, and room for its text fields: the cap on the posted form.
MAX_FILES = 10
FORM_FIELDS_BYTES = 1024 * 1024
# Request fields and the form field that shows their errors.
FORM_FIELD = {"place_name": "place", "pcode": "point", "admin_level": "point"}


@dataclass
class Hour:
    label: str
    incidents: list[IncidentOut] = field(default_factory=list)


@dataclass
class Day:
    label: str
    hours: list[Hour] = field(default_factory=list)


class FormProblemsError(Exception):
    """Problems with the form, by field id, to show next to each field."""

    def __init__(self, marked: dict[str, str], status: int = 422) -> None:
        super().__init__(marked)
        self.marked = marked
        self.status = status


@router.get("/operations/{operation_id}/incidents")
def incidents_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("incidents.read")],
) -> HTMLResponse:
    """The timeline and map of the operation's incidents, and the form to report one."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        days, points = _timeline(session, runtime, operation_id, clock(request, operation))
    return _page(request, runtime, actor, operation, days=days, points=points)


@router.get("/operations/{operation_id}/incidents/new")
def report_form(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("incidents.write")],
) -> HTMLResponse:
    """The form alone, for those who report incidents without reading the others."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
    return _page(request, runtime, actor, operation, days=None, points=[])


@router.post("/operations/{operation_id}/incidents")
async def report(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("incidents.write")],
) -> HTMLResponse:
    """Record the reported incident and its files; errors go next to their fields (4xx) and the
    form keeps what was typed."""
    text = choose(request).text
    limit = runtime.settings.max_evidence_bytes
    try:
        form = await _form(request, limit, text)
    except FormProblemsError as problems:
        return _problems(request, problems, text)
    try:
        client_id = str(form.get("client_id") or "").strip().lower() or None
        if client_id is not None and not CLIENT_ID.fullmatch(client_id):
            raise FormProblemsError(
                {"description": f"client_id {client_id[:40]!r} is not a UUID: reload the page"}
            )
        stored = await run_in_threadpool(_stored, runtime, operation_id, client_id) if client_id else None
        if stored is not None:  # a resend from a phone's offline queue: the first send stands
            return _sent_before(request, stored, operation_id)
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if files:
            authorize(actor, "evidence.write", operation_id)
        operation = await run_in_threadpool(_operation, runtime, operation_id)
        body = _body(form, operation, text)
        data = [await _read(f, limit, text) for f in files]
        try:
            done = await run_in_threadpool(
                _report, runtime, operation_id, body, files, data, actor.label, client_id
            )
        except IntegrityError:
            # The same report sent twice at once: the other send stored it.
            stored = await run_in_threadpool(_stored, runtime, operation_id, client_id) if client_id else None
            if stored is None:
                raise
            return _sent_before(request, stored, operation_id)
    except FormProblemsError as problems:
        return _problems(request, problems, text)
    finally:
        await form.close()
    days: list[Day] | None = None
    points: list[dict[str, Any]] = []
    if allowed(actor, "incidents.read", operation_id):
        # The timeline shows every incident's description: a read of personal data, logged.
        days, points = await run_in_threadpool(_read_timeline, request, runtime, actor, operation_id)
    return page(
        request,
        "incidents_done.html",
        status_code=201,
        incident=done,
        operation_id=operation_id,
        operation=await run_in_threadpool(_operation, runtime, operation_id),  # its zone for times
        days=days,
        points=points,
        oob=True,
    )


def _problems(request: Request, problems: FormProblemsError, text: Text) -> HTMLResponse:
    return page(
        request,
        "incidents_errors.html",
        status_code=problems.status,
        summary=text("incidents.check_fields"),
        marked=problems.marked,
    )


async def _form(request: Request, limit: int, text: Text) -> FormData:
    """The posted form, refused (413) as soon as it is larger than ``MAX_FILES`` files of
    ``limit`` bytes: the multipart parser would otherwise keep an upload of any size on disk
    before a file's own size is checked."""
    cap = MAX_FILES * limit + FORM_FIELDS_BYTES
    too_large = FormProblemsError({"files": text("incidents.too_many", n=MAX_FILES, size=limit)}, 413)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise too_large
    capped = Request(request.scope, _capped(request.receive, cap))
    try:
        return await capped.form(max_files=MAX_FILES)
    except _BodyTooLargeError as error:
        raise too_large from error
    except (MultiPartException, HTTPException) as error:  # more than MAX_FILES files, or bad framing
        raise FormProblemsError({"files": text("incidents.too_many", n=MAX_FILES, size=limit)}) from error


class _BodyTooLargeError(Exception):
    """The request body went over its cap while it was read."""


def _capped(receive: Receive, cap: int) -> Receive:
    """``receive`` that fails once more than ``cap`` body bytes have come in."""
    seen = 0

    async def capped_receive() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise _BodyTooLargeError
        return message

    return capped_receive


def _page(
    request: Request,
    runtime: Runtime,
    actor: Actor,
    operation: Operation,
    *,
    days: list[Day] | None,
    points: list[dict[str, Any]],
) -> HTMLResponse:
    now = datetime.now(UTC)
    return page(
        request,
        "incidents.html",
        actor=actor,
        operation=operation,
        nav=menu(actor, operation.id),
        operation_id=operation.id,
        kinds=KINDS,
        route=operation.route,
        now=now.strftime("%Y-%m-%dT%H:%M"),
        may_write=allowed(actor, "incidents.write", operation.id),
        may_attach=allowed(actor, "evidence.write", operation.id),
        days=days,
        points=points,
        oob=False,
        route_points=_route_points(operation),
        tile_url=runtime.settings.tile_url,
    )


def _route_points(operation: Operation) -> list[dict[str, Any]]:
    """The route points that have coordinates written on the route, in route order."""
    return [
        {"lat": float(p["lat"]), "lon": float(p["lon"]), "name": p["name"]}
        for p in operation.route
        if isinstance(p.get("lat"), int | float) and isinstance(p.get("lon"), int | float)
    ]


def _body(form: FormData, operation: Operation, text: Text) -> IncidentIn:
    """The API's request body from the form, or the problems with each field."""
    marked: dict[str, str] = {}
    values = {key: str(form.get(key) or "").strip() for key in _TEXT_FIELDS}
    point = next((p for p in operation.route if p["id"] == values["point"]), None)
    if values["point"] and point is None:
        marked["point"] = text("incidents.unknown_point")
    occurred_at = _time(values["occurred_at"], values["utc_offset"])
    if occurred_at is None:
        marked["occurred_at"] = text("incidents.bad_time")
    coordinates: dict[str, float | None] = {}
    for name in ("lat", "lon"):
        try:
            coordinates[name] = float(values[name]) if values[name] else None
        except ValueError:
            marked[name] = text("incidents.bad_number")
    place = ", ".join(p for p in (values["place"], point["name"] if point else "") if p)
    body = {
        "kind": values["kind"],
        "occurred_at": occurred_at,
        "place_name": place or None,
        "pcode": point.get("pcode") if point else None,
        "admin_level": point.get("admin_level") if point else None,
        "description": values["description"],
        "vehicles": _codes(values["vehicles"]),
        "people": _codes(values["people"]),
        **coordinates,
    }
    try:
        checked = IncidentIn.model_validate(body)
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0])
            given = problem.get("input")
            message = text("incidents.required") if given in ("", None) else str(problem["msg"])
            marked.setdefault(FORM_FIELD.get(name, name), message)
        raise FormProblemsError(marked) from error
    if marked:
        raise FormProblemsError(marked)
    return checked


_TEXT_FIELDS = (
    "kind",
    "occurred_at",
    "utc_offset",
    "point",
    "place",
    "lat",
    "lon",
    "vehicles",
    "people",
    "description",
)


def _time(local: str, offset_minutes: str) -> datetime | None:
    """The moment typed in the phone's local time (``utc_offset`` minutes east of UTC)."""
    try:
        moment = datetime.fromisoformat(local)
        offset = int(offset_minutes or "0")
    except ValueError:
        return None
    if moment.tzinfo is None:
        if not -16 * 60 <= offset <= 16 * 60:
            return None
        moment = moment.replace(tzinfo=timezone(timedelta(minutes=offset)))
    return moment


def _codes(value: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", value) if code]


async def _read(file: UploadFile, limit: int, text: Text) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise FormProblemsError({"files": text("incidents.too_large", name=file.filename, n=limit)}, 413)
    return data


def _report(
    runtime: Runtime,
    operation_id: str,
    body: IncidentIn,
    files: list[UploadFile],
    data: list[bytes],
    reporter: str,
    client_id: str | None = None,
) -> IncidentOut:
    """The incident and its evidence, stored in one transaction (all or nothing)."""
    with runtime.db.writing() as session:
        try:
            incident = service.report(
                session, sealer=runtime.sealer, operation_id=operation_id, body=body, reporter=reporter
            )
        except InputError as error:
            if error.where not in ("vehicles", "people"):
                raise
            raise FormProblemsError({error.where: error.message}) from error
        incident.client_id = client_id
        evidence = [
            service.receive_evidence(
                session,
                store=store_of(runtime),
                incident=incident,
                data=content,
                filename=file.filename or "evidence",
                media_type=file.content_type or "application/octet-stream",
                note=None,
                receiver=reporter,
            )
            for file, content in zip(files, data, strict=True)
        ]
        return service.incident_out(runtime.sealer, incident, evidence)


def _sent_before(request: Request, stored: IncidentOut, operation_id: str) -> HTMLResponse:
    """The answer to a report sent again (same ``client_id``): what the first send stored (200)."""
    return page(
        request,
        "incidents_done.html",
        status_code=200,
        incident=stored,
        operation_id=operation_id,
        days=None,
        points=[],
        oob=True,
    )


def _stored(runtime: Runtime, operation_id: str, client_id: str) -> IncidentOut | None:
    """The incident (and its evidence) the report sent with ``client_id`` stored, if it was."""
    with runtime.db.reading() as session:
        incident = session.scalar(
            select(Incident).where(Incident.operation_id == operation_id, Incident.client_id == client_id)
        )
        if incident is None:
            return None
        evidence = list(session.scalars(select(EvidenceFile).where(EvidenceFile.incident_id == incident.id)))
        return service.incident_out(runtime.sealer, incident, evidence)


def _operation(runtime: Runtime, operation_id: str) -> Operation:
    with runtime.db.reading() as session:
        return operations.get(session, operation_id)


def _read_timeline(
    request: Request, runtime: Runtime, actor: Actor, operation_id: str
) -> tuple[list[Day], list[dict[str, Any]]]:
    with runtime.db.reading() as session:
        found = _timeline(
            session, runtime, operation_id, clock(request, operations.get(session, operation_id))
        )
    log_incidents_read(runtime, actor, operation_id, f"/operations/{operation_id}/incidents")
    return found


def _timeline(
    session: Session, runtime: Runtime, operation_id: str, said: Clock
) -> tuple[list[Day], list[dict[str, Any]]]:
    """Incidents newest first, grouped by day and hour in the operation's zone (``said``: the page
    names the zone); and the map's points, their time with the zone's name."""
    found = service.incidents_out(session, runtime.sealer, operation_id)[::-1]
    days: list[Day] = []
    for incident in found:
        at = said.local(incident.occurred_at)
        day, hour = at.strftime("%Y-%m-%d"), at.strftime("%H:00")
        if not days or days[-1].label != day:
            days.append(Day(day))
        if not days[-1].hours or days[-1].hours[-1].label != hour:
            days[-1].hours.append(Hour(hour))
        days[-1].hours[-1].incidents.append(incident)
    points = [
        {
            "lat": i.lat,
            "lon": i.lon,
            "kind": i.kind,
            "id": i.id,
            "when": said.stamp(i.occurred_at),
            "place": i.place_name or "",
        }
        for i in found
        if i.lat is not None and i.lon is not None
    ]
    return days, points
