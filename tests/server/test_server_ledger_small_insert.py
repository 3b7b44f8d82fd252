"""A few new entries go to PostgreSQL in one statement with the head update; many go through COPY.
Both must store the same row for the same event, and the chain must verify across them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from corridor.ops.ledger import EventType, ScanEvent, verify_chain
from corridor.server.db import Database
from corridor.server.ledger import service as ledger
from corridor.server.ledger.tables import LedgerHead, LedgerRow
from corridor.server.ledger_check import entry_of
from corridor.server.settings import Settings

# Values whose stored form could differ between the two ways in: non-ASCII and escaped text,
# extreme years and offsets, microseconds, the largest seq, floats, nested payloads, no subject.
_TIMES = [
    datetime(1, 1, 2, 0, 0, 0, 1, tzinfo=UTC),
    datetime(999, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2016, 12, 15, 12, 30, 0, 123456, tzinfo=timezone(-timedelta(hours=11))),
    datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC),
]
_PAYLOADS: list[dict[str, Any]] = [
    {"person_id": "p-ü-\u0645\u0631\u064a\u0645", "point": "cp1", "note": 'a "quote" \\ and \t tab'},
    {"vehicle_id": "BUS-1", "point": "start", "load": 0.1, "big": 2**70, "neg": -1.5e-300},
    {"person_id": "", "vehicle_id": "", "point": "", "list": [1, None, True, {"x": "\u2028"}]},
    {"emoji": "\U0001f68c", "empty": {}, "nothing": None},
]


def _events(tag: str, count: int) -> list[ScanEvent]:
    return [
        ScanEvent(
            event_id=f"{tag}-{i}-\u00e9",
            device_id=f"dev-{tag}",
            seq=2**63 - 1 - i,
            device_time=_TIMES[i % len(_TIMES)],
            type=list(EventType)[i % len(EventType)],
            payload=_PAYLOADS[i % len(_PAYLOADS)],
        )
        for i in range(count)
    ]


def _append(db: Database, events: list[ScanEvent]) -> list[ledger.AppendResult]:
    with db.writing() as session:
        return ledger.append(session, operation_id="op-small", events=events, validate=lambda _: None)


def _stored(db: Database, tag: str) -> dict[int, tuple[Any, ...]]:
    """The stored rows of one run, by index within the run, without position and chain links."""
    skipped = {"position", "previous_hash", "entry_hash", "received_at", "event_id", "device_id"}
    columns = [c.name for c in LedgerRow.__table__.columns if c.name not in skipped]
    with db.reading() as session:
        rows = session.scalars(select(LedgerRow).where(LedgerRow.device_id == f"dev-{tag}")).all()
        return {int(row.event_id.split("-")[1]): tuple(getattr(row, c) for c in columns) for row in rows}


def test_few_and_many_entries_store_the_same_rows_and_chain(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        few = _events("few", 8)
        many = _events("many", ledger.SMALL_INSERT + 8)
        assert [r.outcome for r in _append(db, few)] == [ledger.Outcome.STORED] * len(few)
        assert [r.outcome for r in _append(db, many)] == [ledger.Outcome.STORED] * len(many)
        # repeats after both ways in are recognised as harmless: the stored fields read back equal
        again = _append(db, [few[3], many[5], *few[:2]])
        assert [r.outcome for r in again] == [ledger.Outcome.REPEAT] * 4
        stored_few, stored_many = _stored(db, "few"), _stored(db, "many")
        assert len(stored_few) == len(few)
        assert stored_few == {i: stored_many[i] for i in stored_few}
        with db.reading() as session:
            rows = session.scalars(select(LedgerRow).order_by(LedgerRow.position)).all()
            head = session.get(LedgerHead, ledger.HEAD_ID)
            assert head is not None
            entries = [entry_of(r) for r in rows]
            for row, event in zip(rows, few, strict=False):
                assert row.device_time == event.device_time
                assert ledger.row_to_event(row).same_as(event)
        assert head.count == len(few) + len(many)
        check = verify_chain(entries, expected_count=head.count, expected_head=head.head_hash)
        assert check.ok, check.render()
    finally:
        db.dispose()
