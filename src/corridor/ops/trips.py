"""Trips followed one by one: a bus makes many trips, and scans, reconciliation and overdue alerts
follow each trip.

Which trip an event belongs to:

* an event whose payload names ``trip`` (1, 2, ...) belongs to that trip of its vehicle;
* a person's ``boarded`` event without ``trip`` belongs to the trip the person is on the manifest
  of, when it is on the vehicle named; else to the vehicle's current trip;
* a vehicle's event without ``trip`` belongs to the vehicle's current trip: the first trip, then
  the one after each trip the vehicle arrived from (events in device-time order).

A trip's state is the fold of its vehicle's events (:func:`corridor.ops.status.apply`), so it
moves along the route from the departure point to the arrival and never back. A trip is overdue
when it has started (an event, or someone boarded it) and has not arrived by its planned arrival
plus a margin. Who boarded a trip and was not seen further: a person who boarded it and has not
arrived, once the trip arrived or is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from corridor.ops.ledger import EventType, ScanEvent
from corridor.ops.route import Route
from corridor.ops.status import Status, SubjectState, apply, order_key, unique_events

TripKey = tuple[str, int]  # (vehicle code, trip number)


@dataclass(frozen=True)
class PlannedTrip:
    vehicle: str
    number: int
    planned_departure: datetime | None = None
    planned_arrival: datetime | None = None
    manifest: int = 0  # people on its manifest


@dataclass(frozen=True)
class TripState:
    """A trip's folded state, who boarded it and who of them was not seen further."""

    trip: PlannedTrip
    state: SubjectState
    boarded: tuple[str, ...]
    arrived: tuple[str, ...]
    not_seen: tuple[str, ...]
    overdue: bool
    expected_by: datetime | None

    @property
    def started(self) -> bool:
        return self.state.events > 0 or bool(self.boarded)

    @property
    def status(self) -> str:
        """planned, boarding, under_way, arrived or overdue."""
        if self.state.finished is Status.ARRIVED:
            return "arrived"
        if self.overdue:
            return "overdue"
        if self.state.progress >= 0 and self.state.events:
            return "under_way"
        return "boarding" if self.boarded else "planned"


def _trip_of(event: ScanEvent) -> int | None:
    value = event.payload.get("trip")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def assign_trips(
    events: Iterable[ScanEvent], manifest: Mapping[str, TripKey]
) -> tuple[dict[TripKey, list[ScanEvent]], dict[str, TripKey]]:
    """The vehicle events of each trip, and the trip each person boarded (their last boarding)."""
    vehicle_events: dict[TripKey, list[ScanEvent]] = {}
    boarded: dict[str, TripKey] = {}
    current: dict[str, int] = {}
    for event in sorted(unique_events(events), key=order_key):
        vehicle = event.payload.get("vehicle_id")
        person = event.payload.get("person_id")
        if not isinstance(vehicle, str) or not vehicle:
            continue
        trip = _trip_of(event)
        if isinstance(person, str) and person:
            if event.type is EventType.BOARDED:
                on = manifest.get(person)
                if trip is None:
                    trip = on[1] if on is not None and on[0] == vehicle else current.get(vehicle, 1)
                boarded[person] = (vehicle, trip)
            continue
        if trip is None:
            trip = current.get(vehicle, 1)
        vehicle_events.setdefault((vehicle, trip), []).append(event)
        current[vehicle] = trip + 1 if event.type in (EventType.ARRIVED, EventType.RETURNED) else trip
    return vehicle_events, boarded


def follow(
    *,
    trips: Sequence[PlannedTrip],
    events: Iterable[ScanEvent],
    manifest: Mapping[str, TripKey],
    people: Mapping[tuple[str, str], SubjectState],
    route: Route,
    now: datetime,
    margin_minutes: float,
) -> list[TripState]:
    """Every trip's state at ``now``; ``people`` is the fold of the operation's events."""
    by_trip, boarded = assign_trips(events, manifest)
    on_trip: dict[TripKey, list[str]] = {}
    for person, key in boarded.items():
        on_trip.setdefault(key, []).append(person)
    margin = timedelta(minutes=margin_minutes)
    known = {(t.vehicle, t.number) for t in trips}
    extra = [PlannedTrip(v, n) for v, n in sorted(set(by_trip) | set(on_trip)) if (v, n) not in known]
    result = []
    for trip in [*trips, *extra]:
        key = (trip.vehicle, trip.number)
        state = SubjectState(kind="trip", subject_id=f"{trip.vehicle}/{trip.number}")
        for event in by_trip.get(key, []):
            if event.device_time <= now:
                state = apply(state, event, route)
        riders = sorted(on_trip.get(key, []))
        arrived = tuple(
            p for p in riders if (s := people.get(("person", p))) is not None and s.finished is not None
        )
        expected_by = trip.planned_arrival + margin if trip.planned_arrival else None
        started = state.events > 0 or bool(riders)
        finished = state.finished is not None
        overdue = started and not finished and expected_by is not None and now > expected_by
        settled = finished or overdue
        not_seen = tuple(p for p in riders if p not in arrived) if settled else ()
        result.append(TripState(trip, state, tuple(riders), arrived, not_seen, overdue, expected_by))
    return result


__all__ = ["PlannedTrip", "TripKey", "TripState", "assign_trips", "follow"]
