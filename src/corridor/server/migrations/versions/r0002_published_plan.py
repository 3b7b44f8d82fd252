"""Operations keep the plan published for them: hash, route point to node mapping and the plan's
minutes per route segment (``operations.published_plan``, null until a plan is published).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("published_plan")
