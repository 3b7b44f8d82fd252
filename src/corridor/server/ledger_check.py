"""Prove the ledger untouched, or name the first entry that was changed (``corridor verify-ledger``).

Reads the stored entries in chain order straight from the database, recomputes every payload hash
and chain hash, and checks them against the head row. Needs no key and no running server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError
from corridor.ops.ledger import ChainCheck, EventType, LedgerEntry, ScanEvent, verify_chain
from corridor.server.db import make_engine
from corridor.server.ledger.tables import LedgerHead, LedgerRow


class _UnreadableError(Exception):
    def __init__(self, position: int, problem: str) -> None:
        self.position = position
        self.problem = problem


def _entries(session: Session) -> Iterator[LedgerEntry]:
    query = select(LedgerRow).order_by(LedgerRow.position).execution_options(yield_per=5000)
    for row in session.scalars(query):
        try:
            event = ScanEvent(
                event_id=row.event_id,
                device_id=row.device_id,
                seq=row.seq,
                device_time=row.device_time,
                type=EventType(row.type),
                payload=json.loads(row.payload),
            )
        except (ValueError, CorridorError) as exc:
            raise _UnreadableError(row.position, f"the stored entry cannot be read: {exc}") from exc
        yield LedgerEntry(
            position=row.position,
            event=event,
            previous_hash=row.previous_hash,
            entry_hash=row.entry_hash,
            stored_payload_sha256=row.payload_sha256,
        )


def check_session(session: Session) -> ChainCheck:
    """Verify the ledger through an open session."""
    head = session.get(LedgerHead, 1)
    try:
        return verify_chain(
            _entries(session),
            expected_count=head.count if head else None,
            expected_head=head.head_hash if head else None,
        )
    except _UnreadableError as exc:
        return ChainCheck(exc.position - 1, exc.position, exc.problem)


def verify_ledger(db_url: str) -> ChainCheck:
    """Verify the whole ledger in the database at ``db_url``.

    ``result.ok`` is True when every entry is as it was written; otherwise
    ``result.first_bad_position`` names the first changed entry and ``result.problem`` says how.
    ``result.render()`` gives one line for a person.
    """
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return check_session(session)
    finally:
        engine.dispose()
