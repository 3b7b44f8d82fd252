"""Exact plans on the time-expanded network, each optimum proved by the flow solvers.

Lexicographic objective, in this order:

1. the most people out by the horizon, most urgent priority level first: with ``F_k`` the maximum
   flow when only levels ``1..k`` may leave, level ``k`` gets ``F_k - F_(k-1)`` out. The sets of
   sources that can be cleared together form a polymatroid, so this greedy vector is attainable and
   ``F_L`` is the maximum for everyone;
2. (objective ``"earliest"``) the least total evacuation time with those exact numbers per level: the
   earliest-arrival flow (:mod:`corridor.solve.earliest`), which maximises the people out by every
   step at once; its last arrival is then the quickest time for everyone, proved. Where reception
   capacities cut that flow, a minimum-cost flow (OR-Tools, cost = arrival step) takes its place.

``"max-flow"`` stops after 1 (any flow of the maximum value; routes may wait more than needed).
With one priority level the earliest-arrival flow needs no max flow first: its value is the maximum.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import max_flow

from corridor.core.errors import SolverError
from corridor.plan.model import Plan
from corridor.problem.model import IntArray, Problem
from corridor.solve.earliest import EarliestArrival, earliest_arrival_flow
from corridor.solve.expand import ExpandedNetwork, expand
from corridor.solve.flows import minimum_cost_flow
from corridor.solve.routes import routes_from_flow

Progress = Callable[[str], None]


@dataclass
class Timer:
    stats: dict[str, float] = field(default_factory=dict)

    def lap(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.stats[name] = self.stats.get(name, 0.0) + now - since
        return now


def level_max_flows(exp: ExpandedNetwork) -> tuple[IntArray, IntArray]:
    """People out per priority level (greedy, most urgent first) and the last max flow's arcs."""
    solver = max_flow.SimpleMaxFlow()
    arcs = solver.add_arcs_with_capacity(exp.tail, exp.head, exp.capacity)
    level = exp.blocks["level"]
    caps = exp.capacity[level]
    out = np.zeros(len(caps), dtype=np.int64)
    previous = 0
    for k in range(len(caps)):
        for j in range(len(caps)):
            solver.set_arc_capacity(level.start + j, int(caps[j]) if j <= k else 0)
        status = solver.solve(exp.source, exp.sink)
        if status != solver.OPTIMAL:
            raise SolverError(f"max flow ended with status {status}")
        value = int(solver.optimal_flow())
        out[k] = value - previous
        previous = value
    return out, np.asarray(solver.flows(arcs), dtype=np.int64)


def min_time_flow(exp: ExpandedNetwork, per_level: IntArray) -> tuple[int, IntArray]:
    """Least total arrival time with exactly ``per_level`` people leaving from each level."""
    supply = dict(zip(exp.level_nodes.tolist(), per_level.tolist(), strict=True))
    supply[exp.sink] = -int(per_level.sum())
    result = minimum_cost_flow(exp.tail, exp.head, exp.capacity, exp.arrival_step, supply)
    return result.value, result.flows


def _fits(flow: EarliestArrival, problem: Problem) -> bool:
    """Does the flow respect every reception capacity?"""
    cap = problem.dest_cap
    return bool(np.all((cap < 0) | (flow.by_destination <= cap)))


