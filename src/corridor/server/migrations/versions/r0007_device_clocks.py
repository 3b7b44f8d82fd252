"""Device clocks: each device's clock offset (``device_clocks``), and the ledger entries whose
time was corrected by it or flagged as past belief (``event_clocks``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_clocks",
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("offset_seconds", sa.Float(), nullable=True),
        sa.Column("samples", sa.Text(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("operation_id", "device_id", name=op.f("pk_device_clocks")),
    )
    op.create_table(
        "event_clocks",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("offset_seconds", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_event_clocks")),
    )
    op.create_index(op.f("ix_event_clocks_operation_id"), "event_clocks", ["operation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_event_clocks_operation_id"), table_name="event_clocks")
    op.drop_table("event_clocks")
    op.drop_table("device_clocks")
