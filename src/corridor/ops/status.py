"""Current status of each person and vehicle: a fold over the ledger's events.

The fold depends only on the *set* of events, never on the order they reached the server: events
are deduplicated by id and applied in the order of their trusted time (ties broken by type,
device, seq and id): the device time corrected by the device's clock offset, never later than the
server received it, and for an event flagged as past belief the received time
(:mod:`corridor.ops.clock`). Rules, in the order they apply to an event:

* ``missing`` and ``detained`` raise an alarm; ``detained`` is worse than ``missing`` and a
  ``missing`` never lowers it;
* ``found`` clears ``missing``; ``released`` clears ``detained``; ``arrived`` and ``returned``
  (a sighting at the end of the journey) clear both;
* ``boarded``, ``departed`` and ``checkpoint`` are sightings: they move progress forward along the
  route but never back, and they never clear an alarm, however late they arrive (a detention, a
  release or a finding at a point also puts the subject at that point);
* so a stale event (device time before the current status) can only escalate a status;
* an event flagged as dated ahead of belief never clears an alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from corridor.ops.clock import clears, trusted_time
from corridor.ops.ledger import EventType, ScanEvent, check_repeat
from corridor.ops.route import Route


class Status(StrEnum):
    """Where a person or vehicle stands. ``registered`` means known but not yet seen moving."""

    REGISTERED = "registered"
    BOARDED = "boarded"  # for vehicles: departed
    CHECKPOINT = "passed_checkpoint"
    ARRIVED = "arrived"
    RETURNED = "returned"
    MISSING = "missing"
    DETAINED = "detained"


# Statuses of people or vehicles that have not yet reached safety.
STILL_INSIDE = frozenset(
    {Status.REGISTERED, Status.BOARDED, Status.CHECKPOINT, Status.MISSING, Status.DETAINED}
)

_SIGHTINGS = frozenset(
    {
        EventType.BOARDED,
        EventType.DEPARTED,
        EventType.CHECKPOINT,
        EventType.ARRIVED,
        EventType.RETURNED,
        EventType.FOUND,
        EventType.RELEASED,
    }
)
# Events that move a subject along the route (to the departure point when they name no point) ...
_PROGRESS = frozenset({EventType.BOARDED, EventType.DEPARTED, EventType.CHECKPOINT})
# ... and events that put it at a route point only when they name one.
_AT_NAMED_POINT = frozenset({EventType.DETAINED, EventType.FOUND, EventType.RELEASED})
# At equal device times: sightings first, then resolutions, then alarms (the worse news wins).
_TIE_ORDER = {
    EventType.REGISTERED: 0,
    EventType.BOARDED: 1,
    EventType.DEPARTED: 1,
    EventType.CHECKPOINT: 2,
    EventType.ARRIVED: 3,
    EventType.RETURNED: 3,
    EventType.FOUND: 4,
    EventType.RELEASED: 4,
    EventType.MISSING: 5,
    EventType.DETAINED: 6,
}


@dataclass(frozen=True)
class SubjectState:
    """The folded state of one person or vehicle.

    ``progress`` is the furthest route point reached (-1: not yet boarded); ``progress_at`` is when
    it was reached; ``alarm`` is ``missing`` or ``detained`` while one stands.
    """

    kind: str
    subject_id: str
    progress: int = -1
    progress_point: str | None = None
    progress_at: datetime | None = None
    finished: Status | None = None  # arrived or returned
    alarm: Status | None = None
    alarm_at: datetime | None = None
    alarm_point: str | None = None
    last_seen_at: datetime | None = None
    last_seen_point: str | None = None
    vehicle_id: str | None = None
    events: int = 0

    @property
    def status(self) -> Status:
        if self.alarm is not None:
            return self.alarm
        if self.finished is not None:
            return self.finished
        if self.progress > 0:
            return Status.CHECKPOINT
        if self.progress == 0:
            return Status.BOARDED
        return Status.REGISTERED


def order_key(event: ScanEvent) -> tuple[datetime, int, str, int, str]:
    """The order the fold applies events in: trusted time (:func:`corridor.ops.clock.trusted_time`),
    then a fixed tie-break."""
    return (
        trusted_time(event),
        _TIE_ORDER.get(event.type, 9),
        event.device_id,
        event.seq,
        event.event_id,
    )


def folded(kind: EventType) -> bool:
    """True for the event types the fold applies (the others name no movement of a subject)."""
    return kind in _TIE_ORDER


def unique_events(events: Iterable[ScanEvent]) -> list[ScanEvent]:
    """Drop harmless repeats; raise ConflictError on the same id with other content."""
    seen: dict[str, ScanEvent] = {}
    for event in events:
        stored = seen.get(event.event_id)
        if stored is None:
            seen[event.event_id] = event
        else:
            check_repeat(stored, event)
    return list(seen.values())


def fold(events: Iterable[ScanEvent], route: Route) -> dict[tuple[str, str], SubjectState]:
    """Current state of every subject named by ``events``, keyed by ``(kind, subject_id)``."""
    states: dict[tuple[str, str], SubjectState] = {}
    for event in sorted(unique_events(events), key=order_key):
        subject = event.subject
        if subject is None or not folded(event.type):
            continue
        current = states.get(subject) or SubjectState(kind=subject[0], subject_id=subject[1])
        states[subject] = apply(current, event, route)
    return states


def apply(state: SubjectState, event: ScanEvent, route: Route) -> SubjectState:
    """The state after one more event (events must come in :func:`order_key` order)."""
    state = replace(state, events=state.events + 1)
    when, point = trusted_time(event), event.point
    if event.type in _SIGHTINGS:
        state = replace(state, last_seen_at=when, last_seen_point=point or state.last_seen_point)
    if event.type is EventType.BOARDED and isinstance(event.payload.get("vehicle_id"), str):
        state = replace(state, vehicle_id=str(event.payload["vehicle_id"]))
    if event.type in _PROGRESS or (event.type in _AT_NAMED_POINT and point):
        state = _advance(state, route.index(point) if point else 0, point, when)
    if event.type in (EventType.ARRIVED, EventType.RETURNED):
        finished = Status.ARRIVED if event.type is EventType.ARRIVED else Status.RETURNED
        if finished is Status.ARRIVED:
            state = _advance(state, route.last, point or route.points[-1].id, when)
        if not clears(event):
            return replace(state, finished=finished)
        return replace(state, finished=finished, alarm=None, alarm_at=None, alarm_point=None)
    if event.type is EventType.MISSING and state.alarm is not Status.DETAINED:
        return replace(state, alarm=Status.MISSING, alarm_at=when, alarm_point=point)
    if event.type is EventType.DETAINED:
        return replace(state, alarm=Status.DETAINED, alarm_at=when, alarm_point=point)
    if not clears(event):
        return state
    if (event.type is EventType.FOUND and state.alarm is Status.MISSING) or (
        event.type is EventType.RELEASED and state.alarm is Status.DETAINED
    ):
        return replace(state, alarm=None, alarm_at=None, alarm_point=None)
    return state


def _advance(state: SubjectState, rank: int | None, point: str | None, when: datetime) -> SubjectState:
    rank = 0 if rank is None else rank
    if rank <= state.progress:
        return state
    return replace(state, progress=rank, progress_point=point, progress_at=when)
