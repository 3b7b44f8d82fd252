"""Households and people. Names and phone numbers are stored encrypted (``*_sealed``); the
``name_index`` is a keyed hash of the name's spelling-free skeleton, for duplicate detection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class Household(Base):
    """``client_id`` is the id a phone gave the household in its offline queue: a resend of the
    same registration finds the household the first send stored."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("operation_id", "client_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    gathering_point: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    client_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Person(Base):
    """``ix_people_operation_id_id`` serves look-ups of some of an operation's people
    (``operation_id = ? AND id IN (...)``, as scans, counts and rosters make): with an index on
    ``operation_id`` alone SQLite searched that one for four ids or more, every person of the
    operation, inside the scans' write transaction."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("operation_id", "wristband"),
        Index("ix_people_operation_name_index", "operation_id", "name_index"),
        Index("ix_people_operation_id_id", "operation_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    name_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    age_band: Mapped[str] = mapped_column(String(10))
    sex: Mapped[str] = mapped_column(String(10))
    vulnerabilities: Mapped[list[str]] = mapped_column(JSON)
    gathering_point: Mapped[str | None] = mapped_column(String(100), nullable=True)
    wristband: Mapped[str | None] = mapped_column(String(64), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
