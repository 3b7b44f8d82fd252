"""The kept fold is saved in the database and, after a restart, loaded and extended with only the
newer entries, giving the full fold's answers; a snapshot the ledger no longer matches is ignored."""

from __future__ import annotations

import itertools
import json
import random
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from corridor.ops.reconciliation import DeviceLog, PersonRecord
from corridor.ops.status import SubjectState, fold
from corridor.server.app import create_app
from corridor.server.checkpoints import service
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.key_rotation import rotate_key
from corridor.server.ledger import snapshots
from corridor.server.ledger.counts import LedgerCounts, OperationFold
from corridor.server.ledger.snapshot_tables import CountsSnapshot
from corridor.server.ledger.tables import LedgerHead
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from server.conftest import World
from server.test_server_counts import ROUTE, _scan, events_strategy, make_events

AT = "2016-12-15T13:00:00Z"
NOW = datetime(2016, 12, 15, 13, tzinfo=UTC)


def test_a_snapshot_holds_every_field_of_a_state() -> None:
    assert tuple(f.name for f in fields(SubjectState)) == snapshots.STATE_FIELDS


PEOPLE = [
    PersonRecord("p1", "h1", "gp-a", ("elderly",)),
    PersonRecord("p2", "h1", "gp-a"),
    PersonRecord("p3", "h2", None, ("child", "disabled")),
]


def test_a_snapshot_written_a_row_at_a_time_is_the_json_of_one_call() -> None:
    saved = snapshots.Saved(7, "abc")
    saved.states["person", "p1"] = SubjectState("person", "p1", 2, "gp-a", NOW, events=3)
    saved.states["vehicle", "bus-1"] = SubjectState("vehicle", "bus-1")
    saved.devices["d1"] = (5, [(2, 3)], ["gp-a"])
    saved.people.update((p.person_id, p) for p in PEOPLE)
    text = zlib.decompress(snapshots.encode(saved)).decode("utf-8")
    assert text == json.dumps(json.loads(text), separators=(",", ":"))  # valid, and as one call writes it
    back = snapshots.decode(snapshots.encode(saved))
    assert (back.position, back.at_hash, back.states, back.devices, back.people) == (
        7,
        "abc",
        saved.states,
        saved.devices,
        saved.people,
    )


def _tally(kept: OperationFold) -> tuple[Any, ...]:
    t = kept.tally
    return (t.status, t.overall, t.groups, t.points, t.transit, t.alarmed, t.strangers)


@settings(max_examples=200, deadline=None)
@given(raw=events_strategy, cuts=st.lists(st.integers(0, 40), max_size=5))
def test_a_fold_saved_and_loaded_goes_on_as_the_full_fold(raw: list[Any], cuts: list[int]) -> None:
    """At every cut the kept fold is saved and loaded again (as after a restart), then extended
    with the events after the cut: the states and the devices' gaps are the full fold's, and the
    counts those of a fold never saved."""
    events = make_events(raw)
    kept, never_saved = OperationFold(ROUTE), OperationFold(ROUTE)
    for fold_ in (kept, never_saved):
        fold_.people = {p.person_id: p for p in PEOPLE}
        fold_.count(fold_.people)
    bounds = sorted({0, len(events), *(c for c in cuts if c <= len(events))})
    for start, stop in itertools.pairwise(bounds):
        so_far = events[:stop]
        for fold_ in (kept, never_saved):
            again = fold_.add(events[start:stop])
            for subject in again:
                fold_.refold(subject, [e for e in so_far if e.subject == subject])
            fold_.count()
        kept.position = stop
        kept.at_hash = f"hash-{stop}"
        kept = OperationFold.restore(ROUTE, snapshots.decode(snapshots.encode(kept.saved_copy())))
        assert kept.since == stop and kept.states == fold(so_far, ROUTE)
        assert kept.people == never_saved.people and _tally(kept) == _tally(never_saved)
        seqs: dict[str, list[int]] = {}
        for e in so_far:
            if e.device_id != "server":
                seqs.setdefault(e.device_id, []).append(e.seq)
        logs = {d.device_id: d.gaps for d in kept.device_logs()}
        assert logs == {device: DeviceLog(device, s).gaps for device, s in seqs.items()}


