"""The ``jobs`` table: every job the service started, where it stands, and what it made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class Job(Base):
    """One job. ``kind`` names its task (``corridor.jobs.KINDS``); ``params`` are what it was
    asked (the scenario's name and file version, method, deadline); ``state`` is queued, running,
    done, failed or cancelled; ``result`` refers to what it made (``{"plan_version": 3}``: a plan
    job's plan is kept as a version of the operation's plans), ``error`` says why it failed."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_operation_kind", "operation_id", "kind"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    operation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))
    progress: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    dask_key: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
