"""The route of an operation: the points a convoy passes, in order, with the plan's expected times.

Point 0 is where people board (departure); the last point is where they arrive; the points between
are checkpoints. ``expected_minutes`` is the plan's time from departure to the point. Places carry a
P-code as an opaque string with its administrative level.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from corridor.core.errors import InputError


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
    """Points in the order a convoy passes them."""

    points: tuple[RoutePoint, ...]

    def __post_init__(self) -> None:
        problems = route_problems(self.points)
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
        return self.points[b].expected_minutes - self.points[a].expected_minutes


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
