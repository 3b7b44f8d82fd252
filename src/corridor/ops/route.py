"""The route of an operation: the points a convoy passes, in order, with the plan's expected times.

Point 0 is where people board (departure); the last point is where they arrive; the points between
are checkpoints. ``expected_minutes`` is the time from departure to the point as written when the
operation was set up. Once a plan is published, :func:`planned_segments` reads the time between
each pair of consecutive points from the plan itself, and those times take precedence; a segment
the plan does not cover keeps the written times. Places carry a P-code as an opaque string with
its administrative level.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from corridor.core.errors import InputError
from corridor.core.timeaxis import TimeAxis
from corridor.plan.model import Plan
from corridor.plan.model import Route as PlanRoute


class PointKind(StrEnum):
    DEPARTURE = "departure"
    CHECKPOINT = "checkpoint"
    ARRIVAL = "arrival"


@dataclass(frozen=True)
class RoutePoint:
    """One point of the route. ``pcode`` is kept as written; ``admin_level`` is 0-5 when known."""

    id: str
    name: str
    kind: PointKind
    expected_minutes: float
    pcode: str | None = None
    admin_level: int | None = None


@dataclass(frozen=True)
class Route:
    """Points in the order a convoy passes them.

    ``planned`` holds, for each segment ``i`` (point ``i`` to point ``i + 1``), the minutes the
    published plan expects, or None where the plan says nothing; empty when no plan is published.
    """

    points: tuple[RoutePoint, ...]
    planned: tuple[float | None, ...] = ()

    def __post_init__(self) -> None:
        problems = route_problems(self.points)
        if self.planned and len(self.planned) != len(self.points) - 1:
            problems.append(f"{len(self.planned)} planned segment times for {len(self.points) - 1} segments")
        if any(m is not None and not (math.isfinite(m) and m >= 0) for m in self.planned):
            problems.append("planned segment times must be finite and not negative")
        if problems:
            raise InputError("; ".join(problems), where="route", hint="list the points in order")

    def index(self, point_id: str | None) -> int | None:
        """Position of a point on the route, or None for an unknown or missing point."""
        for i, point in enumerate(self.points):
            if point.id == point_id:
                return i
        return None

    @property
    def last(self) -> int:
        return len(self.points) - 1

    def minutes_between(self, a: int, b: int) -> float:
        """Expected minutes from point ``a`` to a later point ``b``: the plan's time for each
        segment it covers, the written ``expected_minutes`` for the others."""
        return sum(self.segment_minutes(i) for i in range(a, b))

    def segment_minutes(self, i: int) -> float:
        """Expected minutes from point ``i`` to point ``i + 1``."""
        planned = self.planned[i] if self.planned else None
        if planned is not None:
            return planned
        return self.points[i + 1].expected_minutes - self.points[i].expected_minutes

    def segment_source(self, i: int) -> Literal["plan", "route"]:
        """Where segment ``i``'s time comes from: ``plan`` or ``route`` (the written times)."""
        return "plan" if self.planned and self.planned[i] is not None else "route"


def route_problems(points: Sequence[RoutePoint]) -> list[str]:
    """Every problem with a route: two points or more, unique ids, kinds in order, times rising."""
    if len(points) < 2:
        return ["a route needs at least a departure and an arrival point"]
    problems: list[str] = []
    ids = [p.id for p in points]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        problems.append(f"point ids repeat: {', '.join(repeated)}")
    if points[0].kind is not PointKind.DEPARTURE:
        problems.append(f"the first point ({points[0].id}) must be the departure")
    if points[-1].kind is not PointKind.ARRIVAL:
        problems.append(f"the last point ({points[-1].id}) must be the arrival")
    for p in points[1:-1]:
        if p.kind is not PointKind.CHECKPOINT:
            problems.append(f"point {p.id} between departure and arrival must be a checkpoint")
    for a, b in itertools.pairwise(points):
        if b.expected_minutes < a.expected_minutes:
            problems.append(f"expected_minutes falls from {a.id} to {b.id}")
    return problems


def planned_segments(
    plan: Plan, points: Sequence[RoutePoint], nodes: Mapping[str, str] | None = None
) -> tuple[float | None, ...]:
    """The plan's expected minutes for each segment of the route (None where it has none).

    ``nodes`` maps a route point id to the network node it stands at (a point whose id is not in
    it is taken to be a node id itself). A plan route that passes the nodes of points ``i`` and
    ``i + 1`` in this order gives the segment the time from leaving the first (its last departure
    step there before reaching the second: waiting at the first point, or a loop back through it,
    comes before the scan that starts the clock) to leaving the second (its departure step there,
    or its arrival step at its destination): travel and the waiting the plan itself schedules on
    the way, e.g. in a checkpoint queue. Steps become minutes on the plan's
    :class:`~corridor.core.timeaxis.TimeAxis`. Several plan routes may cover a segment (waves,
    groups, other roads); the segment gets the longest of their times, so nobody counts as
    overdue while still inside a passage the plan itself schedules.
    """
    mapping = nodes or {}
    axis = TimeAxis(plan.start, plan.dt, plan.horizon)
    ends = [mapping.get(p.id, p.id) for p in points]
    best: list[float | None] = [None] * (len(points) - 1)
    for route in plan.routes:
        if route.people <= 0 or not route.arcs:
            continue
        for i, (a, b) in enumerate(itertools.pairwise(ends)):
            steps = _passage_steps(route, a, b)
            if steps is None:
                continue
            minutes = (axis.time_of(steps[1]) - axis.time_of(steps[0])).total_seconds() / 60.0
            current = best[i]
            best[i] = minutes if current is None else max(current, minutes)
    return tuple(best)


def _passage_steps(route: PlanRoute, a: str, b: str) -> tuple[int, int] | None:
    """Steps at which a plan route last leaves node ``a`` before it first reaches ``b``, and
    leaves ``b``; None if it does not pass ``a`` and then ``b``."""
    last_a: int | None = None
    for k, node in enumerate(route.nodes):
        if node == a and k < len(route.departures):
            last_a = k
        elif node == b and last_a is not None:
            leaves_b = route.departures[k] if k < len(route.departures) else route.arrival
            return route.departures[last_a], leaves_b
    return None