def _people(world: World) -> list[str]:
    household = world.household(
        *({"name": f"Person {i}", "age_band": "18-59", "sex": "female"} for i in range(6))
    )
    world.household(
        {"name": "Other", "age_band": "60+", "sex": "male", "vulnerabilities": ["elderly"]},
        gathering_point="gp-b",
    )
    world.vehicle("bus-1")
    return [p["id"] for p in household["people"]]


def _send(
    world: World, client: TestClient, rng: random.Random, people: list[str], first: int, n: int
) -> None:
    batch = []
    for seq in range(first, first + n):
        kind = rng.choice(["boarded", "checkpoint", "arrived", "missing", "found", "detained", "released"])
        point = rng.choice([None, "start", "cp1", "end"])
        batch.append(
            _scan(seq + (seq % 7 == 0), kind, rng.randint(0, 120), rng.choice([*people, "stranger"]), point)
        )
    answer = client.post(world.url("/events/batch"), json={"events": batch}, headers=world.device)
    assert answer.status_code == 200, answer.text


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _kept(client: TestClient, world: World) -> OperationFold:
    """The fold the service keeps for the world's operation (as its last request left it)."""
    runtime = _runtime(client)
    with runtime.db.reading() as session:
        route = operations.route_of(operations.get(session, world.operation_id))
        return runtime.counts.fold(session, world.operation_id, route)


def _same_as_full_fold(world: World, client: TestClient) -> None:
    kept = client.get(world.url("/reconciliation"), params={"at": AT}, headers=world.coordinator)
    assert kept.status_code == 200, kept.text
    db = Database(world.settings.database_url)
    with db.reading() as session:
        operation = operations.get(session, world.operation_id)
        full = service.reconciliation(session, operation=operation, now=NOW, grace_minutes=30.0)
    db.dispose()
    body = kept.json()
    assert body["people"] == full.counts and body["by_group"] == full.by_group
    assert body["by_gathering_point"] == full.by_gathering_point and body["vehicles"] == full.vehicle_counts
    assert body["unknown_subjects"] == [f"{k}:{i}" for k, i in full.unknown_subjects]
    assert sorted((a["subject_id"], a["status"]) for a in body["alarms"]) == sorted(
        (s.subject_id, str(s.status)) for s in full.alarms
    )
    assert [o["subject_id"] for o in body["not_seen"]] == [o.subject_id for o in full.not_seen]
    assert {d: [(g["first"], g["last"]) for g in gaps] for d, gaps in body["data_pending"].items()} == {
        d: list(g) for d, g in full.data_pending.items()
    }


@contextmanager
def _restarted(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings), raise_server_exceptions=False) as client:
        yield client


def test_after_a_restart_the_counts_start_from_the_snapshot(world: World) -> None:
    """Counts asked, the fold saved; the service started again: the first request loads the
    snapshot and reads only the entries since, and answers as the full fold."""
    rng = random.Random(5)
    people = _people(world)
    _send(world, world.client, rng, people, 1, 30)
    _same_as_full_fold(world, world.client)
    _runtime(world.client).counts.save_now()
    with world.client.app.state.runtime.db.reading() as session:  # type: ignore[attr-defined]
        row = session.get(CountsSnapshot, world.operation_id)
        assert row is not None
        saved_at = row.position
    _send(world, world.client, rng, people, 40, 20)  # stored after the snapshot
    with _restarted(world) as client:
        _same_as_full_fold(world, client)
        kept = _kept(client, world)
        assert kept.since == saved_at > 0
        assert kept.position > saved_at