def _least_time(
    exp: ExpandedNetwork,
    problem: Problem,
    timer: Timer,
    say: Progress,
    engine: str,
    reports: int,
    on_start: Callable[[], None] | None,
) -> tuple[IntArray, IntArray, EarliestArrival | None]:
    """People out per level and a flow of least total time: (per level, flows, the earliest-arrival
    flow if that is the flow)."""
    t = time.perf_counter()
    if engine == "min-cost":
        say(f"least total evacuation time by min-cost flow on {exp.n_arcs:,} arcs")
        levels, _ = level_max_flows(exp)
        _, flows = min_time_flow(exp, levels)
        timer.lap("solve_s", t)
        return levels, flows, None
    per_level: IntArray | None = None
    if len(exp.level_nodes) > 1:
        say(f"max flow per priority level on {exp.n_arcs:,} arcs")
        per_level, _ = level_max_flows(exp)
        t = timer.lap("solve_s", t)
    say(f"earliest-arrival flow on {exp.n_arcs:,} arcs")
    flow = earliest_arrival_flow(exp, per_level, say, reports, on_start)
    t = timer.lap("solve_s", t)
    timer.stats["augmentations"] = float(flow.augmentations)
    if per_level is None:
        per_level = np.array([int(flow.arrivals.sum())], dtype=np.int64)
    if _fits(flow, problem):
        return per_level, flow.flows, flow
    say("reception capacities bind: least total evacuation time by min-cost flow")
    timer.stats["min_cost_flow"] = 1.0
    if len(exp.level_nodes) == 1:
        per_level, _ = level_max_flows(exp)
    _, flows = min_time_flow(exp, per_level)
    timer.lap("solve_s", t)
    return per_level, flows, None


def solve_exact(
    problem: Problem,
    *,
    objective: str = "earliest",
    least_time: str = "augment",
    progress: Progress | None = None,
    reports: int = 40,
    on_start: Callable[[], None] | None = None,
) -> Plan:
    """The exact plan for ``problem`` (see the module docstring for the objective).

    ``least_time``: the engine of the least-total-time flow: ``"augment"`` (the earliest-arrival
    flow, with the min-cost flow only where reception capacities bind) or ``"min-cost"`` (OR-Tools'
    min-cost flow always; the same optimum, slower: for comparison). ``reports``: about how many
    progress reports the earliest-arrival flow gives (see
    :func:`~corridor.solve.earliest.earliest_arrival_flow`), and ``on_start`` is called when its
    compiled loop starts."""
    if objective not in ("earliest", "max-flow"):
        raise SolverError(f"unknown objective {objective!r}", hint="use 'earliest' or 'max-flow'")
    if least_time not in ("augment", "min-cost"):
        raise SolverError(f"unknown engine {least_time!r}", hint="use 'augment' or 'min-cost'")
    say = progress or (lambda _: None)
    timer = Timer()
    t0 = time.perf_counter()
    say("building the time-expanded network")
    exp = expand(problem, costs=objective == "earliest")
    t = timer.lap("build_s", t0)
    eaf: EarliestArrival | None = None
    if objective == "earliest" or len(exp.level_nodes) > 1:
        per_level, flows, eaf = _least_time(exp, problem, timer, say, least_time, reports, on_start)
    else:
        say(f"max flow on {exp.n_arcs:,} arcs")
        per_level, flows = level_max_flows(exp)
        timer.lap("solve_s", t)
    t = time.perf_counter()
    evacuated = int(per_level.sum())
    routes = routes_from_flow(exp, problem, flows)
    timer.lap("plan_s", t)
    # An earliest-arrival flow that gets everyone out proves its last arrival the quickest time:
    # one step earlier it has the most people out that any plan can, and that is not everyone.
    quickest = None
    if eaf is not None and evacuated == problem.people:
        quickest = int(np.flatnonzero(eaf.arrivals)[-1]) if evacuated else 0
    timer.stats["expanded_arcs"] = float(exp.n_arcs)
    timer.stats["expanded_nodes"] = float(exp.n_nodes)
    return Plan(
        scenario=problem.name,
        network=problem.network.name,
        method="exact",
        objective=objective,
        status="optimal",
        start=problem.axis.start,
        dt=problem.axis.dt,
        horizon=problem.horizon,
        evacuees=problem.people,
        evacuated=evacuated,
        bound=evacuated,
        routes=routes,
        total_steps=int((routes.people * routes.arrival).sum()),
        evacuation_steps=quickest,
        evacuation_steps_proved=quickest is not None,
        stats=timer.stats,
    )
