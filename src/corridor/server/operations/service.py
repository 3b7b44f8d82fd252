"""Operations: create, read, change state, route and windows; publish the plan they follow."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, InputError
from corridor.ops.reconciliation import Window
from corridor.ops.route import PointKind, Route, RoutePoint, planned_segments, route_problems
from corridor.plan.model import Plan
from corridor.server.columns import utc_now
from corridor.server.errors import NotFoundError
from corridor.server.ids import new_id
from corridor.server.operations import versions
from corridor.server.operations.schemas import (
    OperationIn,
    OperationPatch,
    PointIn,
    PublishedPlanOut,
    SegmentOut,
    WindowIn,
)
from corridor.server.operations.tables import Operation, PlanVersion

# Which state may follow which.
TRANSITIONS = {
    "planning": {"active", "closed"},
    "active": {"suspended", "closed"},
    "suspended": {"active", "closed"},
    "closed": set(),
}


def get(session: Session, operation_id: str) -> Operation:
    operation = session.get(Operation, operation_id)
    if operation is None:
        raise NotFoundError(
            f"no operation {operation_id}", where="operation_id", hint="list them at GET /api/operations"
        )
    return operation


def create(session: Session, body: OperationIn) -> Operation:
    if session.scalar(select(Operation.id).where(Operation.name == body.name)) is not None:
        raise ConflictError(
            f"an operation named {body.name!r} exists already", where="name", hint="choose another name"
        )
    _check_route(body.route)
    check_windows(body.windows)
    _check_links(session, body.linked_operations)
    operation = Operation(
        id=new_id(),
        name=body.name,
        scenario_name=body.scenario_name,
        plan_hash=body.plan_hash,
        state="planning",
        route=[p.model_dump(mode="json") for p in body.route],
        windows=[w.model_dump(mode="json") for w in body.windows],
        linked_operations=body.linked_operations,
        created_at=utc_now(),
    )
    session.add(operation)
    session.flush()
    return operation


def update(session: Session, operation: Operation, patch: OperationPatch) -> Operation:
    if operation.state == "closed":
        raise ConflictError("the operation is closed", where="state", hint="closed operations cannot change")
    if patch.state is not None and patch.state != operation.state:
        if patch.state not in TRANSITIONS[operation.state]:
            allowed = ", ".join(sorted(TRANSITIONS[operation.state]))
            raise ConflictError(
                f"cannot go from {operation.state} to {patch.state}",
                where="state",
                hint=f"from {operation.state} the next state is one of: {allowed}",
            )
        operation.state = patch.state
        if patch.state == "closed":
            operation.closed_at = utc_now()
    if patch.plan_hash is not None:
        if patch.plan_hash != operation.plan_hash:
            # Another plan: the published plan's times no longer apply.
            operation.published_plan = None
        operation.plan_hash = patch.plan_hash
    if patch.route is not None:
        _check_route(patch.route)
        operation.route = [p.model_dump(mode="json") for p in patch.route]
    if patch.windows is not None:
        check_windows(patch.windows)
        operation.windows = [w.model_dump(mode="json") for w in patch.windows]
    if patch.linked_operations is not None:
        _check_links(session, patch.linked_operations)
        operation.linked_operations = patch.linked_operations
    session.flush()
    return operation


def list_for(session: Session, operation_ids: set[str] | None) -> list[Operation]:
    query = select(Operation).order_by(Operation.created_at)
    if operation_ids is not None:
        query = query.where(Operation.id.in_(operation_ids))
    return list(session.scalars(query))


def route_of(operation: Operation) -> Route:
    """The route with the published plan's minutes for the segments the plan covers."""
    points = tuple(_point(p) for p in operation.route)
    return Route(points, planned=_planned(points, operation.published_plan))


