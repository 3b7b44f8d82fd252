"""Reconciliation: who is where, who was not seen where expected, what data is still pending.

Given the folded states, the registered people and vehicles, the route with the plan's expected
times and a moment ``now``:

* counts by status, overall, by vulnerability group and by gathering point;
* people who boarded (or passed a point) and were not seen at the next point by
  ``progress_at + planned minutes to the next point + grace``; vehicles overdue the same way.
  The planned minutes are the published plan's time for that segment when the route carries one
  (:func:`corridor.ops.route.planned_segments`), else the route's written ``expected_minutes``;
  each overdue entry says which (``expected_from``);
* a device whose sequence numbers have gaps has events still to come: people expected at a point
  that such a device reports from show as ``data pending``, not as not seen;
* the time left in the current ceasefire window against the people still inside.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from corridor.ops.route import Route
from corridor.ops.status import STILL_INSIDE, Status, SubjectState

NO_GROUP = "none"


@dataclass(frozen=True)
class PersonRecord:
    person_id: str
    household_id: str
    gathering_point: str | None
    vulnerabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeviceLog:
    """The sequence numbers received from one device and the route points it reported from.

    ``known_gaps``, when given, are the gaps already worked out from the sequence numbers (which
    may then be left out): a log kept up to date as events arrive need not sort them again."""

    device_id: str
    seqs: Sequence[int]
    points: frozenset[str] = frozenset()
    known_gaps: tuple[tuple[int, int], ...] | None = None

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """Missing sequence numbers as inclusive ranges, between 1 and the highest received."""
        if self.known_gaps is not None:
            return list(self.known_gaps)
        ranges: list[tuple[int, int]] = []
        expected = 1
        for seq in sorted(set(self.seqs)):
            if seq > expected:
                ranges.append((expected, seq - 1))
            expected = seq + 1
        return ranges


@dataclass(frozen=True)
class Window:
    """A ceasefire window ``[start, end)``."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Overdue:
    """A person or vehicle last reached ``last_point`` and was due at ``expected_point``;
    ``expected_from`` is ``plan`` when the published plan gave the time, ``route`` otherwise."""

    kind: str
    subject_id: str
    last_point: str | None
    last_seen_at: datetime | None
    expected_point: str
    expected_by: datetime
    data_pending: bool
    expected_from: str = "route"


@dataclass(frozen=True)
class Ceasefire:
    window_end: datetime | None
    minutes_left: float | None
    people_inside: int


@dataclass(frozen=True)
class Reconciliation:
    at: datetime
    counts: dict[str, int]
    by_group: dict[str, dict[str, int]]
    by_gathering_point: dict[str, dict[str, int]]
    vehicle_counts: dict[str, int]
    not_seen: list[Overdue]
    overdue_vehicles: list[Overdue]
    data_pending: dict[str, list[tuple[int, int]]]
    unknown_subjects: list[tuple[str, str]]
    ceasefire: Ceasefire
    alarms: list[SubjectState] = field(default_factory=list)


def reconcile(
    *,
    states: Mapping[tuple[str, str], SubjectState],
    people: Iterable[PersonRecord],
    vehicle_ids: Iterable[str],
    route: Route,
    devices: Iterable[DeviceLog],
    windows: Sequence[Window],
    now: datetime,
    grace_minutes: float = 30.0,
) -> Reconciliation:
    """Compare what was planned and registered with what the devices saw, at ``now``."""
    people = list(people)
    vehicle_ids = list(vehicle_ids)
    devices = list(devices)
    pending_points = {p for d in devices if d.gaps for p in d.points}
    person_states = [states.get(("person", p.person_id)) or _fresh("person", p.person_id) for p in people]
    vehicle_states = [states.get(("vehicle", v)) or _fresh("vehicle", v) for v in vehicle_ids]
    person_status = [s.status for s in person_states]  # each status worked out once
    vehicle_status = [s.status for s in vehicle_states]
    known = {("person", p.person_id) for p in people} | {("vehicle", v) for v in vehicle_ids}
    grace = timedelta(minutes=grace_minutes)
    return Reconciliation(
        at=now,
        counts=_count(person_status),
        by_group=_by_group(people, person_status),
        by_gathering_point=_by_point(people, person_status),
        vehicle_counts=_count(vehicle_status),
        not_seen=overdue(person_states, person_status, route, now, grace, pending_points),
        overdue_vehicles=overdue(vehicle_states, vehicle_status, route, now, grace, pending_points),
        data_pending={d.device_id: d.gaps for d in devices if d.gaps},
        unknown_subjects=sorted(key for key in states if key not in known),
        ceasefire=ceasefire(windows, now, sum(s in STILL_INSIDE for s in person_status)),
        alarms=[s for s in [*person_states, *vehicle_states] if s.alarm is not None],
    )


def _fresh(kind: str, subject_id: str) -> SubjectState:
    return SubjectState(kind=kind, subject_id=subject_id)


def _count(statuses: Iterable[Status]) -> dict[str, int]:
    counts = Counter(statuses)
    return {str(s): counts.get(s, 0) for s in Status}


def _by_group(people: Sequence[PersonRecord], statuses: Sequence[Status]) -> dict[str, dict[str, int]]:
    groups: dict[str, list[Status]] = {}
    for person, status in zip(people, statuses, strict=True):
        for group in person.vulnerabilities or (NO_GROUP,):
            groups.setdefault(group, []).append(status)
    return {group: _count(found) for group, found in sorted(groups.items())}


def _by_point(people: Sequence[PersonRecord], statuses: Sequence[Status]) -> dict[str, dict[str, int]]:
    points: dict[str, list[Status]] = {}
    for person, status in zip(people, statuses, strict=True):
        points.setdefault(person.gathering_point or NO_GROUP, []).append(status)
    return {point: _count(found) for point, found in sorted(points.items())}


def overdue(
    states: Sequence[SubjectState],
    statuses: Sequence[Status],
    route: Route,
    now: datetime,
    grace: timedelta,
    pending_points: set[str],
) -> list[Overdue]:
    found: list[Overdue] = []
    for state, status in zip(states, statuses, strict=True):
        if status not in (Status.BOARDED, Status.CHECKPOINT) or state.progress_at is None:
            continue
        if state.progress >= route.last:
            continue
        nxt = route.points[state.progress + 1]
        minutes = route.minutes_between(state.progress, state.progress + 1)
        expected_by = state.progress_at + timedelta(minutes=minutes) + grace
        if now > expected_by:
            found.append(
                Overdue(
                    kind=state.kind,
                    subject_id=state.subject_id,
                    last_point=state.progress_point,
                    last_seen_at=state.last_seen_at,
                    expected_point=nxt.id,
                    expected_by=expected_by,
                    data_pending=nxt.id in pending_points,
                    expected_from=route.segment_source(state.progress),
                )
            )
    return sorted(found, key=lambda o: (o.expected_by, o.subject_id))


def ceasefire(windows: Sequence[Window], now: datetime, inside: int) -> Ceasefire:
    for window in sorted(windows, key=lambda w: w.start):
        if window.start <= now < window.end:
            left = (window.end - now).total_seconds() / 60.0
            return Ceasefire(window_end=window.end, minutes_left=left, people_inside=inside)
    return Ceasefire(window_end=None, minutes_left=None, people_inside=inside)
