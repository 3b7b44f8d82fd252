"""HTTP routes for scan events (single and batch), status and reconciliation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from corridor.ops.reconciliation import Overdue, Reconciliation
from corridor.ops.status import fold
from corridor.server.auth import Actor
from corridor.server.checkpoints import clock
from corridor.server.checkpoints.ingest import BatchRoute, EventRoute, store_batch, store_event
from corridor.server.checkpoints.schemas import (
    AlarmOut,
    BatchIn,
    BatchOut,
    CeasefireOut,
    CountsOut,
    DeviceClockOut,
    EventResult,
    GapOut,
    OverdueOut,
    ReconciliationOut,
    SingleEventIn,
    SubjectStatusOut,
)
from corridor.server.columns import utc_now
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.ledger import counts
from corridor.server.ledger import service as ledger
from corridor.server.operations import service as operations
from corridor.server.values import Moment

router = APIRouter(prefix="/api/operations/{operation_id}", tags=["checkpoints"])
AtQuery = Annotated[
    Moment | None,
    Query(description="Reconcile as at this time, with its UTC offset (default: now)."),
]


async def post_event(
    operation_id: str,
    body: SingleEventIn,
    response: Response,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("events.write")],
) -> EventResult:
    """Store one scan event. 201 stored; 200 repeat; 409 same id with other content; 422 invalid.

    The answer comes after the event is committed: an acknowledged event is stored."""
    stored = await store_event(runtime, operation_id, actor, body)
    response.status_code = stored.status
    assert isinstance(stored.body, EventResult)
    return stored.body


async def post_batch(
    operation_id: str,
    body: BatchIn,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("events.write")],
) -> BatchOut:
    """Store a batch (an offline device catching up). Each event gets its own outcome; the valid
    ones are stored even when others conflict or are rejected."""
    stored = await store_batch(runtime, operation_id, actor, body)
    return BatchOut.model_validate(stored.body)


# The scan endpoints carry the load: their routes answer scanners with a lean handler (see ingest).
router.add_api_route(
    "/events",
    post_event,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "A harmless repeat of a stored event"}},
    route_class_override=EventRoute,
)
router.add_api_route("/events/batch", post_batch, methods=["POST"], route_class_override=BatchRoute)


def _overdue(items: list[Overdue]) -> list[OverdueOut]:
    return [OverdueOut.model_validate(o, from_attributes=True) for o in items]


def _counts(result: Reconciliation) -> dict[str, object]:
    return {
        "at": result.at,
        "people": result.counts,
        "vehicles": result.vehicle_counts,
        "by_group": result.by_group,
        "by_gathering_point": result.by_gathering_point,
        "ceasefire": CeasefireOut.model_validate(result.ceasefire, from_attributes=True),
    }


def _reconcile(
    runtime: RuntimeDep, operation_id: str, at: datetime | None, *, only_counts: bool = False
) -> Reconciliation:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        return counts.reconciliation(
            runtime.counts,
            session,
            operation=operation,
            now=at or utc_now(),
            grace_minutes=runtime.settings.grace_minutes,
            only_counts=only_counts,
        )


@router.get("/counts")
def read_counts(
    operation_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("counts.read")],
    at: AtQuery = None,
) -> CountsOut:
    """Counts by status, group and gathering point, and the ceasefire time left (no one named)."""
    return CountsOut.model_validate(_counts(_reconcile(runtime, operation_id, at, only_counts=True)))


@router.get("/reconciliation")
def read_reconciliation(
    operation_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("reconciliation.read")],
    at: AtQuery = None,
) -> ReconciliationOut:
    """Counts, plus who boarded and was not seen at the next point in time, overdue vehicles,
    alarms (missing, detained) and devices whose data is still pending (gaps in their seq)."""
    result = _reconcile(runtime, operation_id, at)
    return ReconciliationOut.model_validate(
        {
            **_counts(result),
            "not_seen": _overdue(result.not_seen),
            "overdue_vehicles": _overdue(result.overdue_vehicles),
            "alarms": [
                AlarmOut(
                    kind=s.kind,
                    subject_id=s.subject_id,
                    status=str(s.status),
                    since=s.alarm_at,
                    point=s.alarm_point,
                )
                for s in result.alarms
            ],
            "data_pending": {
                device: [GapOut(first=a, last=b) for a, b in gaps]
                for device, gaps in result.data_pending.items()
            },
            "unknown_subjects": [f"{kind}:{sid}" for kind, sid in result.unknown_subjects],
        }
    )


@router.get("/status/{kind}/{subject_id}")
def read_status(
    operation_id: str,
    kind: Literal["person", "vehicle"],
    subject_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("reconciliation.read")],
) -> SubjectStatusOut:
    """The folded status of one person or vehicle (``kind`` is person or vehicle)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        events = ledger.events_about(session, operation_id, kind, subject_id)
        state = fold(events, operations.route_of(operation)).get((kind, subject_id))
    if state is None:
        raise NotFoundError(f"no events about {kind} {subject_id}", where="subject_id")
    return SubjectStatusOut(
        kind=kind,
        subject_id=subject_id,
        status=str(state.status),
        point=state.progress_point,
        last_seen_at=state.last_seen_at,
        last_seen_point=state.last_seen_point,
        vehicle_id=state.vehicle_id,
        events=state.events,
    )


@router.get("/clocks")
def read_clocks(
    operation_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("reconciliation.read")],
) -> list[DeviceClockOut]:
    """Each device's clock offset from the server's (device minus server, in seconds, estimated
    at every sync that sends the device's clock) and how many of its events were flagged as
    dated past belief; the worst first."""
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
        found = clock.device_clocks(session, operation_id)
    return [DeviceClockOut.model_validate(d, from_attributes=True) for d in found]
