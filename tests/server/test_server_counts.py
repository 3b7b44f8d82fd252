"""Counts and reconciliation kept by ledger position give exactly the full fold's answers."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.ops.ledger import EventType, ScanEvent
from corridor.ops.reconciliation import DeviceLog
from corridor.ops.route import PointKind, Route, RoutePoint
from corridor.ops.status import fold
from corridor.server.checkpoints import service
from corridor.server.db import Database
from corridor.server.ledger.counts import OperationFold
from corridor.server.operations import service as operations
from server.conftest import World

T0 = datetime(2016, 12, 15, 10, tzinfo=UTC)
ROUTE = Route(
    (
        RoutePoint("start", "Start", PointKind.DEPARTURE, 0),
        RoutePoint("cp1", "Checkpoint", PointKind.CHECKPOINT, 20),
        RoutePoint("end", "End", PointKind.ARRIVAL, 60),
    )
)
KINDS = [t for t in EventType if t not in (EventType.REGISTERED,)]

events_strategy = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.sampled_from(["p1", "p2", "p3", "bus-1"]),
        st.integers(0, 30),  # device minute: late and equal times on purpose
        st.sampled_from([None, "start", "cp1", "end"]),
        st.sampled_from(["dev-a", "dev-b", "server"]),
    ),
    max_size=40,
)


def make_events(raw: list[tuple[EventType, str, int, str | None, str]]) -> list[ScanEvent]:
    made = []
    seqs: dict[str, int] = {}
    for n, (kind, subject, minute, point, device) in enumerate(raw):
        seqs[device] = seqs.get(device, 0) + 1 + (n % 3 == 0)  # gaps now and then
        payload: dict[str, Any] = (
            {"vehicle_id": subject} if subject.startswith("bus") else {"person_id": subject}
        )
        if point:
            payload["point"] = point
        made.append(ScanEvent(f"e{n}", device, seqs[device], T0 + timedelta(minutes=minute), kind, payload))
    return made


@settings(max_examples=200, deadline=None)
@given(raw=events_strategy, cuts=st.lists(st.integers(0, 40), max_size=5))
def test_extending_the_fold_gives_the_full_fold(raw: list[Any], cuts: list[int]) -> None:
    """Events applied in arrival order, in pieces, with late ones folded again per subject,
    give the fold of all of them at every step."""
    events = make_events(raw)
    kept = OperationFold(ROUTE)
    bounds = sorted({0, len(events), *(c for c in cuts if c <= len(events))})
    for start, stop in itertools.pairwise(bounds):
        again = kept.add(events[start:stop])
        so_far = events[:stop]
        for subject in again:
            kept.refold(subject, [e for e in so_far if e.subject == subject])
        assert kept.states == fold(so_far, ROUTE)
        seqs: dict[str, list[int]] = {}
        for e in so_far:
            if e.device_id != "server":
                seqs.setdefault(e.device_id, []).append(e.seq)
        logs = {d.device_id: d.gaps for d in kept.device_logs()}
        assert logs == {device: DeviceLog(device, s).gaps for device, s in seqs.items()}


def _scan(
    n: int, kind: str, minute: int, person: str, point: str | None, device: str = "scanner-1"
) -> dict[str, Any]:
    payload: dict[str, Any] = {"person_id": person}
    if point:
        payload["point"] = point
    return {
        "event_id": f"{device}-{n}",
        "device_id": device,
        "seq": n,
        "device_time": (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z"),
        "type": kind,
        "payload": payload,
    }


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_the_service_answers_as_the_full_fold_on_both_databases(world: World, seed: int) -> None:
    """Through the service (SQLite and PostgreSQL): rounds of events in random order, some late;
    after each round the counts and reconciliation answered equal those of a full fold."""
    rng = random.Random(seed)
    if not getattr(world, "_people", None):
        household = world.household(
            *({"name": f"Person {i}", "age_band": "18-59", "sex": "female"} for i in range(6))
        )
        world.household({"name": "Other", "age_band": "60+", "sex": "male", "vulnerabilities": ["elderly"]},
                        gathering_point="gp-b")  # fmt: skip
        world.vehicle("bus-1")
        world._people = [p["id"] for p in household["people"]]  # type: ignore[attr-defined]
        world._seq = 0  # type: ignore[attr-defined]
    people: list[str] = world._people  # type: ignore[attr-defined]
    at = "2016-12-15T13:00:00Z"
    for _ in range(3):
        batch = []
        for _ in range(rng.randint(1, 12)):
            world._seq += 1 + (rng.random() < 0.1)  # type: ignore[attr-defined]
            kind = rng.choice(
                ["boarded", "checkpoint", "arrived", "missing", "found", "detained", "released"]
            )
            point = rng.choice([None, "start", "cp1", "end"])
            subject = rng.choice([*people, "stranger-1"])
            event = _scan(world._seq, kind, rng.randint(0, 120), subject, point)  # type: ignore[attr-defined]
            if rng.random() < 0.2:
                event["payload"] = {
                    "vehicle_id": rng.choice(["bus-1", "bus-x"]),
                    **({"point": point} if point else {}),
                }
            batch.append(event)
        answer = world.client.post(world.url("/events/batch"), json={"events": batch}, headers=world.device)
        assert answer.status_code == 200, answer.text
        kept = world.client.get(world.url("/reconciliation"), params={"at": at}, headers=world.coordinator)
        counts = world.client.get(world.url("/counts"), params={"at": at}, headers=world.coordinator)
        assert kept.status_code == counts.status_code == 200, kept.text
        db = Database(world.settings.database_url)
        with db.reading() as session:
            operation = operations.get(session, world.operation_id)
            full = service.reconciliation(
                session, operation=operation, now=datetime(2016, 12, 15, 13, tzinfo=UTC), grace_minutes=30.0
            )
        db.dispose()
        body = kept.json()
        assert body["people"] == full.counts and counts.json()["people"] == full.counts
        assert body["by_group"] == full.by_group and body["vehicles"] == full.vehicle_counts
        assert body["by_gathering_point"] == full.by_gathering_point
        assert body["ceasefire"]["people_inside"] == full.ceasefire.people_inside
        dashboard = counts.json()  # the counts alone, made without going through who is in transit
        assert (dashboard["by_group"], dashboard["vehicles"]) == (full.by_group, full.vehicle_counts)
        assert dashboard["by_gathering_point"] == full.by_gathering_point
        assert dashboard["ceasefire"]["people_inside"] == full.ceasefire.people_inside
        assert body["unknown_subjects"] == [f"{k}:{i}" for k, i in full.unknown_subjects]
        assert [o["subject_id"] for o in body["overdue_vehicles"]] == [
            o.subject_id for o in full.overdue_vehicles
        ]
        assert sorted((a["subject_id"], a["status"]) for a in body["alarms"]) == sorted(
            (s.subject_id, str(s.status)) for s in full.alarms
        )
        assert [o["subject_id"] for o in body["not_seen"]] == [o.subject_id for o in full.not_seen]
        assert {d: [(g["first"], g["last"]) for g in gaps] for d, gaps in body["data_pending"].items()} == {
            d: list(g) for d, g in full.data_pending.items()
        }


@settings(max_examples=300, deadline=None)
@given(seqs=st.lists(st.integers(1, 60), max_size=60))
def test_a_device_log_kept_as_seqs_arrive_has_the_gaps_of_all_of_them(seqs: list[int]) -> None:
    """Sequence numbers in any order, repeated or not: the gaps kept are those of the set."""
    from corridor.server.ledger.counts import _Device

    device = _Device()
    for n, seq in enumerate(seqs, start=1):
        device.add(seq)
        assert device.log("d").gaps == DeviceLog("d", seqs[:n]).gaps
