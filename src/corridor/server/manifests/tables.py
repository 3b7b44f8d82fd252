"""Vehicles of an operation and the manifest: which person rides in which vehicle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Integer, String
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


class ManifestEntry(Base):
    __tablename__ = "manifest_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["operation_id", "vehicle_code"],
            ["vehicles.operation_id", "vehicles.code"],
            ondelete="CASCADE",
            name="fk_manifest_entries_vehicle",
        ),
    )

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    operation_id: Mapped[str] = mapped_column(String(32), index=True)
    vehicle_code: Mapped[str] = mapped_column(String(64))
    place: Mapped[str] = mapped_column(String(10))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
