"""Vehicles of an operation, their trips, and the manifest: which person rides on which trip.

A vehicle makes trips 1, 2, ...; a trip has its planned times when a published convoy plan
gives them (``convoy_version`` is the version that last planned it). Each person is on at most
one trip's manifest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class Vehicle(Base):
    """``code`` is what is painted on the vehicle and what scanners send as ``vehicle_id``."""

    __tablename__ = "vehicles"

    operation_id: Mapped[str] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    seats: Mapped[int] = mapped_column(Integer)
    stretchers: Mapped[int] = mapped_column(Integer)
    wave: Mapped[int] = mapped_column(Integer)
    expected_departure: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Trip(Base):
    """Trip ``number`` of a vehicle: where it boards (``gathering``, a network node), where it
    unloads (``reception``), its planned ``load`` ([[source id, people], ...]) and times."""

    __tablename__ = "trips"
    __table_args__ = (
        ForeignKeyConstraint(
            ["operation_id", "vehicle_code"],
            ["vehicles.operation_id", "vehicles.code"],
            ondelete="CASCADE",
            name="fk_trips_vehicle",
        ),
    )

    operation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vehicle_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    convoy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gathering: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reception: Mapped[str | None] = mapped_column(String(200), nullable=True)
    load: Mapped[list[Any]] = mapped_column(JSON)
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    planned_boarding: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    planned_departure: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    planned_arrival: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ManifestEntry(Base):
    __tablename__ = "manifest_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["operation_id", "vehicle_code"],
            ["vehicles.operation_id", "vehicles.code"],
            ondelete="CASCADE",
            name="fk_manifest_entries_vehicle",
        ),
        ForeignKeyConstraint(
            ["operation_id", "vehicle_code", "trip"],
            ["trips.operation_id", "trips.vehicle_code", "trips.number"],
            ondelete="CASCADE",
            name="fk_manifest_entries_trip",
        ),
    )

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    operation_id: Mapped[str] = mapped_column(String(32), index=True)
    vehicle_code: Mapped[str] = mapped_column(String(64))
    trip: Mapped[int] = mapped_column(Integer, server_default="1")
    place: Mapped[str] = mapped_column(String(10))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
