"""A plan: who leaves from where, when, by which roads, and when they arrive.

Times are steps of the plan's time axis (``dt`` minutes from ``start``). A route's hop ``k`` departs
on base arc ``arcs[k]`` at step ``departures[k]`` and arrives ``tau`` steps later; people may wait
at a node between hops. A route of no hops is people already at a destination (arrival step 0).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from corridor.problem.model import Problem

Status = Literal["optimal", "feasible"]
PLAN_FORMAT = 1


@dataclass(frozen=True)
class Route:
    """``people`` of ``group`` from ``source`` to ``destination`` along ``nodes``."""

    source: str
    group: str
    people: int
    destination: str
    nodes: tuple[str, ...]
    arcs: tuple[int, ...]
    departures: tuple[int, ...]
    arrival: int

    @property
    def departure(self) -> int:
        return self.departures[0] if self.departures else 0


@dataclass(frozen=True)
class Plan:
    """The result of every method. ``bound`` is an upper bound on ``evacuated`` (proved for exact)."""

    scenario: str
    network: str
    method: str
    objective: str
    status: Status
    start: datetime
    dt: float
    horizon: int
    evacuees: int
    evacuated: int
    bound: int
    routes: tuple[Route, ...]
    evacuation_steps: int | None = None  # quickest time for everyone (may exceed the horizon)
    evacuation_steps_proved: bool = False
    total_steps: int = 0  # sum over people of their arrival step (within the horizon)
    stats: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def gap(self) -> float:
        """Relative gap of ``evacuated`` to ``bound`` (0 for a proved optimum)."""
        return 0.0 if self.bound == 0 else (self.bound - self.evacuated) / self.bound

    @property
    def evacuation_minutes(self) -> float | None:
        return None if self.evacuation_steps is None else self.evacuation_steps * self.dt

    def time_of(self, step: int) -> datetime:
        """When step ``step`` starts, on the scenario's clock (its UTC offset kept)."""
        return self.start + timedelta(minutes=step * self.dt)

    @property
    def last_arrival(self) -> int | None:
        return max((r.arrival for r in self.routes), default=None)

    def arrivals(self) -> NDArray[np.int64]:
        """People arriving at each step ``0..horizon`` (the clearance curve is its cumulative sum)."""
        out = np.zeros(self.horizon + 1, dtype=np.int64)
        for r in self.routes:
            out[r.arrival] += r.people
        return out

    def verify(self, problem: Problem) -> list[str]:
        """Violations of ``problem`` by this plan; empty when the plan is feasible."""
        from corridor.plan.verify import verify_plan

        return verify_plan(self, problem)

    def by_group(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.routes:
            out[r.group] = out.get(r.group, 0) + r.people
        return out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["format"] = PLAN_FORMAT
        data.pop("stats")
        return data

    def content_hash(self) -> str:
        """SHA-256 of the plan's canonical JSON (timings excluded): the version operations cite."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self) -> dict[str, Any]:
        """The figures ``corridor plan --json`` prints."""
        return {
            "scenario": self.scenario,
            "method": self.method,
            "objective": self.objective,
            "status": self.status,
            "evacuees": self.evacuees,
            "evacuated_by_deadline": self.evacuated,
            "bound": self.bound,
            "gap": round(self.gap, 6),
            "evacuation_time": self.evacuation_minutes,
            "evacuation_time_proved": self.evacuation_steps_proved,
            "total_evacuation_time": self.total_steps * self.dt,
            "last_arrival": None if self.last_arrival is None else self.last_arrival * self.dt,
            "by_group": self.by_group(),
            "time_step": self.dt,
            "horizon_steps": self.horizon,
            "routes": len(self.routes),
            "plan_hash": self.content_hash(),
        }
