"""The trips API and a re-plan's live state read the kept fold and the kept trip events
(``corridor.server.convoys.kept_trips``), not the whole ledger: their answers are those of the full
fold over every event, as scans come in (late ones too), and after the database changed under them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from corridor.ops.status import fold
from corridor.ops.trips import PlannedTrip, assign_trips, follow
from corridor.server.convoys import follow as followed
from corridor.server.convoys.kept_trips import _TRIP_ENTRIES, follows_trips, kept_trips
from corridor.server.convoys.schemas import TripOut
from corridor.server.db import Database
from corridor.server.ledger import service as ledger
from corridor.server.ledger.counts import ledger_rows, row_event
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from server.conftest import World

T0 = datetime(2016, 12, 15, 10, tzinfo=UTC)
VEHICLE_KINDS = ["departed", "checkpoint", "arrived", "returned"]
BUSES = ["bus-1", "bus-2"]


def _runtime(world: World) -> Runtime:
    runtime: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _scans(world: World, rng: random.Random, people: list[str], first: int, n: int) -> None:
    """Boardings (some naming a trip), vehicle scans (some naming a trip), people's other scans,
    in random order: some dated before those already sent."""
    batch = []
    for seq in range(first, first + n):
        roll = rng.random()
        kind = rng.choice(VEHICLE_KINDS)
        payload: dict[str, Any]
        if roll < 0.4:
            kind = "boarded"
            payload = {"person_id": rng.choice(people), "vehicle_id": rng.choice(BUSES), "point": "start"}
        elif roll < 0.8:
            payload = {"vehicle_id": rng.choice(BUSES), "point": rng.choice(["start", "cp1", "end"])}
        else:
            kind = rng.choice(["arrived", "checkpoint"])
            payload = {"person_id": rng.choice(people), "point": "end"}
        if rng.random() < 0.3:
            payload["trip"] = rng.randint(1, 3)
        batch.append(
            {
                "event_id": f"scanner-1-{seq}",
                "device_id": "scanner-1",
                "seq": seq,
                "device_time": (T0 + timedelta(minutes=rng.randint(0, 300))).isoformat(),
                "type": kind,
                "payload": payload,
            }
        )
    answer = world.client.post(world.url("/events/batch"), json={"events": batch}, headers=world.device)
    assert answer.status_code == 200, answer.text


def _full(world: World, now: datetime) -> tuple[list[Any], dict[str, tuple[str, int]]]:
    """The trips and who boarded what, from every event of the operation (a session of its own)."""
    db = Database(world.settings.database_url)
    try:
        with db.reading() as session:
            operation = operations.get(session, world.operation_id)
            route = operations.route_of(operation)
            events = list(ledger.events_of(session, operation.id))
            manifest = followed.manifest_of(session, operation)
            states = follow(
                trips=[PlannedTrip(b, 1) for b in BUSES],
                events=events,
                manifest=manifest,
                people=fold(events, route),
                route=route,
                now=now,
                margin_minutes=world.settings.grace_minutes,
            )
            _, boarded = assign_trips(events, manifest)
    finally:
        db.dispose()
    return states, boarded


def _kept(world: World, now: datetime) -> tuple[Any, dict[str, tuple[str, int]], int]:
    runtime = _runtime(world)
    with runtime.db.reading() as session:
        operation = operations.get(session, world.operation_id)
        events = followed.trip_events(session, runtime, operation)
        planned = [
            TripOut(
                vehicle=b,
                number=1,
                convoy_version=None,
                current=False,
                gathering=None,
                reception=None,
                load=[],
                planned_start=None,
                planned_boarding=None,
                planned_departure=None,
                planned_arrival=None,
                manifest=0,
            )
            for b in BUSES
        ]
        out = followed.trips(session, runtime, operation=operation, planned=planned, now=now)
        _, boarded = assign_trips(events, followed.manifest_of(session, operation))
    return out, boarded, len(events)


def _same(world: World, now: datetime) -> int:
    full, full_boarded = _full(world, now)
    kept, kept_boarded, count = _kept(world, now)
    assert kept_boarded == full_boarded
    got = [(t.vehicle, t.number, t.status, t.point, t.boarded, t.arrived, t.not_seen) for t in kept.trips]
    want = [
        (
            s.trip.vehicle,
            s.trip.number,
            s.status,
            s.state.progress_point,
            len(s.boarded),
            len(s.arrived),
            list(s.not_seen),
        )
        for s in full
    ]
    assert got == want
    return count


def test_trips_and_boardings_from_the_kept_events_are_the_full_folds(world: World) -> None:
    household = world.household(
        *({"name": f"Person {i}", "age_band": "18-59", "sex": "female"} for i in range(6))
    )
    people = [p["id"] for p in household["people"]]
    for bus in BUSES:
        world.vehicle(bus)
    rng = random.Random(13)
    now = T0 + timedelta(minutes=150)
    sent, counts = 1, []
    for n in (40, 25, 30):  # each batch: the kept events read only the entries since
        _scans(world, rng, people, sent, n)
        sent += n
        counts.append(_same(world, now))
        assert _same(world, T0 + timedelta(hours=8)) == counts[-1]
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0
    runtime = _runtime(world)
    store = kept_trips(runtime.counts)
    assert kept_trips(runtime.counts) is store  # one store beside the service's kept folds
    kept = store._kept[world.operation_id]
    assert kept.position > 0 and kept.keys == sorted(kept.keys)
    # A database that changed under it (the entry it stopped at has another hash): read again.
    kept.at_hash = "0" * 64
    assert _same(world, now) == counts[-1]
    assert store._kept[world.operation_id] is not kept
    # The trip entries are read by the kept fold's reader with a filter: its rows, and no others.
    with runtime.db.reading() as session:
        connection, top = session.connection(), store._kept[world.operation_id].position
        every = list(ledger_rows(connection, world.operation_id, 0, top))
        trips = list(ledger_rows(connection, world.operation_id, 0, top, only=_TRIP_ENTRIES))
    events = [row_event(r) for r in every]
    wanted = [
        r
        for r, e in zip(every, events, strict=True)
        if e.type.value == "boarded" or "person_id" not in e.payload
    ]
    assert 0 < len(trips) < len(every)
    assert [r[0] for r in trips] == [r[0] for r in wanted]


def test_only_what_follows_a_trip_is_kept() -> None:
    from corridor.ops.ledger import EventType, ScanEvent

    def event(kind: EventType, **payload: Any) -> ScanEvent:
        return ScanEvent("e", "d", 1, T0, kind, payload, T0)

    assert follows_trips(event(EventType.DEPARTED, vehicle_id="bus-1"))
    assert follows_trips(event(EventType.BOARDED, vehicle_id="bus-1", person_id="p"))
    assert not follows_trips(event(EventType.ARRIVED, vehicle_id="bus-1", person_id="p"))
    assert not follows_trips(event(EventType.BOARDED, person_id="p"))
    assert not follows_trips(event(EventType.DEPARTED, vehicle_id=""))
    assert not follows_trips(event(EventType.DEPARTED, vehicle_id=7))
