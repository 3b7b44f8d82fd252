"""The discrete time axis every plan is made and compared on.

The horizon is cut into steps of ``dt`` minutes. Flow leaves a node at the start of a step; an arc
takes ``max(1, ceil(travel_time / dt))`` steps; its capacity per step is
``floor(capacity_per_hour * dt / 60)``. Step ``t`` starts at ``start + t * dt``; a horizon of ``T``
steps means arrivals up to time ``T`` count. A window ``[a, b)`` covers the steps that start in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

# Travel times are rounded up to whole steps after removing float noise of this size.
_EPS = 1e-9


@dataclass(frozen=True)
class TimeAxis:
    """``start`` (timezone-aware UTC), step length ``dt`` in minutes, and ``horizon`` in steps."""

    start: datetime
    dt: float
    horizon: int

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("TimeAxis.start must be timezone-aware")
        if self.dt <= 0 or self.horizon < 0:
            raise ValueError("TimeAxis needs dt > 0 and horizon >= 0")

    def time_of(self, step: int) -> datetime:
        return (self.start + timedelta(minutes=self.dt * step)).astimezone(UTC)

    def first_step_at_or_after(self, when: datetime) -> int:
        """Index of the first step that starts at or after ``when`` (may be <0 or > horizon)."""
        offset = (when - self.start).total_seconds() / 60.0 / self.dt
        return math.ceil(offset - _EPS)

    def steps_for(self, minutes: NDArray[np.float64]) -> NDArray[np.int64]:
        """Steps an arc takes: ``max(1, ceil(minutes / dt))``."""
        steps = np.ceil(np.asarray(minutes, dtype=np.float64) / self.dt - _EPS)
        return np.maximum(1, steps).astype(np.int64)

    def per_step(self, per_hour: NDArray[np.float64]) -> NDArray[np.int64]:
        """People per step from people per hour: ``floor(per_hour * dt / 60)``."""
        value = np.asarray(per_hour, dtype=np.float64) * self.dt / 60.0
        return np.floor(value + _EPS).astype(np.int64)
