"""People are looked up by operation and id: the index on ``operation_id`` alone becomes one on
``(operation_id, id)``, which also serves every look-up by operation alone. SQLite chose the old
index for ``operation_id = ? AND id IN (...)`` with four ids or more and read every person of the
operation (inside the scans' write transaction, where a batch's people are checked).

Revision ID: 0012_people_operation_id
Revises: 0011_counts_snapshot
Create Date: 2026-12-07 16:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0012_people_operation_id"
down_revision = "0011_counts_snapshot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_people_operation_id_id", "people", ["operation_id", "id"])
    op.drop_index("ix_people_operation_id", table_name="people")


def downgrade() -> None:
    op.create_index("ix_people_operation_id", "people", ["operation_id"])
    op.drop_index("ix_people_operation_id_id", table_name="people")
