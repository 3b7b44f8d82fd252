"""The dashboard, the exports, the sitrep, the map, the scanning snapshot and family tracing read
the kept fold (``corridor.server.ledger.counts``), not the whole ledger: their answers are those
of the full fold."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from corridor.ops.status import Status, SubjectState, fold
from corridor.server.checkpoints import service as checkpoints
from corridor.server.db import Database
from corridor.server.exports import service as exports
from corridor.server.ledger import counts as kept
from corridor.server.ledger import service as ledger
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from server.conftest import World

T0 = datetime(2016, 12, 15, 10, tzinfo=UTC)
KINDS = ["boarded", "checkpoint", "arrived", "missing", "found", "detained", "released", "returned"]


def _events(world: World, rng: random.Random, people: list[str], first: int, n: int) -> None:
    """Scans in random order, some dated before those already sent (late), some of vehicles."""
    batch = []
    for seq in range(first, first + n):
        point = rng.choice([None, "start", "cp1", "end"])
        payload: dict[str, Any] = (
            {"vehicle_id": rng.choice(["bus-1", "bus-x"])}
            if rng.random() < 0.2
            else {"person_id": rng.choice([*people, "stranger"])}
        )
        if point:
            payload["point"] = point
        batch.append(
            {
                "event_id": f"scanner-1-{seq}",
                "device_id": "scanner-1",
                "seq": seq + (seq % 9 == 0),
                "device_time": (T0 + timedelta(minutes=rng.randint(0, 200))).isoformat(),
                "type": rng.choice(KINDS),
                "payload": payload,
            }
        )
    answer = world.client.post(world.url("/events/batch"), json={"events": batch}, headers=world.device)
    assert answer.status_code == 200, answer.text


def _setup(world: World) -> list[str]:
    household = world.household(
        *({"name": f"Person {i}", "age_band": "18-59", "sex": "female"} for i in range(8))
    )
    world.household(
        {"name": "Other", "age_band": "60+", "sex": "male", "vulnerabilities": ["elderly"]},
        gathering_point="gp-b",
    )
    world.vehicle("bus-1")
    return [p["id"] for p in household["people"]]


def _runtime(world: World) -> Runtime:
    runtime: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _full_states(world: World) -> dict[tuple[str, str], SubjectState]:
    db = Database(world.settings.database_url)
    with db.reading() as session:
        operation = operations.get(session, world.operation_id)
        states = fold(ledger.events_of(session, operation.id), operations.route_of(operation))
    db.dispose()
    return states


def test_the_kept_states_are_the_full_folds(world: World) -> None:
    """Round after round of scans (late ones too): every subject's kept state, and those of one
    kind, equal the full fold's."""
    rng = random.Random(1)
    people = _setup(world)
    runtime = _runtime(world)
    for round_ in range(3):
        _events(world, rng, people, 1 + 20 * round_, 20)
        full = _full_states(world)
        with runtime.db.reading() as session:
            operation = operations.get(session, world.operation_id)
            assert kept.kept_states(runtime.counts, session, operation) == full
            assert kept.kept_states(runtime.counts, session, operation, kind="vehicle") == {
                k: s for k, s in full.items() if k[0] == "vehicle"
            }
            for subject in [("person", people[0]), ("person", "nobody")]:
                assert kept.kept_state(runtime.counts, session, operation, subject) == full.get(subject)


def test_the_counts_export_and_the_sitrep_are_the_full_folds(world: World) -> None:
    rng = random.Random(2)
    people = _setup(world)
    _events(world, rng, people, 1, 40)
    runtime = _runtime(world)
    now = datetime(2016, 12, 15, 13, tzinfo=UTC)
    with runtime.db.reading() as session:
        operation = operations.get(session, world.operation_id)
        full = checkpoints.reconciliation(session, operation=operation, now=now, grace_minutes=30.0)
        sitrep = exports.sitrep_of(session, runtime.counts, operation=operation, now=now, grace_minutes=30.0)
    answer = world.client.get(world.url("/exports/counts.hxl.csv"), headers=world.coordinator)
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.text)))[2:]  # after the header and the HXL tags
    expected = list(exports.counts_rows(full))
    assert [r[:-1] for r in rows] == [[str(v) for v in e[:-1]] for e in expected]
    assert sitrep.people == full.counts and sitrep.vehicles == full.vehicle_counts
    assert sitrep.open_alarms == len(full.alarms) and sitrep.people_not_seen == len(full.not_seen)
    assert [o.vehicle for o in sitrep.overdue_vehicles] == [o.subject_id for o in full.overdue_vehicles]
    assert sorted(sitrep.arrivals) == sorted(exports.arrival_times(_full_states(world)))


def test_the_geojson_export_counts_as_the_full_fold(world: World) -> None:
    rng = random.Random(3)
    people = _setup(world)
    _events(world, rng, people, 1, 40)
    answer = world.client.get(world.url("/exports/operation.geojson"), headers=world.coordinator)
    assert answer.status_code == 200, answer.text
    features = answer.json()["features"]
    points = {f["properties"]["id"]: f["properties"] for f in features if f["properties"]["layer"] == "point"}
    expected: dict[str, dict[str, Counter[str]]] = {}
    for state in _full_states(world).values():
        if state.progress_point is not None:
            table = expected.setdefault(state.progress_point, {"person": Counter(), "vehicle": Counter()})
            table[state.kind][str(state.status)] += 1
    for point in ("start", "cp1", "end"):
        got = points[point]
        want = expected.get(point, {"person": Counter(), "vehicle": Counter()})
        assert {k: v for k, v in got["people"].items() if v} == dict(want["person"])
        assert {k: v for k, v in got["vehicles"].items() if v} == dict(want["vehicle"])


def test_the_scanning_snapshot_gives_the_full_folds_statuses(world: World) -> None:
    rng = random.Random(4)
    people = _setup(world)
    _events(world, rng, people, 1, 40)
    answer = world.client.get(f"/operations/{world.operation_id}/scan/snapshot", headers=world.coordinator)
    assert answer.status_code == 200, answer.text
    full = _full_states(world)
    body = answer.json()
    statuses = {row[0]: row[3] for row in body["people"]}
    for person in people:
        state = full.get(("person", person))
        assert statuses[person] == str(state.status if state else Status.REGISTERED)
