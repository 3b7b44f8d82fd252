"""A plan as a timetable of activities: what the simulation executes, run after run.

An *actor* (a vehicle of a convoy plan, a group on one route of a flow plan) does its activities one
after another: drive one road, board, be inspected at a checkpoint, unload. Each activity has a planned
start and a planned duration (steps of the plan's time axis). In a simulation an activity starts at its
planned time or, when late, as soon as its actor is free (and, for an inspection, as soon as the
checkpoint has done the inspection planned before it): a timetable followed as closely as the day allows.
With no disruption every activity starts and ends as planned.

A *delivery* is people reaching a reception point: a convoy trip's haul, or a flow route's last road.
Its people are *entries*: (source, people) pairs.

Activities are kept in processing order (planned start, then actor, then the actor's order), in which
every activity comes after the ones it waits for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import InputError
from corridor.plan.convoy import ConvoyPlan, Drive
from corridor.plan.model import Plan
from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import Problem

ROAD, BOARD, INSPECT, UNLOAD = 0, 1, 2, 3
KIND_NAMES = ("road", "board", "inspect", "unload")

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Timetable:
    """Activities of a plan in processing order, with what each waits for; see the module text."""

    plan_kind: str  # "convoy" or "flow"
    scenario: str
    start: datetime
    dt: float
    horizon: int
    actors: tuple[str, ...]
    # per activity
    kind: IntArray
    actor: IntArray
    planned: IntArray  # planned start step
    duration: IntArray  # planned steps
    road: IntArray  # index into ``roads`` for a road, else -1
    checkpoint: IntArray  # an inspection's checkpoint, or the checkpoint a road leaves; else -1
    after: IntArray  # the inspection this one waits for at its checkpoint (activity index), else -1
    breakdown: IntArray  # the delivery whose breakdown delays this road (first loaded road), else -1
    ends_delivery: IntArray  # the delivery this road ends, else -1
    roads: tuple[tuple[str, str], ...]
    checkpoints: tuple[str, ...]
    # per delivery
    delivery_planned: IntArray  # planned arrival step
    delivery_activity: IntArray  # the road that ends it, or -1 (people already there)
    # per entry (source, people) of a delivery
    entry_delivery: IntArray
    entry_source: IntArray
    entry_people: IntArray
    # sources
    sources: tuple[str, ...]
    source_point: tuple[str, ...]  # gathering point (node id) of each source
    source_people: IntArray  # people waiting at the start

    @property
    def n_activities(self) -> int:
        return len(self.kind)

    @property
    def n_deliveries(self) -> int:
        return len(self.delivery_planned)

    @property
    def people(self) -> int:
        return int(self.source_people.sum())

    @property
    def planned_out(self) -> int:
        """People the plan brings out by the deadline."""
        ok = self.delivery_planned[self.entry_delivery] <= self.horizon
        return int(self.entry_people[ok].sum())

    @property
    def points(self) -> tuple[str, ...]:
        """Gathering points, in the order of their first source."""
        return tuple(dict.fromkeys(self.source_point))


class _Builder:
    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, int, int, int, int]] = []
        self.order: list[tuple[int, int, int]] = []
        self.roads: dict[tuple[str, str], int] = {}
        self.delivery_planned: list[int] = []
        self.delivery_activity: list[int] = []
        self.entries: list[tuple[int, int, int]] = []

    def add(
        self,
        kind: int,
        actor: int,
        planned: int,
        duration: int,
        *,
        road: tuple[str, str] | None = None,
        checkpoint: int = -1,
        breakdown: int = -1,
        ends: int = -1,
    ) -> int:
        r = -1 if road is None else self.roads.setdefault(road, len(self.roads))
        self.rows.append((kind, actor, planned, duration, r, checkpoint, breakdown, ends))
        self.order.append((planned, actor, len(self.rows)))
        return len(self.rows) - 1

    def delivery(self, planned: int, entries: list[tuple[int, int]]) -> int:
        d = len(self.delivery_planned)
        self.delivery_planned.append(planned)
        self.delivery_activity.append(-1)
        self.entries.extend((d, s, n) for s, n in entries if n > 0)
        return d

    def build(self, head: dict[str, object], problem: Problem, checkpoints: tuple[str, ...]) -> Timetable:
        perm = sorted(range(len(self.rows)), key=lambda i: self.order[i])
        where = np.empty(len(perm), dtype=np.int64)
        where[perm] = np.arange(len(perm))
        cols = np.asarray([self.rows[i] for i in perm], dtype=np.int64).reshape(-1, 8)
        kind = cols[:, 0]
        check = cols[:, 5]
        after = np.full(len(perm), -1, dtype=np.int64)
        last: dict[int, int] = {}
        for a in np.flatnonzero(kind == INSPECT).tolist():
            c = int(check[a])
            after[a] = last.get(c, -1)
            last[c] = a
        ends = cols[:, 7]
        activity = np.asarray(self.delivery_activity, dtype=np.int64)
        for a in np.flatnonzero(ends >= 0).tolist():
            activity[int(ends[a])] = a
        ent = np.asarray(self.entries, dtype=np.int64).reshape(-1, 3)
        nodes = problem.network.node_ids
        return Timetable(
            plan_kind=str(head["plan_kind"]),
            scenario=str(head["scenario"]),
            start=head["start"],  # type: ignore[arg-type]
            dt=float(head["dt"]),  # type: ignore[arg-type]
            horizon=int(head["horizon"]),  # type: ignore[call-overload]
            actors=head["actors"],  # type: ignore[arg-type]
            kind=kind,
            actor=cols[:, 1],
            planned=cols[:, 2],
            duration=cols[:, 3],
            road=cols[:, 4],
            checkpoint=check,
            after=after,
            breakdown=cols[:, 6],
            ends_delivery=ends,
            roads=tuple(self.roads),
            checkpoints=checkpoints,
            delivery_planned=np.asarray(self.delivery_planned, dtype=np.int64),
            delivery_activity=activity,
            entry_delivery=ent[:, 0],
            entry_source=ent[:, 1],
            entry_people=ent[:, 2],
            sources=problem.source_ids,
            source_point=tuple(str(nodes[int(v)]) for v in problem.source_node.tolist()),
            source_people=np.asarray(problem.source_people, dtype=np.int64),
        )


def _road_steps(problem: ConvoyProblem, vtype: int) -> dict[tuple[int, int], int]:
    """Fastest steps of a vehicle type from node to node over one road."""
    net = problem.network
    steps = problem.arc_steps[vtype]
    out: dict[tuple[int, int], int] = {}
    for a, (u, v) in enumerate(zip(net.tail.tolist(), net.head.tolist(), strict=True)):
        s = int(steps[a])
        if out.get((u, v), s + 1) > s:
            out[(u, v)] = s
    return out


def _drive(
    b: _Builder,
    problem: ConvoyProblem,
    steps: dict[tuple[int, int], int],
    v: int,
    drive: Drive,
    checkpoint_at: dict[str, int],
    *,
    breakdown: int = -1,
    ends: int = -1,
) -> None:
    index = problem.network.index
    n = len(drive.departures)
    for k, dep in enumerate(drive.departures):
        u, w = drive.nodes[k], drive.nodes[k + 1]
        last = k == n - 1
        duration = drive.arrival - dep if last else steps.get((index[u], index[w]), 0)
        if (index[u], index[w]) not in steps:
            raise InputError(f"no road from {u} to {w}", where=f"plan, vehicle {problem.vehicle_ids[v]}")
        b.add(
            ROAD,
            v,
            dep,
            duration,
            road=(u, w),
            checkpoint=checkpoint_at.get(u, -1),
            breakdown=breakdown if k == 0 else -1,
            ends=ends if last else -1,
        )


def convoy_timetable(plan: ConvoyPlan, problem: ConvoyProblem) -> Timetable:
    """The timetable of a convoy plan (checked against ``problem`` by :func:`verify_convoy` first)."""
    flow = problem.flow
    vehicle_index = {v: i for i, v in enumerate(problem.vehicle_ids)}
    source_index = {s: i for i, s in enumerate(flow.source_ids)}
    nodes = problem.network.node_ids
    checkpoint_at: dict[str, int] = {}
    for c, node in enumerate(flow.checkpoint_node.tolist()):
        checkpoint_at.setdefault(str(nodes[int(node)]), c)
    checkpoint_index = {c: i for i, c in enumerate(flow.checkpoint_ids)}
    steps_of: dict[int, dict[tuple[int, int], int]] = {}
    b = _Builder()
    for trip in sorted(plan.trips, key=lambda t: (t.vehicle, t.number)):
        v = vehicle_index.get(trip.vehicle)
        if v is None:
            raise InputError(f"unknown vehicle {trip.vehicle!r}", where="plan")
        vtype = int(problem.vehicle_type[v])
        steps = steps_of.setdefault(vtype, _road_steps(problem, vtype))
        _drive(b, problem, steps, v, trip.approach, checkpoint_at)
        b.add(BOARD, v, trip.board_start, trip.board_end - trip.board_start)
        load = [(source_index[s], n) for s, n in trip.load if s in source_index]
        d = b.delivery(trip.haul.arrival, load)
        inspections = sorted(trip.inspections, key=lambda i: i.start)
        _drive(b, problem, steps, v, trip.haul, checkpoint_at, breakdown=d, ends=d)
        unload = trip.haul.arrival
        for ins in inspections:
            b.add(INSPECT, v, ins.start, ins.end - ins.start, checkpoint=checkpoint_index[ins.checkpoint])
            unload = max(unload, ins.end)  # a checkpoint at the reception point inspects on arrival
        b.add(UNLOAD, v, unload, max(0, trip.unload_end - unload))
    head: dict[str, object] = {
        "plan_kind": "convoy",
        "scenario": plan.scenario,
        "start": plan.start,
        "dt": plan.dt,
        "horizon": plan.horizon,
        "actors": tuple(problem.vehicle_ids),
    }
    return b.build(head, flow, tuple(flow.checkpoint_ids))


def flow_timetable(plan: Plan, problem: Problem) -> Timetable:
    """The timetable of a flow plan: every route is a group that walks or drives its roads."""
    source_index = {s: i for i, s in enumerate(problem.source_ids)}
    nodes = problem.network.node_ids
    checkpoint_at: dict[str, int] = {}
    for c, node in enumerate(problem.checkpoint_node.tolist()):
        checkpoint_at.setdefault(str(nodes[int(node)]), c)
    b = _Builder()
    actors: list[str] = []
    for g, route in enumerate(plan.routes):
        actors.append(f"{route.source}->{route.destination}#{g + 1}")
        d = b.delivery(route.arrival, [(source_index[route.source], route.people)])
        n = len(route.arcs)
        for k, (arc, dep) in enumerate(zip(route.arcs, route.departures, strict=True)):
            u, w = route.nodes[k], route.nodes[k + 1]
            last = k == n - 1
            duration = route.arrival - dep if last else int(problem.tau[arc])
            b.add(
                ROAD,
                g,
                dep,
                duration,
                road=(u, w),
                checkpoint=checkpoint_at.get(u, -1),
                breakdown=d if k == 0 else -1,
                ends=d if last else -1,
            )
    head: dict[str, object] = {
        "plan_kind": "flow",
        "scenario": plan.scenario,
        "start": plan.start,
        "dt": plan.dt,
        "horizon": plan.horizon,
        "actors": tuple(actors),
    }
    return b.build(head, problem, tuple(problem.checkpoint_ids))


__all__ = [
    "BOARD",
    "INSPECT",
    "KIND_NAMES",
    "ROAD",
    "UNLOAD",
    "Timetable",
    "convoy_timetable",
    "flow_timetable",
]
