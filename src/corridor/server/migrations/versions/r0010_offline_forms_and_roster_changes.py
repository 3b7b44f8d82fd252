"""Forms sent from a phone's offline queue are stored once: households and incidents carry the
id the phone made for them (``client_id``, unique within an operation), so a resend finds what
the first send stored. And ``roster_changes``: what changed in the rosters that scanning phones
hold, so that a phone fetches only the changes since its cursor.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-07 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("households", "incidents"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("client_id", sa.String(length=36), nullable=True))
            batch.create_unique_constraint(f"uq_{table}_operation_id", ["operation_id", "client_id"])
    op.create_table(
        "roster_changes",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_roster_changes")),
    )
    op.create_index(op.f("ix_roster_changes_operation_id"), "roster_changes", ["operation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_roster_changes_operation_id"), table_name="roster_changes")
    op.drop_table("roster_changes")
    for table in ("incidents", "households"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_operation_id", type_="unique")
            batch.drop_column("client_id")
