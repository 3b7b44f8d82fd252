"""The chain hash covers every column a reader uses, and the ledger keeps signed checkpoints.

- ``ledger_cutover``: the record of the re-chaining below (one row, only when entries existed).
- ``ledger_checkpoints``: signed checkpoints of the head (``corridor.server.ledger.anchor``).
- Existing entries were chained by the first form of the hash (the event's content only). The old
  chain is verified first (the migration stops, changing nothing, if it is broken); then the
  cut-over is recorded (entries, old head, time) and every entry is chained again under the new
  hash (which also covers operation_id, received_at, subject_kind, subject_id and point), starting
  from the hash of the cut-over record instead of the genesis hash. ``verify-ledger`` checks the
  old chain up to the cut-over against the recorded old head, then the new chain.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 03:45:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from corridor.ops.ledger import (
    GENESIS,
    CutOver,
    EventType,
    Filing,
    ScanEvent,
    entry_hash,
    entry_hash_v1,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_entries = sa.table(
    "ledger_entries",
    sa.column("position", sa.BigInteger()),
    sa.column("operation_id", sa.String()),
    sa.column("event_id", sa.String()),
    sa.column("device_id", sa.String()),
    sa.column("seq", sa.BigInteger()),
    sa.column("device_time", sa.DateTime(timezone=True)),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("type", sa.String()),
    sa.column("subject_kind", sa.String()),
    sa.column("subject_id", sa.String()),
    sa.column("point", sa.String()),
    sa.column("payload", sa.Text()),
    sa.column("previous_hash", sa.String()),
    sa.column("entry_hash", sa.String()),
)
_head = sa.table(
    "ledger_head",
    sa.column("id", sa.Integer()),
    sa.column("count", sa.BigInteger()),
    sa.column("head_hash", sa.String()),
)
_PAGE = 5000


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rows(connection: sa.Connection) -> Iterator[tuple[ScanEvent, Filing, int]]:
    """Every entry in chain order, a page at a time (each page read whole before it is used)."""
    after = 0
    while True:
        page = connection.execute(
            sa.select(_entries).where(_entries.c.position > after).order_by(_entries.c.position).limit(_PAGE)
        ).all()
        if not page:
            return
        for r in page:
            event = ScanEvent(
                r.event_id, r.device_id, r.seq, _utc(r.device_time), EventType(r.type), json.loads(r.payload)
            )
            filing = Filing(r.operation_id, _utc(r.received_at), r.subject_kind, r.subject_id, r.point)
            yield event, filing, r.position
        after = page[-1].position


def _rewrite(connection: sa.Connection, hashes: list[dict[str, Any]]) -> None:
    if hashes:
        connection.execute(
            _entries.update()
            .where(_entries.c.position == sa.bindparam("p"))
            .values(previous_hash=sa.bindparam("prev"), entry_hash=sa.bindparam("h")),
            hashes,
        )
        hashes.clear()


def upgrade() -> None:
    op.create_table(
        "ledger_cutover",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("old_head", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_cutover")),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoints")),
    )
    with op.batch_alter_table("ledger_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_checkpoints_position"), ["position"], unique=False)
    _rechain(op.get_bind())


def _rechain(connection: sa.Connection) -> None:
    head = connection.execute(sa.select(_head).where(_head.c.id == 1)).first()
    if head is None or head._mapping["count"] == 0:
        return
    old = GENESIS
    count = 0
    for count, (event, _, position) in enumerate(_rows(connection), start=1):
        if position != count:
            raise RuntimeError(
                f"ledger entry {count} is missing (found entry {position}): the ledger is not re-chained; "
                "run `corridor verify-ledger` on a copy made before this migration and restore from backup"
            )
        old = entry_hash_v1(old, event)
    if count != head._mapping["count"] or old != head.head_hash:
        raise RuntimeError(
            "the ledger's chain does not verify under its first hash (an entry was changed or cut off): "
            "it is not re-chained; run `corridor verify-ledger` on a copy made before this migration"
        )
    record = CutOver(entries=count, old_head=old, at=datetime.now(UTC))
    start = record.hash()
    op.bulk_insert(
        sa.table(
            "ledger_cutover",
            sa.column("id", sa.Integer()),
            sa.column("version", sa.Integer()),
            sa.column("entries", sa.BigInteger()),
            sa.column("old_head", sa.String()),
            sa.column("at", sa.DateTime(timezone=True)),
            sa.column("start_hash", sa.String()),
        ),
        [
            {
                "id": 1,
                "version": record.version,
                "entries": count,
                "old_head": old,
                "at": record.at if connection.dialect.name != "sqlite" else record.at.replace(tzinfo=None),
                "start_hash": start,
            }
        ],
    )
    previous = start
    hashes: list[dict[str, Any]] = []
    for event, filing, position in _rows(connection):
        current = entry_hash(previous, event, filing)
        hashes.append({"p": position, "prev": previous, "h": current})
        previous = current
        if len(hashes) >= _PAGE:
            _rewrite(connection, hashes)
    _rewrite(connection, hashes)
    connection.execute(_head.update().where(_head.c.id == 1).values(head_hash=previous))


def downgrade() -> None:
    connection = op.get_bind()
    previous = GENESIS
    hashes: list[dict[str, Any]] = []
    for event, _, position in _rows(connection):
        current = entry_hash_v1(previous, event)
        hashes.append({"p": position, "prev": previous, "h": current})
        previous = current
        if len(hashes) >= _PAGE:
            _rewrite(connection, hashes)
    _rewrite(connection, hashes)
    connection.execute(_head.update().where(_head.c.id == 1).values(head_hash=previous))
    with op.batch_alter_table("ledger_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_checkpoints_position"))
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_cutover")
