"""The ledger as stored: one row per event in receipt order, each with its chain hash; and the
head row that records how many entries there are and the last hash (and serialises appends)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class LedgerRow(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        # Every key is scoped by operation, so that no sender in one operation can take a device id,
        # sequence number or event id that another operation needs.
        UniqueConstraint("operation_id", "device_id", "seq", name="uq_ledger_entries_operation_device_seq"),
        UniqueConstraint("operation_id", "event_id", name="uq_ledger_entries_operation_event_id"),
        Index("ix_ledger_entries_subject", "operation_id", "subject_kind", "subject_id"),
    )

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    operation_id: Mapped[str] = mapped_column(String(32), index=True)
    event_id: Mapped[str] = mapped_column(String(100))
    device_id: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger)
    device_time: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(30))
    subject_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    point: Mapped[str | None] = mapped_column(String(100), nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(Base):
    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    server_seq: Mapped[int] = mapped_column(BigInteger)
