"""Migration 0005 re-chains a ledger written under the first chain hash: the old chain is checked
first, the cut-over is recorded and starts the new chain, and verify-ledger checks both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text, update

from corridor.ops.ledger import GENESIS, EventType, Filing, ScanEvent, canonical_json, entry_hash_v1
from corridor.server.db import Database, upgrade
from corridor.server.ledger import service as ledger
from corridor.server.ledger.tables import LedgerHead, LedgerRow
from corridor.server.ledger_check import verify_ledger

T0 = datetime(2016, 12, 15, 10, tzinfo=UTC)


def old_ledger(url: str, count: int) -> str:
    """A database at revision 0004 holding ``count`` entries chained by the first hash."""
    upgrade(url, "0004")
    engine = create_engine(url)
    previous = GENESIS
    with engine.begin() as connection:
        for n in range(1, count + 1):
            kind = EventType.DETAINED if n % 3 == 0 else EventType.CHECKPOINT
            event = ScanEvent(
                f"e{n}",
                "scanner-1",
                n,
                T0 + timedelta(minutes=n),
                kind,
                {"person_id": f"p{n % 4}", "point": "cp1"},
            )
            filing = Filing.of(event, "op-1", T0 + timedelta(minutes=n, seconds=1))
            current = entry_hash_v1(previous, event)
            connection.execute(
                insert(LedgerRow).values(
                    position=n,
                    operation_id=filing.operation_id,
                    event_id=event.event_id,
                    device_id=event.device_id,
                    seq=event.seq,
                    device_time=event.device_time,
                    received_at=filing.received_at,
                    type=str(event.type),
                    subject_kind=filing.subject_kind,
                    subject_id=filing.subject_id,
                    point=filing.point,
                    payload=canonical_json(dict(event.payload)).decode(),
                    payload_sha256=event.payload_sha256,
                    previous_hash=previous,
                    entry_hash=current,
                )
            )
            previous = current
        connection.execute(
            update(LedgerHead).where(LedgerHead.id == 1).values(count=count, head_hash=previous)
        )
    engine.dispose()
    return previous


def test_the_old_chain_is_re_chained_from_a_recorded_cut_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old_head = old_ledger(url, 30)
    upgrade(url)
    check = verify_ledger(url)
    assert check.ok and check.cut_over == 30 and check.entries == 30, check.render()
    assert "cut-over at entry 30" in check.render()
    engine = create_engine(url)
    with engine.connect() as connection:
        cut = connection.execute(text("SELECT entries, old_head, start_hash FROM ledger_cutover")).one()
        first_link = connection.execute(
            text("SELECT previous_hash FROM ledger_entries WHERE position = 1")
        ).scalar()
    engine.dispose()
    assert cut.entries == 30 and cut.old_head == old_head and first_link == cut.start_hash != GENESIS
    # New entries go on from the re-chained head.
    db = Database(url)
    with db.writing() as session:
        event = ScanEvent(
            "e31", "scanner-1", 31, T0 + timedelta(hours=1), EventType.ARRIVED, {"person_id": "p1"}
        )
        [result] = ledger.append(session, operation_id="op-1", events=[event], validate=lambda _: None)
    db.dispose()
    assert result.position == 31 and verify_ledger(url).ok


def test_an_entry_before_the_cut_over_edited_and_re_chained_is_found(tmp_path: Path) -> None:
    """A forger who edits an old entry and recomputes the new chain still misses the old head."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old_ledger(url, 12)
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE ledger_entries SET type = 'released' WHERE position = 6"))
    engine.dispose()
    assert verify_ledger(url).first_bad_position == 6  # the new chain first
    _recompute_new_chain(url)
    check = verify_ledger(url)
    assert check.chain.ok is False and "cut-over" in check.problem, check.render()


def _recompute_new_chain(url: str) -> None:
    from sqlalchemy import select

    from corridor.ops.ledger import entry_hash
    from corridor.server.ledger.chain_tables import LedgerCutOver
    from corridor.server.ledger_check import entry_of

    db = Database(url)
    with db.writing() as session:
        cut = session.get(LedgerCutOver, 1)
        assert cut is not None
        previous = cut.start_hash
        for row in session.scalars(select(LedgerRow).order_by(LedgerRow.position)):
            entry = entry_of(row)
            assert entry.filing is not None
            row.previous_hash = previous
            row.entry_hash = previous = entry_hash(previous, entry.event, entry.filing)
        head = session.get(LedgerHead, 1)
        assert head is not None
        head.head_hash = previous
    db.dispose()


def test_a_broken_old_chain_is_not_re_chained(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old_ledger(url, 5)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE ledger_entries SET type = 'arrived' WHERE position = 3"))
    engine.dispose()
    with pytest.raises(RuntimeError, match="does not verify under its first hash"):
        upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert version == "0004"  # nothing changed


def test_an_empty_ledger_needs_no_cut_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    upgrade(url)
    check = verify_ledger(url)
    assert check.ok and check.cut_over is None and check.entries == 0
