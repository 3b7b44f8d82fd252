"""Device clocks as stored: each device's clock offset, and the events whose time was corrected
or flagged (beside the ledger, which keeps what the device sent unchanged)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class DeviceClock(Base):
    """A device's clock offset in an operation: device clock minus server clock, in seconds (the
    median of ``samples``, its latest readings, a JSON list), and how many of its events were
    flagged."""

    __tablename__ = "device_clocks"

    operation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    offset_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    samples: Mapped[str] = mapped_column(Text, default="[]")
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    flagged: Mapped[int] = mapped_column(Integer, default=0)


class EventClock(Base):
    """How the server judged one ledger entry's time: the device's offset it was corrected by,
    and ``ahead`` or ``behind`` when flagged. Only entries with either have a row."""

    __tablename__ = "event_clocks"

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    operation_id: Mapped[str] = mapped_column(String(32), index=True)
    offset_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    flag: Mapped[str | None] = mapped_column(String(10), nullable=True)
