"""A plan: who leaves from where, when, by which roads, and when they arrive.

Times are steps of the plan's time axis (``dt`` minutes from ``start``). A route's hop ``k`` departs
on base arc ``arcs[k]`` at step ``departures[k]`` and arrives ``tau`` steps later; people may wait
at a node between hops. A route of no hops is people already at a destination (arrival step 0).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import InputError
from corridor.plan import canonical
from corridor.plan.route import Route
from corridor.plan.routes import RouteTable
from corridor.problem.model import Problem

Status = Literal["optimal", "feasible"]
PLAN_FORMAT = 1


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
    routes: Sequence[Route]  # a tuple, or a RouteTable (columns) from the planner
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

    def _people_arrival(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        if isinstance(self.routes, RouteTable):
            return self.routes.people, self.routes.arrival
        people = np.fromiter((r.people for r in self.routes), dtype=np.int64, count=len(self.routes))
        arrival = np.fromiter((r.arrival for r in self.routes), dtype=np.int64, count=len(self.routes))
        return people, arrival

    @property
    def last_arrival(self) -> int | None:
        _, arrival = self._people_arrival()
        return int(arrival.max()) if len(arrival) else None

    def arrivals(self) -> NDArray[np.int64]:
        """People arriving at each step ``0..horizon`` (the clearance curve is its cumulative sum)."""
        people, arrival = self._people_arrival()
        return np.bincount(arrival, people, self.horizon + 1).astype(np.int64)

    def verify(self, problem: Problem) -> list[str]:
        """Violations of ``problem`` by this plan; empty when the plan is feasible."""
        from corridor.plan.verify import verify_plan

        return verify_plan(self, problem)

    def by_group(self) -> dict[str, int]:
        if isinstance(self.routes, RouteTable):
            return self.routes.by_group()
        out: dict[str, int] = {}
        for r in self.routes:
            out[r.group] = out.get(r.group, 0) + r.people
        return out

    def to_dict(self) -> dict[str, Any]:
        """The plan file's dict: the fields in order, each route as a dict of its fields (what
        ``dataclasses.asdict`` gives, without its deep copy of every value: a route's values are
        strings, integers and tuples of them, none of which can change)."""
        data: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "routes":
                routes = self.routes
                if isinstance(routes, RouteTable):  # the planner's: read from its columns
                    data["routes"] = routes.dicts()
                else:
                    data["routes"] = tuple(dict(vars(r)) for r in routes)
            elif f.name != "stats":
                data[f.name] = getattr(self, f.name)
        data["start"] = self.start.isoformat()
        data["format"] = PLAN_FORMAT
        return data

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "plan") -> Plan:
        """A plan read back from its file's dict (``to_dict``, format ``PLAN_FORMAT``), checked
        field by field by the one schema of the plan file (:mod:`corridor.plan.schema`); raises
        :class:`~corridor.core.errors.InputError` naming the first bad field."""
        from pydantic import ValidationError

        from corridor.plan.schema import PlanIn

        try:
            return PlanIn.model_validate(data).to_plan()
        except ValidationError as error:
            first = error.errors()[0]
            place = ".".join([where, *(str(part) for part in first["loc"])])
            raise InputError(f"not a plan file: {first['msg']}", where=place) from None

    def content_hash(self) -> str:
        """SHA-256 of the plan's canonical JSON (timings excluded): the version operations cite."""
        if not isinstance(self.routes, RouteTable):
            return canonical.content_hash(self.to_dict())
        # The planner's routes write their own canonical JSON from the columns (four times quicker
        # than encoding a dict per route); the other fields around them as canonical.content_hash
        # writes them, keys sorted.
        data = replace(self, routes=()).to_dict()
        del data["routes"]
        before = {k: v for k, v in data.items() if k < "routes"}
        after = {k: v for k, v in data.items() if k > "routes"}
        text = json.dumps(before, sort_keys=True, separators=(",", ":"))[:-1]
        text += ("," if before else "") + '"routes":' + self.routes.canonical_json()
        text += ("," + json.dumps(after, sort_keys=True, separators=(",", ":"))[1:]) if after else "}"
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


__all__ = ["PLAN_FORMAT", "Plan", "Route", "RouteTable", "Status"]
