"""Notices to civilians and family tracing: ``notices`` (each notice numbered, a void version kept),
``notice_deliveries`` (posters and SMS batches sent, failures reported back), ``tracing_consents``
(a person's consent that a named relative learn their status; the code kept hashed) and
``tracing_queries`` (every query on the public tracing form).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-07 06:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _operation(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["operation_id"],
        ["operations.id"],
        name=op.f(f"fk_{table}_operation_id_operations"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("point", sa.String(length=200), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=True),
        sa.Column("convoy_version", sa.Integer(), nullable=True),
        _when("issued_at"),
        _when("void_at", nullable=True),
        _operation("notices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("operation_id", "key", "version", name=op.f("uq_notices_operation_id")),
    )
    op.create_index(op.f("ix_notices_operation_id"), "notices", ["operation_id"], unique=False)
    op.create_table(
        "notice_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("notice_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _when("at"),
        sa.Column("by", sa.String(length=150), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_deliveries_notice_id_notices"),
            ondelete="CASCADE",
        ),
        _operation("notice_deliveries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
    )
    op.create_index(op.f("ix_notice_deliveries_notice_id"), "notice_deliveries", ["notice_id"], unique=False)
    op.create_index(
        op.f("ix_notice_deliveries_operation_id"), "notice_deliveries", ["operation_id"], unique=False
    )
    op.create_table(
        "tracing_consents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("relative_sealed", sa.Text(), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("withdrawn_at", nullable=True),
        _operation("tracing_consents"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_tracing_consents_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_consents")),
    )
    op.create_index("ix_tracing_consents_code_sha256", "tracing_consents", ["code_sha256"], unique=True)
    op.create_index(
        op.f("ix_tracing_consents_operation_id"), "tracing_consents", ["operation_id"], unique=False
    )
    op.create_index(op.f("ix_tracing_consents_person_id"), "tracing_consents", ["person_id"], unique=False)
    op.create_table(
        "tracing_queries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("consent_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("address_sha256", sa.String(length=64), nullable=False),
        _when("at"),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["tracing_consents.id"],
            name=op.f("fk_tracing_queries_consent_id_tracing_consents"),
            ondelete="CASCADE",
        ),
        _operation("tracing_queries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_queries")),
    )
    op.create_index(op.f("ix_tracing_queries_consent_id"), "tracing_queries", ["consent_id"], unique=False)
    op.create_index(
        op.f("ix_tracing_queries_operation_id"), "tracing_queries", ["operation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("tracing_queries")
    op.drop_table("tracing_consents")
    op.drop_table("notice_deliveries")
    op.drop_table("notices")
