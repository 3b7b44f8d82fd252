"""The ledger's batch path: a group of events appended at once gets the answers and the entries it
would get appended one by one, and every entry's hashes are the ones the ledger defines.

The group path writes the hashed bytes directly, binds values as the driver takes them and looks
up stored events for the whole group in one statement; these tests hold it to the plain rules
(``corridor.ops.ledger``) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from corridor.ops.ledger import (
    GENESIS,
    EventType,
    Filing,
    ScanEvent,
    entry_hash,
    payload_sha256,
    verify_chain,
)
from corridor.server.auth import Actor
from corridor.server.checkpoints import service
from corridor.server.checkpoints.schemas import BatchOut, EventIn
from corridor.server.db import Database
from corridor.server.ledger import service as ledger
from corridor.server.ledger.service import _row
from corridor.server.ledger.tables import LedgerHead, LedgerRow
from corridor.server.ledger_check import entry_of
from corridor.server.operations import service as operations
from server.conftest import World

# -- the hashes: the bytes written directly are canonical_json(event.content()) -------------------

texts = st.text(min_size=1, max_size=12)  # quotes, control characters, non-ASCII
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
times = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=11))]
    ),
)
scan_events = st.builds(
    ScanEvent,
    event_id=texts,
    device_id=texts,
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    device_time=times,
    type=st.sampled_from(list(EventType)),
    payload=st.dictionaries(st.text(max_size=8), values, max_size=6),
)


@given(event=scan_events, previous=st.sampled_from([GENESIS, "ab" * 32]))
def test_entry_hashes_are_the_ledgers_for_any_event(event: ScanEvent, previous: str) -> None:
    row = _row(1, previous, "op", event)
    assert row["entry_hash"] == entry_hash(previous, event, Filing.of(event, "op", row["received_at"]))
    assert row["payload_sha256"] == payload_sha256(event.payload)
    assert json.loads(row["payload"]) == json.loads(json.dumps(dict(event.payload)))
    assert (row["subject_kind"], row["subject_id"]) == (event.subject or (None, None))
    assert row["point"] == event.point


@given(event=scan_events, offset=st.integers(-12 * 60, 14 * 60))
def test_a_request_body_hashes_as_its_event(event: ScanEvent, offset: int) -> None:
    """The writer appends request bodies as they are: the same hash as the event made from them,
    whatever UTC offset the device sent."""
    body = EventIn.model_construct(
        event_id=event.event_id,
        device_id=event.device_id,
        seq=event.seq,
        device_time=event.device_time.astimezone(timezone(timedelta(minutes=offset))),
        type=event.type,
        payload=dict(event.payload),
    )
    row = _row(1, GENESIS, "op", body)
    filing = Filing.of(service.to_event(body), "op", row["received_at"])
    assert row["entry_hash"] == entry_hash(GENESIS, service.to_event(body), filing)


# -- a group against the same events one by one ---------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One event to send, before it is given the ids of one run."""

    key: int  # event id
    seq: int
    type: str
    subject: tuple[str, str]  # ("person_id" | "vehicle_id", "known" | "unknown" | a real id)
    point: str
    minute: int
    own: bool  # sent from the sender's own device id


specs = st.builds(
    Spec,
    key=st.integers(0, 5),
    seq=st.integers(1, 6),
    type=st.sampled_from(["boarded", "checkpoint", "arrived", "registered"]),
    subject=st.sampled_from(
        [
            ("person_id", "p0"),
            ("person_id", "p1"),
            ("person_id", "ghost"),
            ("vehicle_id", "BUS-1"),
            ("vehicle_id", "BUS-9"),
        ]
    ),
    point=st.sampled_from(["start", "cp1", "nowhere"]),
    minute=st.integers(0, 1),
    own=st.sampled_from([True, True, True, False]),
)
# Draw a few specs, then send them in any order with repeats, so that harmless repeats,
# conflicting repeats (same id, other content; same seq, other id) and rejections all occur.
plans = st.lists(specs, min_size=1, max_size=6).flatmap(
    lambda pool: st.lists(st.sampled_from(pool), min_size=1, max_size=24)
)


