"""``counts_snapshots``: each operation's kept fold of its events, saved at a ledger position
with the hash there, so that a restarted service extends it instead of folding every entry.

Revision ID: 0011_counts_snapshot
Revises: 0010
Create Date: 2026-12-07 09:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_counts_snapshot"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counts_snapshots",
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("at_hash", sa.String(length=64), nullable=False),
        sa.Column("route_hash", sa.String(length=64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("operation_id", name=op.f("pk_counts_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("counts_snapshots")
