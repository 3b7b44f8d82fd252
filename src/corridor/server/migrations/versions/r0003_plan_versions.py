"""Every plan published for an operation is kept whole, numbered 1, 2, 3... per operation
(``plan_versions``), so that the plan followed can be read back and compared with the next.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 03:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_versions",
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plan_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("nodes", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=150), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("evacuated", sa.Integer(), nullable=False),
        sa.Column("evacuees", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_plan_versions_operation_id_operations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation_id", "version", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint("operation_id", "plan_hash", name=op.f("uq_plan_versions_operation_id")),
    )


def downgrade() -> None:
    op.drop_table("plan_versions")
