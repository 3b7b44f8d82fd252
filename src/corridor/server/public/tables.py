"""Notices as issued (numbered per notice, the old one void once a new one replaces it), what went
out (posters, SMS batches) and what failed, tracing consents (codes stored hashed) and the queries
made with them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class Notice(Base):
    """One version of one notice: the word to the people of group ``group_name`` at gathering point
    ``point``. ``body`` is the notice as made from the plans (``corridor.reports.notices``), so
    that a void version still reads as it was issued; ``fingerprint`` tells whether a re-plan
    changed it. ``plan_version`` and ``convoy_version`` are the versions it was made from."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("operation_id", "key", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(250))
    version: Mapped[int] = mapped_column(Integer)
    point: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    convoy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    void_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class NoticeDelivery(Base):
    """A notice sent out one way (``poster``, ``sms``) or a failure reported back (an SMS
    gateway's delivery status): ``status`` is ``sent`` or ``failed``; ``detail`` says more
    (a poster's size and language, an SMS batch's messages, a gateway's error)."""

    __tablename__ = "notice_deliveries"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    notice_id: Mapped[str | None] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), nullable=True, index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(150))


class TracingConsent(Base):
    """A person's consent that a named relative learn their status. The relative's name is
    encrypted; the code the relative was given is kept only as a hash (``code_sha256``)."""

    __tablename__ = "tracing_consents"
    __table_args__ = (Index("ix_tracing_consents_code_sha256", "code_sha256", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    relative_sealed: Mapped[str] = mapped_column(Text)
    code_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TracingQuery(Base):
    """One query on the public tracing form: when, for which consent (none for a wrong code),
    the outcome (``answered``, ``unknown``, ``limited``) and a hash of the asking address."""

    __tablename__ = "tracing_queries"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    consent_id: Mapped[str | None] = mapped_column(
        ForeignKey("tracing_consents.id", ondelete="CASCADE"), nullable=True, index=True
    )
    outcome: Mapped[str] = mapped_column(String(20))
    address_sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
