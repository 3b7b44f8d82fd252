"""Prove the ledger untouched, or name the first entry that was changed (``corridor verify-ledger``).

Reads the stored entries in chain order straight from the database and recomputes every payload
hash and chain hash (which covers every column a reader uses), checks them against the head row,
checks the old chain up to the cut-over when the ledger was re-chained, and checks every signed
checkpoint: its signature (with the public key of the signing key, kept apart from the database)
and that the chain passes through it. A chain edited and recomputed behind the service's back
verifies on its own but misses a checkpoint: the check then names the first entry after the last
checkpoint it still passes through. Needs no running server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError
from corridor.ops.ledger import (
    GENESIS,
    ChainCheck,
    CutOver,
    EventType,
    Filing,
    LedgerEntry,
    ScanEvent,
    verify_chain,
    verify_chain_v1,
)
from corridor.server.db import make_engine
from corridor.server.ledger import anchor
from corridor.server.ledger.chain_tables import LedgerCheckpoint, LedgerCutOver
from corridor.server.ledger.tables import LedgerHead, LedgerRow


class _UnreadableError(Exception):
    def __init__(self, position: int, problem: str) -> None:
        self.position = position
        self.problem = problem


def entry_of(row: LedgerRow) -> LedgerEntry:
    """A stored row as a ledger entry, every column the chain hash covers as stored."""
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
    return LedgerEntry(
        position=row.position,
        event=event,
        previous_hash=row.previous_hash,
        entry_hash=row.entry_hash,
        stored_payload_sha256=row.payload_sha256,
        filing=Filing(row.operation_id, row.received_at, row.subject_kind, row.subject_id, row.point),
    )


def _entries(session: Session, *, up_to: int | None = None) -> Iterator[LedgerRow]:
    query = select(LedgerRow).order_by(LedgerRow.position)
    if up_to is not None:
        query = query.where(LedgerRow.position <= up_to)
    yield from session.scalars(query.execution_options(yield_per=5000))


@dataclass(frozen=True)
class LedgerCheck:
    """What :func:`check_session` found: the chain, the cut-over and the signed checkpoints.

    ``first_bad_position`` is the first entry that can no longer be trusted (None when all is
    well): the entry found changed, or, when the chain was rewritten (edited and every hash
    recomputed), the first entry after the last signed checkpoint it still passes through."""

    chain: ChainCheck
    problem: str = ""
    first_bad_position: int | None = None
    checkpoints: int = 0
    last_good_checkpoint: int | None = None
    signatures_checked: bool = False
    cut_over: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_bad_position is None

    @property
    def unchecked(self) -> bool:
        """The chain holds together but its signed checkpoints were not checked (no key): a
        rewritten chain whose checkpoint rows were forged to match would look the same."""
        return self.ok and self.checkpoints > 0 and not self.signatures_checked

    @property
    def entries(self) -> int:
        return self.chain.entries

    @property
    def head_hash(self) -> str:
        return self.chain.head_hash

    def render(self) -> str:
        if not self.ok:
            return f"ledger changed at entry {self.first_bad_position}: {self.problem}"
        if self.unchecked:
            lines = [
                f"chain holds together ({self.entries} entries, head {self.head_hash}) but is NOT "
                f"proven intact: its {self.checkpoints} signed checkpoints are unchecked (no key), and "
                "a rewritten chain with forged checkpoints would look the same; give the signing key "
                "or its public key"
            ]
        elif self.checkpoints:
            lines = [
                self.chain.render(),
                f"passes through {self.checkpoints} signed checkpoints (signatures good); "
                f"last at entry {self.last_good_checkpoint}",
            ]
        else:
            lines = [
                self.chain.render(),
                "no signed checkpoint yet: a rewritten chain would not be noticed",
            ]
        if self.cut_over is not None:
            lines.append(f"old chain intact up to its cut-over at entry {self.cut_over}")
        lines.extend(self.notes)
        return "\n".join(lines)


def check_session(
    session: Session, public_key: Ed25519PublicKey | None = None, exports: Sequence[anchor.HeadExport] = ()
) -> LedgerCheck:
    """Verify the ledger through an open session; ``public_key`` checks the checkpoints'
    signatures; ``exports`` are heads exported earlier and kept elsewhere, checked as checkpoints."""
    head = session.get(LedgerHead, 1)
    cut = session.get(LedgerCutOver, 1)
    start = GENESIS
    cut_over: int | None = None
    if cut is not None:
        record = CutOver(cut.entries, cut.old_head, cut.at, cut.version)
        if record.hash() != cut.start_hash:
            problem = "the cut-over record was edited (its hash no longer matches)"
            return LedgerCheck(ChainCheck(0, 1, problem), problem, 1)
        start, cut_over = cut.start_hash, cut.entries
    checkpoints = list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.position)))
    checkpoints = sorted([*checkpoints, *(_as_checkpoint(e) for e in exports)], key=lambda c: c.position)
    wanted = {c.position for c in checkpoints}
    passed: dict[int, str] = {0: start}

    def watched() -> Iterator[LedgerEntry]:
        for row in _entries(session):
            entry = entry_of(row)
            yield entry
            if entry.position in wanted:
                passed[entry.position] = entry.entry_hash

    try:
        chain = verify_chain(
            watched(),
            expected_count=head.count if head else None,
            expected_head=head.head_hash if head else None,
            start_hash=start,
        )
    except _UnreadableError as exc:
        chain = ChainCheck(exc.position - 1, exc.position, exc.problem)
    if chain.ok and cut is not None:
        # The new chain holds: its entries up to the cut-over must also give the old chain's head.
        try:
            old = verify_chain_v1(
                (entry_of(r) for r in _entries(session, up_to=cut.entries)),
                count=cut.entries,
                old_head=cut.old_head,
            )
        except _UnreadableError as exc:
            old = ChainCheck(exc.position - 1, exc.position, exc.problem)
        if not old.ok:
            return LedgerCheck(old, old.problem, old.first_bad_position)
    if not chain.ok:
        # An entry whose hash was recorded as it passed may itself be the bad one.
        passed = {
            p: h
            for p, h in passed.items()
            if chain.first_bad_position is None or p < chain.first_bad_position
        }
    return _with_checkpoints(chain, checkpoints, passed, public_key, cut_over)


def _as_checkpoint(export: anchor.HeadExport) -> LedgerCheckpoint:
    return LedgerCheckpoint(
        position=export.position,
        head_hash=export.head_hash,
        signed_at=datetime.fromisoformat(export.signed_at.replace("Z", "+00:00")),
        key_id=export.key_id,
        signature=export.signature,
    )


def _with_checkpoints(
    chain: ChainCheck,
    checkpoints: list[LedgerCheckpoint],
    passed: dict[int, str],
    public_key: Ed25519PublicKey | None,
    cut_over: int | None,
) -> LedgerCheck:
    last_good: int | None = None
    for checkpoint in checkpoints:
        if public_key is not None and not anchor.signature_ok(public_key, checkpoint):
            problem = (
                f"the checkpoint at entry {checkpoint.position} "
                f"(signed {checkpoint.signed_at:%Y-%m-%d %H:%M}Z) does not carry a good signature "
                "by this key (forged or edited)"
            )
            return _rewritten(chain, problem, last_good, cut_over, len(checkpoints))
        found = passed.get(checkpoint.position)
        if found is None and chain.ok:
            problem = (
                f"a signed checkpoint is at entry {checkpoint.position} but the ledger holds "
                f"{chain.entries} entries (entries were cut off the end)"
            )
            return _rewritten(chain, problem, last_good, cut_over, len(checkpoints))
        if found is None:
            break  # beyond the first bad entry: the chain check names it
        if found != checkpoint.head_hash:
            problem = (
                f"the chain no longer passes through the checkpoint signed at entry "
                f"{checkpoint.position}: it was rewritten after "
                + (f"entry {last_good}, the last good checkpoint" if last_good else "its start")
            )
            return _rewritten(chain, problem, last_good, cut_over, len(checkpoints))
        last_good = checkpoint.position
    if not chain.ok:
        return LedgerCheck(
            chain,
            chain.problem,
            chain.first_bad_position,
            len(checkpoints),
            last_good,
            public_key is not None,
            cut_over,
        )
    return LedgerCheck(chain, "", None, len(checkpoints), last_good, public_key is not None, cut_over)


def _rewritten(
    chain: ChainCheck, problem: str, last_good: int | None, cut_over: int | None, count: int
) -> LedgerCheck:
    first = (last_good or 0) + 1
    if not chain.ok and chain.first_bad_position is not None:
        first = min(first, chain.first_bad_position)
    return LedgerCheck(chain, problem, first, count, last_good, True, cut_over)


def verify_ledger(
    db_url: str, public_key: Ed25519PublicKey | None = None, exports: Sequence[anchor.HeadExport] = ()
) -> LedgerCheck:
    """Verify the whole ledger in the database at ``db_url``.

    ``result.ok`` is True when every entry is as it was written and the chain passes through
    every signed checkpoint; otherwise ``result.first_bad_position`` names the first entry that
    can no longer be trusted and ``result.problem`` says why. ``result.render()`` is for a person.
    """
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return check_session(session, public_key, exports)
    finally:
        engine.dispose()