def test_a_snapshot_the_ledger_no_longer_matches_is_ignored(world: World) -> None:
    """A snapshot whose hash is not the ledger's at its position (a rewritten chain, another
    database), or past the ledger's end (a restored backup): the fold is made from nothing."""
    rng = random.Random(8)
    people = _people(world)
    _send(world, world.client, rng, people, 1, 25)
    _same_as_full_fold(world, world.client)
    _runtime(world.client).counts.save_now()
    db = Database(world.settings.database_url)
    for change in ("at_hash = :bad", "position = position + 1000"):
        with db.writing() as session:
            session.execute(text(f"UPDATE counts_snapshots SET {change}"), {"bad": "0" * 64})
        with _restarted(world) as client:
            _same_as_full_fold(world, client)
            assert _kept(client, world).since == 0
            _runtime(client).counts.forget()  # what it saves when it stops is not the point here
        with db.writing() as session:
            session.execute(text("DELETE FROM counts_snapshots"))
        _runtime(world.client).counts.forget()
        _same_as_full_fold(world, world.client)
        _runtime(world.client).counts.save_now()
    db.dispose()


def test_the_snapshot_is_sealed_with_the_key_file(world: World) -> None:
    """The snapshot tells each person's status: it is encrypted as personal fields are."""
    people = _people(world)
    _send(world, world.client, random.Random(2), people, 1, 20)
    _same_as_full_fold(world, world.client)
    _runtime(world.client).counts.save_now()
    db = Database(world.settings.database_url)
    with db.reading() as session:
        row = session.get(CountsSnapshot, world.operation_id)
        assert row is not None
        body = bytes(row.body)
    db.dispose()
    assert not any(p.encode() in body for p in people) and b"detained" not in body
    opened = snapshots.decode(Sealer.from_file(world.settings.key_file).open_bytes(body))
    assert set(people) <= {s for k, s in opened.states if k == "person"}


def test_the_snapshots_are_saved_by_their_own_thread(world: World) -> None:
    """Past ``every`` new entries a request hands the fold to the saving thread; stopping saves
    what is left: the snapshot ends at the ledger's head."""
    people = _people(world)
    _send(world, world.client, random.Random(3), people, 1, 15)
    runtime = _runtime(world.client)
    counts = LedgerCounts(runtime.db, runtime.sealer, every=5)
    counts.start()
    with runtime.db.reading() as session:
        route = operations.route_of(operations.get(session, world.operation_id))
        kept = counts.fold(session, world.operation_id, route)
    counts.stop()
    with runtime.db.reading() as session:
        row = session.get(CountsSnapshot, world.operation_id)
        assert row is not None and row.position == kept.position


def test_a_rotated_key_seals_the_snapshot_again(world: World) -> None:
    """``corridor rotate-key`` encrypts the snapshot again: the new key alone opens it."""
    people = _people(world)
    _send(world, world.client, random.Random(4), people, 1, 10)
    _same_as_full_fold(world, world.client)
    _runtime(world.client).counts.save_now()
    rotate_key(world.settings.database_url, world.settings.key_file)
    db = Database(world.settings.database_url)
    with db.reading() as session:
        row = session.get(CountsSnapshot, world.operation_id)
        assert row is not None
        opened = Sealer.from_file(world.settings.key_file).open_bytes(bytes(row.body))
    db.dispose()
    assert snapshots.decode(opened).position == row.position


def test_the_saving_thread_follows_the_ledger_without_requests(world: World) -> None:
    """On its timer the thread brings the folds it keeps up to the head and saves them: entries
    stored after the last request end up in the snapshot with no request at all."""
    people = _people(world)
    _send(world, world.client, random.Random(6), people, 1, 10)
    runtime = _runtime(world.client)
    counts = LedgerCounts(runtime.db, runtime.sealer, minutes=0.001)
    counts.start()
    try:
        with runtime.db.reading() as session:
            route = operations.route_of(operations.get(session, world.operation_id))
            counts.fold(session, world.operation_id, route)
        _send(world, world.client, random.Random(7), people, 20, 10)
        with runtime.db.reading() as session:
            head = session.get(LedgerHead, 1)
            assert head is not None
            top = head.count
        for _ in range(600):  # the thread's ticks are 60 ms apart: wait for what it does, not a time
            with runtime.db.reading() as session:
                row = session.get(CountsSnapshot, world.operation_id)
                if row is not None and row.position == top:
                    break
            threading.Event().wait(0.1)
        assert row is not None and row.position == top
    finally:
        counts.stop()
