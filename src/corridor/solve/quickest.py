"""The quickest time to get everyone out: the least horizon at which the maximum flow is everyone.

The search is proved, not estimated: it ends with a horizon ``h`` where everyone gets out and a
horizon ``h - 1`` shown to fall short (by a max flow, or by one of two bounds). Bounds: nobody from
source ``s`` arrives before its shortest route ``d(s)``; and every person crosses a cut between the
sources and the destinations, which passes at most ``R`` people a step (``R`` = static max flow at
per-step capacities), so by step ``h`` at most ``R * h`` are out.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from ortools.graph.python import max_flow

from corridor.problem.model import UNLIMITED, Problem
from corridor.problem.reach import UNREACHABLE, steps_to_destinations, usable_arcs
from corridor.solve.expand import expand
from corridor.solve.flows import maximum_flow

Progress = Callable[[str], None]


def static_rate(problem: Problem) -> int:
    """Most people per step that can flow from the sources to the destinations (ignoring time)."""
    net = problem.network
    n = problem.n_nodes
    arcs = usable_arcs(problem)
    cps = np.flatnonzero(problem.node_cap != UNLIMITED)
    out_of = np.arange(n, dtype=np.int64)
    out_of[cps] = n + np.arange(len(cps))
    src, sink = n + len(cps), n + len(cps) + 1
    big = max(1, problem.people) * 2
    tails = [out_of[net.tail[arcs]], cps, np.full(len(problem.source_node), src), problem.dest_node]
    heads = [
        net.head[arcs],
        out_of[cps],
        problem.source_node,
        np.full(len(problem.dest_node), sink),
    ]
    caps = [problem.arc_cap[arcs], problem.node_cap[cps], problem.source_people]
    caps.append(np.full(len(problem.dest_node), big))
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
    )
    solver.solve(src, sink)
    return int(solver.optimal_flow())


def people_out(problem: Problem, horizon: int) -> int:
    """The maximum number of people out by ``horizon`` steps."""
    exp = expand(problem, horizon)
    return maximum_flow(exp.tail, exp.head, exp.capacity, exp.source, exp.sink).value


def lower_bound(problem: Problem) -> int | None:
    """A horizon below which not everyone can be out; ``None`` if some people can never leave."""
    need = problem.source_people > 0
    if not need.any():
        return 0
    dist = steps_to_destinations(problem)[problem.source_node[need]]
    if (dist >= UNREACHABLE).any():
        return None
    rate = static_rate(problem)
    if rate == 0 or _never(problem):
        return None
    return max(int(dist.max()), math.ceil(problem.people / rate))


def _never(problem: Problem) -> bool:
    """True when total destination capacity cannot hold everyone."""
    caps = problem.dest_cap
    return bool((caps != UNLIMITED).all() and int(caps.sum()) < problem.people)


def quickest_steps(
    problem: Problem,
    *,
    feasible: int | None = None,
    infeasible: int = -1,
    limit: int | None = None,
    progress: Progress | None = None,
) -> int | None:
    """Least horizon (steps) at which everyone is out, or ``None`` if none up to ``limit``.

    ``feasible``: a horizon known to get everyone out; ``infeasible``: one known not to.
    ``limit`` defaults to 16 times the larger of the horizon and the lower bound.
    """
    say = progress or (lambda _: None)
    bound = lower_bound(problem)
    if bound is None:
        return None
    lo = max(infeasible, bound - 1)  # largest horizon known to fall short
    limit = limit or 16 * max(problem.horizon, bound, 1)
    rate = max(static_rate(problem), 1)
    hi = feasible
    probe, misses = lo + 1, 0
    while hi is None:
        if probe > limit:
            return None
        say(f"quickest time: trying {probe} steps")
        out = people_out(problem, probe)
        if out >= problem.people:
            hi = probe
        else:
            lo, misses = probe, misses + 1
            # The people still inside need at least about deficit / rate more steps; grow
            # geometrically too when that guess keeps falling short.
            jump = max(1, math.ceil((problem.people - out) / rate))
            probe += max(jump, probe // 8) if misses > 2 else jump
    # The guesses land close: try one step less before bisecting.
    if hi - lo > 1:
        say(f"quickest time: trying {hi - 1} steps")
        if people_out(problem, hi - 1) < problem.people:
            return hi
        hi -= 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        say(f"quickest time: between {lo + 1} and {hi} steps")
        if people_out(problem, mid) >= problem.people:
            hi = mid
        else:
            lo = mid
    return hi
