"""Convoy plan versions: every convoy plan published for an operation, kept whole and numbered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class ConvoyVersion(Base):
    """One convoy plan published for an operation: ``body`` is the ``convoy.json`` as published
    (``ConvoyPlan.to_dict()``, whose content hash is ``plan_hash``). ``basis`` is what it was
    verified against besides the scenario file: ``{}`` for a plan of the scenario as it is, or a
    re-plan's changes (closures added, deadline) and live state. ``vehicles`` maps the plan's
    vehicle ids to the operation's vehicle codes; ``offsets`` the trip numbers the plan's trips
    follow (a re-plan's trip 1 of a vehicle is the operation's trip ``offset + 1``). ``current``
    marks the version the operation follows (one at most)."""

    __tablename__ = "convoy_versions"
    __table_args__ = (UniqueConstraint("operation_id", "plan_hash"),)

    operation_id: Mapped[str] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plan_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)
    vehicles: Mapped[dict[str, str]] = mapped_column(JSON)
    offsets: Mapped[dict[str, int]] = mapped_column(JSON)
    current: Mapped[bool] = mapped_column(Boolean)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(150))
    method: Mapped[str] = mapped_column(String(40))
    evacuated: Mapped[int] = mapped_column(Integer)
    evacuees: Mapped[int] = mapped_column(Integer)
    trips: Mapped[int] = mapped_column(Integer)
