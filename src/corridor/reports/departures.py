"""Departures per gathering point: when a plan has people leave each place, how many, of which
group; and what changes from one plan to another.

A gathering point is a network node where sources wait (the wounded and the others of one place
are one gathering point). People leave when they take the first hop of their route once its
loops are cut (see :func:`corridor.reports.layers.loop_free`: a plan may have people drive round
while they wait); people of a route with no hop are at a reception point already.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from corridor.plan.model import Plan
from corridor.problem.model import Problem
from corridor.reports.layers import leaves_at, without_loops

# Bin widths (in steps) a timeline may use, smallest first.
NICE_BINS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440)


@dataclass
class PointDepartures:
    """What a plan has leave one gathering point. ``steps[s][g]``: people of group ``g``
    departing at step ``s``; ``paths``: the distinct loop-free paths they take."""

    node: str
    waiting: int = 0
    out: int = 0
    by_group: dict[str, int] = field(default_factory=dict)
    steps: dict[int, dict[str, int]] = field(default_factory=dict)
    paths: set[tuple[int, ...]] = field(default_factory=set)

    @property
    def first(self) -> int | None:
        return min(self.steps, default=None)

    @property
    def last(self) -> int | None:
        return max(self.steps, default=None)


def groups_in_order(problem: Problem) -> list[str]:
    """Group names, the most urgent first (priority 1: the wounded)."""
    order = sorted(range(len(problem.group_names)), key=lambda g: (int(problem.group_priority[g]), g))
    return [problem.group_names[g] for g in order]


def by_point(plan: Plan, problem: Problem) -> list[PointDepartures]:
    """Departures of ``plan`` per gathering point of ``problem``, in the scenario's order."""
    net = problem.network
    node_of = {
        s: net.node_ids[n] for s, n in zip(problem.source_ids, problem.source_node.tolist(), strict=True)
    }
    points: dict[str, PointDepartures] = {}
    for source, people in zip(problem.source_ids, problem.source_people.tolist(), strict=True):
        point = points.setdefault(node_of[source], PointDepartures(node_of[source]))
        point.waiting += int(people)
    order = groups_in_order(problem)
    for route in plan.routes:
        point = points.setdefault(node_of.get(route.source, route.source), PointDepartures(route.source))
        point.out += route.people
        point.by_group[route.group] = point.by_group.get(route.group, 0) + route.people
        leaves = leaves_at(route)
        if leaves is not None:
            at = point.steps.setdefault(leaves, {})
            at[route.group] = at.get(route.group, 0) + route.people
            point.paths.add(without_loops(route.nodes, route.arcs))
    for point in points.values():
        point.by_group = {g: point.by_group[g] for g in order if g in point.by_group}
    return list(points.values())


def bin_size(horizon: int, *, most: int = 40) -> int:
    """The smallest nice bin width (in steps) that cuts ``horizon`` steps into ``most`` bins or fewer."""
    for size in NICE_BINS:
        if math.ceil(max(horizon, 1) / size) <= most:
            return size
    return math.ceil(max(horizon, 1) / most)


@dataclass(frozen=True)
class Bin:
    """Departures from one gathering point in steps ``[start, start + size)``; ``vehicles``:
    vehicles of ``occupancy`` people needed to carry them (the people of one bin share vehicles:
    a flow over time spreads a convoy over the steps a checkpoint lets it through)."""

    start: int
    people: dict[str, int]
    vehicles: int

    @property
    def total(self) -> int:
        return sum(self.people.values())


def bins(point: PointDepartures, size: int, groups: Sequence[str], occupancy: float) -> list[Bin]:
    """The point's departures in bins of ``size`` steps (only bins with departures)."""
    found: dict[int, dict[str, int]] = {}
    for step, people in point.steps.items():
        into = found.setdefault(step - step % size, {})
        for group, n in people.items():
            into[group] = into.get(group, 0) + n
    return [
        Bin(
            start,
            {g: found[start][g] for g in groups if g in found[start]},
            _vehicles(found[start], occupancy),
        )
        for start in sorted(found)
    ]


def _vehicles(people: dict[str, int], occupancy: float) -> int:
    return math.ceil(sum(people.values()) / occupancy)


def at(plan: Plan, step: int) -> datetime:
    """The time step ``step`` starts at, on the scenario's clock."""
    return plan.time_of(step)


@dataclass(frozen=True)
class Change:
    """One gathering point in two plans (``a`` the plan shown, ``b`` the other)."""

    node: str
    out_a: int
    out_b: int
    first_a: int | None
    first_b: int | None
    last_a: int | None
    last_b: int | None
    route_changed: bool

    @property
    def difference(self) -> int:
        return self.out_b - self.out_a


def compare(a: Sequence[PointDepartures], b: Sequence[PointDepartures]) -> list[Change]:
    """Per gathering point: people out, first and last departure step, and whether the set of
    paths taken changed, in plan ``a`` and plan ``b`` (points in ``a``'s order, then ``b``'s)."""
    in_b = {p.node: p for p in b}
    nodes = [p.node for p in a] + [p.node for p in b if p.node not in {q.node for q in a}]
    in_a = {p.node: p for p in a}
    changes = []
    for node in nodes:
        pa, pb = in_a.get(node, PointDepartures(node)), in_b.get(node, PointDepartures(node))
        changes.append(
            Change(
                node, pa.out, pb.out, pa.first, pb.first, pa.last, pb.last, route_changed=pa.paths != pb.paths
            )
        )
    return changes
