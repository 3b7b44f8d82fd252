"""Evacuation operations: scenario, published plan and its versions, route, ceasefire windows, state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class Operation(Base):
    __tablename__ = "operations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    scenario_name: Mapped[str] = mapped_column(String(200))
    plan_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The plan published through POST .../plan: its hash, who published it when, the route point
    # to node mapping and the plan's minutes per route segment (see operations.service.publish).
    published_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    route: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    windows: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    linked_operations: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PlanVersion(Base):
    """One plan published for an operation, kept whole: ``body`` is the ``plan.json`` as
    published (``Plan.to_dict()``, whose content hash is ``plan_hash``), so the plan an operation
    followed can be read back and compared with the next one. Versions are numbered 1, 2, 3...
    per operation and never change; a plan is kept once per operation (its hash is unique).
    The body (about a megabyte for a city) is loaded only when read."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("operation_id", "plan_hash"),)

    operation_id: Mapped[str] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plan_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    nodes: Mapped[dict[str, str]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(150))
    method: Mapped[str] = mapped_column(String(40))
    evacuated: Mapped[int] = mapped_column(Integer)
    evacuees: Mapped[int] = mapped_column(Integer)