def _bodies(plan: Sequence[Spec], run: str, people: dict[str, str]) -> list[EventIn]:
    bodies = []
    for spec in plan:
        kind, subject = spec.subject
        bodies.append(
            EventIn(
                event_id=f"{run}-e{spec.key}",
                device_id=f"user:alice/{run}" if spec.own else f"scanner-{run}",
                seq=spec.seq,
                device_time=datetime(2016, 12, 15, 10, spec.minute, tzinfo=UTC),
                type=EventType(spec.type),
                payload={kind: people.get(subject, subject), "point": spec.point, "note": "رنا"},
            )
        )
    return bodies


def _answers(results: Sequence[ledger.AppendResult], run: str, first: int) -> list[tuple[Any, ...]]:
    """Results with this run's ids and positions taken out, to compare runs."""
    return [
        (
            r.outcome,
            None if r.position is None else r.position - first,
            None
            if r.error is None
            else (r.error.message.replace(run, "RUN"), str(r.error.where).replace(run, "RUN")),
        )
        for r in results
    ]


_CONTENT = (
    "event_id",
    "device_id",
    "seq",
    "device_time",
    "type",
    "subject_kind",
    "subject_id",
    "point",
    "payload",
    "payload_sha256",
)


def _entries(db: Database, run: str, first: int) -> list[tuple[Any, ...]]:
    with db.reading() as session:
        rows = session.scalars(
            select(LedgerRow).where(LedgerRow.position > first).order_by(LedgerRow.position)
        )
        return [
            (row.position - first, *(str(getattr(row, c)).replace(run, "RUN") for c in _CONTENT))
            for row in rows
        ]


def _head(db: Database) -> int:
    with db.reading() as session:
        head = session.get(LedgerHead, 1)
        assert head is not None
        return head.count


def _verify(db: Database) -> None:
    with db.reading() as session:
        rows = session.scalars(select(LedgerRow).order_by(LedgerRow.position)).all()
        head = session.get(LedgerHead, 1)
        assert head is not None
        entries = [entry_of(r) for r in rows]
        check = verify_chain(entries, expected_count=head.count, expected_head=head.head_hash)
    assert check.ok, check.render()


def _setup(world: World) -> tuple[Database, dict[str, str]]:
    household = world.household(
        {"name": "Rana", "age_band": "18-59", "sex": "female"},
        {"name": "Omar", "age_band": "5-11", "sex": "male"},
    )
    world.vehicle("BUS-1")
    people = {f"p{i}": p["id"] for i, p in enumerate(household["people"])}
    return Database(world.settings.database_url), people


def _record(db: Database, operation_id: str, bodies: Sequence[EventIn]) -> list[ledger.AppendResult]:
    sender = Actor("user", "alice")
    with db.writing() as session:
        operation = operations.get(session, operation_id)
        return service.record(session, operation=operation, senders=[sender] * len(bodies), bodies=bodies)


def _compare(
    db: Database, operation_id: str, plan: Sequence[Spec], people: dict[str, str], runs: Any
) -> None:
    group_run, single_run = next(runs), next(runs)
    first = _head(db)
    grouped = _record(db, operation_id, _bodies(plan, group_run, people))
    group_entries = _entries(db, group_run, first)
    middle = _head(db)
    single = [r for body in _bodies(plan, single_run, people) for r in _record(db, operation_id, [body])]
    assert _answers(grouped, group_run, first) == _answers(single, single_run, middle)
    assert group_entries == _entries(db, single_run, middle)
    assert {r.outcome for r in grouped} <= set(ledger.Outcome)


