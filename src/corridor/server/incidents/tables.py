"""Incidents and violations, and the evidence files attached to them (stored by SHA-256)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class Incident(Base):
    """``client_id`` is the id a phone gave the report in its offline queue: a resend of the same
    report finds the incident the first send stored."""

    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("operation_id", "client_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pcode: Mapped[str | None] = mapped_column(String(50), nullable=True)
    admin_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    description_sealed: Mapped[str] = mapped_column(Text)
    vehicles: Mapped[list[str]] = mapped_column(JSON)
    people: Mapped[list[str]] = mapped_column(JSON)
    reported_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_event_id: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class EvidenceFile(Base):
    """An evidence file attached to an incident. The bytes live encrypted in the data folder under
    their SHA-256 and are never changed; each receipt and read is a custody event in the ledger."""

    __tablename__ = "evidence_files"
    __table_args__ = (UniqueConstraint("incident_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    operation_id: Mapped[str] = mapped_column(String(32), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_by: Mapped[str] = mapped_column(String(150))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
