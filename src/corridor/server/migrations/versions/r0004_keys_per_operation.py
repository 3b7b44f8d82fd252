"""Keys scoped by operation: a scanner's id, its sequence numbers and event ids are unique within
their operation only, so that nothing sent in one operation can collide with another's.

- ``ledger_entries``: unique (operation_id, device_id, seq) and (operation_id, event_id) instead
  of (device_id, seq) and (event_id). Every stored row keeps its place, its hash and its chain:
  the new keys are weaker than the old ones, so existing rows satisfy them.
- ``devices``: the primary key is (operation_id, device_id).
- Existing data: scanners enrolled under a name the service keeps for itself (``server``,
  ``user:...``; see ``corridor.server.access.names``) are revoked, and the server's own sequence
  counter is moved past every seq stored under the device ``server``, so that no event the
  server makes collides with one a scanner sent under that name before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:30:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_devices = sa.table(
    "devices",
    sa.column("device_id", sa.String()),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
)
_ledger = sa.table(
    "ledger_entries",
    sa.column("device_id", sa.String()),
    sa.column("seq", sa.BigInteger()),
)
_head = sa.table("ledger_head", sa.column("id", sa.Integer()), sa.column("server_seq", sa.BigInteger()))


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ledger_entries_device_seq", type_="unique")
        batch_op.drop_constraint("uq_ledger_entries_event_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_ledger_entries_operation_device_seq", ["operation_id", "device_id", "seq"]
        )
        batch_op.create_unique_constraint(
            "uq_ledger_entries_operation_event_id", ["operation_id", "event_id"]
        )

    with op.batch_alter_table("devices", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_devices", type_="primary")
        batch_op.create_primary_key("pk_devices", ["operation_id", "device_id"])

    reserved = sa.or_(
        sa.func.lower(_devices.c.device_id) == "server",
        sa.func.lower(_devices.c.device_id).like("server:%"),
        sa.func.lower(_devices.c.device_id).like("user:%"),
    )
    op.execute(
        _devices.update()
        .where(reserved, _devices.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    highest = sa.select(sa.func.max(_ledger.c.seq)).where(_ledger.c.device_id == "server").scalar_subquery()
    op.execute(
        _head.update()
        .where(_head.c.id == 1, sa.func.coalesce(highest, 0) > _head.c.server_seq)
        .values(server_seq=highest)
    )


def downgrade() -> None:
    # Fails, as it must, if two operations now share a device id, a device's seq or an event id.
    with op.batch_alter_table("devices", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_devices", type_="primary")
        batch_op.create_primary_key("pk_devices", ["device_id"])

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ledger_entries_operation_event_id", type_="unique")
        batch_op.drop_constraint("uq_ledger_entries_operation_device_seq", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_entries_device_seq", ["device_id", "seq"])
        batch_op.create_unique_constraint("uq_ledger_entries_event_id", ["event_id"])
