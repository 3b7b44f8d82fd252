"""Manifests per trip: a vehicle makes trips 1, 2, ... (``trips``), each person's manifest entry
names the trip (``manifest_entries.trip``), and convoy plans published for an operation are kept
whole and numbered (``convoy_versions``). Existing manifests become trip 1 of their vehicle
(with the vehicle's expected departure as the trip's planned departure).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_vehicles = sa.table(
    "vehicles",
    sa.column("operation_id", sa.String()),
    sa.column("code", sa.String()),
    sa.column("expected_departure", sa.DateTime(timezone=True)),
)
_trips = sa.table(
    "trips",
    sa.column("operation_id", sa.String()),
    sa.column("vehicle_code", sa.String()),
    sa.column("number", sa.Integer()),
    sa.column("load", sa.JSON()),
    sa.column("planned_departure", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "trips",
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("vehicle_code", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("convoy_version", sa.Integer(), nullable=True),
        sa.Column("gathering", sa.String(length=200), nullable=True),
        sa.Column("reception", sa.String(length=200), nullable=True),
        sa.Column("load", sa.JSON(), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_boarding", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_departure", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_arrival", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operation_id", "vehicle_code"],
            ["vehicles.operation_id", "vehicles.code"],
            name="fk_trips_vehicle",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation_id", "vehicle_code", "number", name=op.f("pk_trips")),
    )
    op.create_table(
        "convoy_versions",
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plan_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("vehicles", sa.JSON(), nullable=False),
        sa.Column("offsets", sa.JSON(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=150), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("evacuated", sa.Integer(), nullable=False),
        sa.Column("evacuees", sa.Integer(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_convoy_versions_operation_id_operations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation_id", "version", name=op.f("pk_convoy_versions")),
        sa.UniqueConstraint("operation_id", "plan_hash", name=op.f("uq_convoy_versions_operation_id")),
    )
    # Every existing vehicle gets its trip 1, so that its manifest entries can name it.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_vehicles.c.operation_id, _vehicles.c.code, _vehicles.c.expected_departure)
    ).all()
    if rows:
        op.bulk_insert(
            _trips,
            [
                {
                    "operation_id": o,
                    "vehicle_code": c,
                    "number": 1,
                    "load": [],
                    "planned_departure": d,
                }
                for o, c, d in rows
            ],
        )
    with op.batch_alter_table("manifest_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trip", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_foreign_key(
            "fk_manifest_entries_trip",
            "trips",
            ["operation_id", "vehicle_code", "trip"],
            ["operation_id", "vehicle_code", "number"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("manifest_entries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_manifest_entries_trip", type_="foreignkey")
        batch_op.drop_column("trip")
    op.drop_table("convoy_versions")
    op.drop_table("trips")