def publish(
    session: Session, operation: Operation, *, plan: Plan, nodes: dict[str, str], by: str
) -> PlanVersion:
    """Make ``plan`` the operation's plan: its hash, and its minutes for each route segment;
    the plan is kept whole as the operation's next version (see :mod:`versions`), unless the
    operation holds it already (a repeated publish adds no version).

    The plan must be made from the operation's scenario and pass at least one pair of
    consecutive route points; segments it does not pass keep the route's written times.
    """
    if operation.state == "closed":
        raise ConflictError("the operation is closed", where="state", hint="closed operations cannot change")
    if plan.scenario != operation.scenario_name:
        raise InputError(
            f"the plan is for scenario {plan.scenario!r}, the operation for {operation.scenario_name!r}",
            where="plan.scenario",
            hint="publish a plan made from the operation's scenario (or correct its scenario_name)",
        )
    points = tuple(_point(p) for p in operation.route)
    unknown = sorted(set(nodes) - {p.id for p in points})
    if unknown:
        raise InputError(
            f"nodes names points that are not on the route: {', '.join(unknown)}",
            where="nodes",
            hint="map route point ids to network node ids",
        )
    segments = planned_segments(plan, points, nodes)
    if all(m is None for m in segments):
        ends = " -> ".join(nodes.get(p.id, p.id) for p in points)
        raise InputError(
            f"no route of the plan passes two consecutive route points in order (nodes {ends})",
            where="nodes",
            hint='map each route point to the network node it stands at, e.g. {"start": "n12"}',
        )
    version = versions.record(session, operation, plan=plan, nodes=nodes, by=by)
    operation.plan_hash = version.plan_hash
    operation.published_plan = {
        "plan_hash": version.plan_hash,
        "version": version.version,
        "published_at": version.published_at.isoformat(),
        "published_by": version.published_by,
        "method": version.method,
        "nodes": dict(version.nodes),
        "segments": [
            {"from": a.id, "to": b.id, "minutes": m}
            for (a, b), m in zip(itertools.pairwise(points), segments, strict=True)
        ],
    }
    session.flush()
    return version


def published_plan_of(operation: Operation) -> PublishedPlanOut:
    """The plan the operation follows and the expected minutes of each route segment."""
    route = route_of(operation)
    record = operation.published_plan or {}
    published_at = record.get("published_at")
    return PublishedPlanOut(
        plan_hash=operation.plan_hash,
        published_at=datetime.fromisoformat(published_at) if published_at else None,
        published_by=record.get("published_by"),
        version=record.get("version"),
        method=record.get("method"),
        segments=[
            SegmentOut(
                from_point=a.id,
                to_point=b.id,
                minutes=route.segment_minutes(i),
                source=route.segment_source(i),
                route_minutes=b.expected_minutes - a.expected_minutes,
            )
            for i, (a, b) in enumerate(itertools.pairwise(route.points))
        ],
    )


def _planned(points: tuple[RoutePoint, ...], record: dict[str, Any] | None) -> tuple[float | None, ...]:
    """The published minutes for each segment of the current route (kept by point pair, so a
    route edited after publishing keeps the plan's times for the segments that did not change)."""
    if not record:
        return ()
    by_pair = {(s["from"], s["to"]): s["minutes"] for s in record.get("segments", [])}
    planned = tuple(by_pair.get((a.id, b.id)) for a, b in itertools.pairwise(points))
    return planned if any(m is not None for m in planned) else ()


def windows_of(operation: Operation) -> list[Window]:
    return [
        Window(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
        for w in operation.windows
    ]


def _point(data: dict[str, Any]) -> RoutePoint:
    return RoutePoint(
        id=data["id"],
        name=data["name"],
        kind=PointKind(data["kind"]),
        expected_minutes=float(data["expected_minutes"]),
        pcode=data.get("pcode"),
        admin_level=data.get("admin_level"),
    )


def _check_route(points: list[PointIn]) -> None:
    problems = route_problems(
        [RoutePoint(p.id, p.name, p.kind, p.expected_minutes, p.pcode, p.admin_level) for p in points]
    )
    if problems:
        raise InputError(
            "; ".join(problems),
            where="route",
            hint="list the departure first, then the checkpoints in order, then the arrival",
        )


def check_windows(windows: list[WindowIn]) -> None:
    """Refuse ceasefire windows that overlap (422 naming ``windows``); touching ones are fine."""
    ordered = sorted(windows, key=lambda w: w.start)
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise InputError(
                f"the windows {before.start:%Y-%m-%d %H:%M} to {before.end:%Y-%m-%d %H:%M} and "
                f"{after.start:%Y-%m-%d %H:%M} to {after.end:%Y-%m-%d %H:%M} (UTC) overlap",
                where="windows",
                hint="let each window end before the next starts, or join them into one",
            )


def _check_links(session: Session, ids: list[str]) -> None:
    for operation_id in ids:
        if session.get(Operation, operation_id) is None:
            raise InputError(
                f"linked operation {operation_id} does not exist",
                where="linked_operations",
                hint="link only operations that exist",
            )
