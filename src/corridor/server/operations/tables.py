"""Evacuation operations: scenario, published plan, route, ceasefire windows, state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
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