def test_a_mixed_group_answers_and_stores_as_one_by_one(world: World) -> None:
    db, people = _setup(world)
    plan = [
        Spec(0, 1, "boarded", ("person_id", "p0"), "start", 0, True),  # stored
        Spec(1, 2, "checkpoint", ("person_id", "ghost"), "cp1", 0, True),  # rejected: unknown person
        Spec(0, 1, "boarded", ("person_id", "p0"), "start", 0, True),  # repeat within the group
        Spec(0, 1, "boarded", ("person_id", "p1"), "start", 0, True),  # conflict: other content
        Spec(2, 1, "checkpoint", ("vehicle_id", "BUS-1"), "cp1", 0, True),  # conflict: seq 1 is taken
        Spec(3, 3, "checkpoint", ("vehicle_id", "BUS-1"), "nowhere", 0, True),  # rejected: point
        Spec(4, 4, "registered", ("person_id", "p1"), "start", 0, True),  # rejected: server type
        Spec(5, 5, "arrived", ("person_id", "p1"), "end", 1, False),  # rejected: not the sender's
        Spec(3, 3, "checkpoint", ("vehicle_id", "BUS-1"), "cp1", 1, True),  # stored
    ]
    runs = (f"r{i}" for i in itertools.count())
    _compare(db, world.operation_id, plan, people, runs)
    # and sent again later, every event meets the stored ones: repeats and conflicts only
    again = _record(db, world.operation_id, _bodies(plan, "r0", people))
    outcomes = [str(r.outcome) for r in again]
    assert outcomes == [
        *("repeat", "rejected", "repeat", "conflict", "conflict"),
        *("conflict", "rejected", "rejected", "repeat"),  # e3 is stored now, with point cp1
    ]
    _verify(db)
    db.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans)
def test_any_group_answers_and_stores_as_one_by_one(world: World, plan: list[Spec]) -> None:
    """Each example uses event and device ids of its own, so the examples share the database
    (and its ledger) without meeting each other's events."""
    db, people = _world_people(world)
    _compare(db, world.operation_id, plan, people, _RUNS)
    _verify(db)
    db.dispose()


_RUNS = (f"h{i}" for i in itertools.count())
_PEOPLE: dict[str, dict[str, str]] = {}


def _world_people(world: World) -> tuple[Database, dict[str, str]]:
    """The world's people, registered at the first example only."""
    if world.operation_id not in _PEOPLE:
        _PEOPLE[world.operation_id] = _setup(world)[1]
    return Database(world.settings.database_url), _PEOPLE[world.operation_id]


def test_the_batch_answer_is_the_batch_model(world: World) -> None:
    """The lean handler writes the batch answer from plain values: it must be BatchOut exactly."""
    household = world.household({"name": "Rana", "age_band": "18-59", "sex": "female"})
    person = household["people"][0]["id"]
    event = {
        "event_id": "scanner-1-1",
        "device_id": "scanner-1",
        "seq": 1,
        "device_time": "2016-12-15T10:00:00+03:00",
        "type": "boarded",
        "payload": {"person_id": person, "point": "start"},
    }
    ghost = {
        **event,
        "event_id": "scanner-1-2",
        "seq": 2,
        "payload": {"person_id": "ghost", "point": "start"},
    }
    other = {**event, "payload": {"person_id": person, "point": "cp1"}}
    answer = world.client.post(
        world.url("/events/batch"), json={"events": [event, ghost, event, other]}, headers=world.device
    )
    assert answer.status_code == 200, answer.text
    model = BatchOut.model_validate_json(answer.content)
    assert answer.content == model.model_dump_json().encode()
    assert (model.stored, model.repeats, model.conflicts, model.rejected) == (1, 1, 1, 1)
    assert model.results[3].where == "event_id scanner-1-1" and model.results[3].message


def test_one_body_sent_by_two_senders_is_checked_for_each(world: World) -> None:
    db, people = _setup(world)
    body = EventIn(
        event_id="bob-1",
        device_id="user:bob",
        seq=1,
        device_time=datetime(2016, 12, 15, 10, tzinfo=UTC),
        type=EventType.BOARDED,
        payload={"person_id": people["p0"], "point": "start"},
    )
    with db.writing() as session:
        operation = operations.get(session, world.operation_id)
        results = service.record(
            session,
            operation=operation,
            senders=[Actor("user", "alice"), Actor("user", "bob")],
            bodies=[body, body],
        )
    db.dispose()
    assert [str(r.outcome) for r in results] == ["rejected", "stored"]
