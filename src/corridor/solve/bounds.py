"""Bounds on people out over time, from static flows on the road network (milliseconds each),
which spare the quickest-time search max flows on the time-expanded network (seconds each).

* **Temporally repeated flows** (Ford and Fulkerson): with unlimited people at the sources of a set
  ``A`` and no closures, the most people from ``A`` out by step ``T`` is
  ``o_T(A) = max over static flows f from A of (T + 1)|f| - sum of tau_e f_e``: a path of ``tau``
  steps carrying ``f_P`` people a step has departures at steps ``0..T - tau``. Finite sources,
  closures and reception limits only lower the real figure, so everyone in ``A`` can be out by
  ``T`` only if ``o_T(A) >= people(A)``. One static min-cost flow per ``(A, T)``.
* **Which sets**: without closures or reception limits the condition over *every* ``A`` is exact
  (a min cut of the expanded network leaves out the people of some sources and separates the rest,
  ``A``, from the destinations at cost ``o_T(A)``). All the sources give the first bound; the
  binding sets at the end of an evacuation are the far sources, so the sets tried are "all but
  the nearest", by distance.
* **Growth**: without closures, one more step lets at most ``R`` more people out of a set of
  sources ``A`` (with their own people), ``R_A`` the static max flow from ``A`` (uncapped) to the
  destinations, because the slope of ``o_T(A)`` in ``T`` is at most that (a reception limit in the
  cut adds a constant). Split the sources into ``B`` and ``A``: a flow over ``T + 1`` steps is a
  flow from ``B`` (at most ``people(B)``) plus one from ``A`` (at most ``R_A`` more than ``A``
  alone gets out by ``T``, itself at most everyone out by ``T``). So one more step adds at most
  ``min over B of people(B) + R_A``: the static max flow with each source arc capped at its
  people. That keeps ``R`` meaningful beside roads of unlimited capacity (connectors written as
  2^31 - 1): the people beside them count, not the road. A max flow short by ``D`` people at
  ``T`` thus proves every horizon below ``T + ceil(D / R)`` short. Not used with closures, nor
  when people start at a reception point that has a limit.
* **Capacities**: no flow puts more than everyone on a road or through a checkpoint in one step,
  so the static network caps both at everyone; the bounds stay those of the same expanded
  network, and stay finite and small beside unlimited roads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import max_flow, min_cost_flow

from corridor.core.errors import SolverError
from corridor.problem.model import UNLIMITED, IntArray, Problem
from corridor.problem.reach import UNREACHABLE, steps_to_destinations, usable_arcs

BoolArray = NDArray[np.bool_]
SETS_BY_RANK = 8  # "all but the nearest k distances" for k = 1..SETS_BY_RANK
SETS_BY_SHARE = (0.05, 0.1, 0.2, 0.4)  # "all but the nearest sources holding this share of people"


@dataclass(frozen=True)
class StaticNetwork:
    """The road network as one static flow network: checkpoints split in two, one arc from a super
    source into each source with people (except sources at a destination: those people are out at
    step 0), every destination into a super sink. Capacities are people per step; costs are steps;
    source arcs are unlimited."""

    tail: NDArray[np.int32]
    head: NDArray[np.int32]
    capacity: IntArray
    cost: IntArray
    source: int
    sink: int
    source_arcs: slice
    arc_source: IntArray  # the source index of each source arc
    at_destination: int  # people whose source is a destination
    unlimited: int

    def only(self, sources: BoolArray) -> StaticNetwork:
        """The same network fed by ``sources`` only, each without limit."""
        capacity = self.capacity.copy()
        capacity[self.source_arcs] = np.where(sources[self.arc_source], self.unlimited, 0)
        return replace(self, capacity=capacity)

    def people_only(self, people: IntArray) -> StaticNetwork:
        """The same network with each source arc capped at its source's ``people``."""
        capacity = self.capacity.copy()
        capacity[self.source_arcs] = people[self.arc_source]
        return replace(self, capacity=capacity)

    def max_flow(self) -> int:
        solver = max_flow.SimpleMaxFlow()
        solver.add_arcs_with_capacity(self.tail, self.head, self.capacity)
        if solver.solve(self.source, self.sink) != solver.OPTIMAL:
            raise SolverError("the static max flow failed")
        return int(solver.optimal_flow())

    def repeated(self, horizon: int, rate: int) -> int:
        """``max_f (horizon + 1)|f| - sum tau f`` for static flows of value at most ``rate`` (the
        static max flow): ``rate`` people leave the super source, each through the roads (cost:
        their steps) or over a bypass costing ``horizon + 1``."""
        if rate <= 0 or horizon < 0:
            return 0
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(
            np.append(self.tail, np.int32(self.source)),
            np.append(self.head, np.int32(self.sink)),
            np.append(self.capacity, rate),
            np.append(self.cost, horizon + 1),
        )
        solver.set_nodes_supplies(
            np.asarray([self.source, self.sink], dtype=np.int32), np.asarray([rate, -rate], dtype=np.int64)
        )
        if solver.solve() != solver.OPTIMAL:
            raise SolverError("the static min-cost flow failed")
        return (horizon + 1) * rate - int(solver.optimal_cost())


def static_network(problem: Problem) -> StaticNetwork:
    net = problem.network
    n = problem.n_nodes
    arcs = usable_arcs(problem)
    cps = np.flatnonzero(problem.node_cap != UNLIMITED)
    out_of = np.arange(n, dtype=np.int64)
    out_of[cps] = n + np.arange(len(cps))
    src, sink = n + len(cps), n + len(cps) + 1
    everyone = max(1, problem.people)
    road_cap = np.minimum(problem.arc_cap[arcs], everyone)
    cp_cap = np.minimum(problem.node_cap[cps], everyone)
    big = int(road_cap.sum()) + int(cp_cap.sum()) + everyone
    at_dest = problem.is_destination[problem.source_node]
    fed = np.flatnonzero((problem.source_people > 0) & ~at_dest)
    n_dest = len(problem.dest_node)
    first = len(arcs) + len(cps)
    return StaticNetwork(
        tail=np.concatenate([out_of[net.tail[arcs]], cps, np.full(len(fed), src), problem.dest_node]).astype(
            np.int32
        ),
        head=np.concatenate(
            [net.head[arcs], out_of[cps], problem.source_node[fed], np.full(n_dest, sink)]
        ).astype(np.int32),
        capacity=np.concatenate([road_cap, cp_cap, np.full(len(fed), big), np.full(n_dest, big)]),
        cost=np.concatenate([problem.tau[arcs], np.zeros(len(cps) + len(fed) + n_dest, dtype=np.int64)]),
        source=src,
        sink=sink,
        source_arcs=slice(first, first + len(fed)),
        arc_source=fed,
        at_destination=int(problem.source_people[at_dest].sum()),
        unlimited=big,
    )


def growth_rate(problem: Problem) -> int:
    """Most people one more step of horizon can add without closures (see the module docstring):
    the static max flow with each source arc capped at its people."""
    return static_network(problem).people_only(problem.source_people).max_flow()


def repeated_out(problem: Problem, horizon: int) -> int:
    """An upper bound on people out by ``horizon``: the temporally repeated flow value with
    unlimited people at every source, plus the people already at a destination."""
    s = static_network(problem)
    return s.at_destination + s.repeated(horizon, s.max_flow())


def candidate_sets(problem: Problem) -> list[BoolArray]:
    """Sets of sources that may take longer than everyone together: all but the nearest ones."""
    s = static_network(problem)
    fed = s.arc_source
    dist = steps_to_destinations(problem)[problem.source_node]
    levels = np.unique(dist[fed])
    thresholds = set(levels[1 : 1 + SETS_BY_RANK].tolist())
    order = fed[np.argsort(dist[fed], kind="stable")]
    cum = np.cumsum(problem.source_people[order])
    for share in SETS_BY_SHARE:
        k = int(np.searchsorted(cum, share * cum[-1])) if len(cum) else 0
        if 0 < k < len(order):
            thresholds.add(int(dist[order[k]]))
    fed_mask = np.zeros(len(problem.source_node), dtype=bool)
    fed_mask[fed] = True
    return [fed_mask & (dist >= t) for t in sorted(thresholds)]


def lower_bound(problem: Problem) -> int | None:
    """A horizon at or below the quickest time for everyone; ``None`` if some can never leave."""
    need = problem.source_people > 0
    if not need.any():
        return 0
    dist = steps_to_destinations(problem)[problem.source_node[need]]
    if (dist >= UNREACHABLE).any() or _never(problem):
        return None
    s = static_network(problem)
    rate = s.max_flow()
    if rate == 0:  # everyone is at a destination already
        return 0
    people = problem.people - s.at_destination
    # Everyone: at least the farthest route, and at most ``rate`` people out a step.
    lo = max(int(dist.max()), math.ceil(people / rate))
    bound = _least(lo, _everyone_in(s, people))
    for sources in candidate_sets(problem):
        bound = _least(bound, _everyone_in(s.only(sources), int(problem.source_people[sources].sum())))
    return bound


def proves_short(problem: Problem, horizon: int) -> bool:
    """Whether :func:`lower_bound` is above ``horizon`` (``False`` where it is ``None``), without
    computing it: each set of sources is tried at ``horizon`` alone (the bound's search climbs
    from its first guess to the bound, one static min-cost flow a step), and the first that
    cannot all be out by then settles it."""
    if horizon < 0:
        raise ValueError(f"a horizon is 0 steps or more, not {horizon}")
    need = problem.source_people > 0
    if not need.any():
        return False
    dist = steps_to_destinations(problem)[problem.source_node[need]]
    if (dist >= UNREACHABLE).any() or _never(problem):
        return False
    s = static_network(problem)
    rate = s.max_flow()
    if rate == 0:
        return False
    people = problem.people - s.at_destination
    if max(int(dist.max()), math.ceil(people / rate)) > horizon:
        return True
    if not _everyone_in(s, people)(horizon):
        return True
    return any(
        not _everyone_in(s.only(sources), int(problem.source_people[sources].sum()))(horizon)
        for sources in candidate_sets(problem)
    )


def set_bound(problem: Problem, sources: BoolArray, lo: int) -> int:
    """The least horizon ``h >= lo`` at which the people of ``sources`` could all be out by the
    repeated-flow bound (necessary, with or without closures and reception limits)."""
    s = static_network(problem)
    fed = np.zeros(len(problem.source_node), dtype=bool)
    fed[s.arc_source] = True
    mine = sources & fed
    people = int(problem.source_people[mine].sum())
    if people == 0:
        return lo
    only = s.only(mine)
    rate = only.max_flow()
    if rate == 0:  # no way out at all: no horizon is enough, nothing to add here
        return lo
    return _least(lo, lambda horizon: only.repeated(horizon, rate) >= people)


def _everyone_in(s: StaticNetwork, people: int) -> Callable[[int], bool]:
    """Whether ``people`` can be out of the sources that feed ``s`` by a horizon (necessary)."""
    rate = s.max_flow()
    if rate == 0 and people > 0:  # excluded by the caller: every source reaches a destination
        raise SolverError("a set of sources has no way out", hint="this is a defect; please report it")
    return lambda horizon: s.repeated(horizon, rate) >= people


def _least(lo: int, enough: Callable[[int], bool]) -> int:
    """Least ``h >= lo`` with ``enough(h)`` (monotone in ``h``): gallop up, then bisect."""
    if enough(lo):
        return lo
    bad, step, hi = lo, 1, lo + 1
    while not enough(hi):
        bad, step = hi, 2 * step
        hi = bad + step
    while hi - bad > 1:
        mid = (bad + hi) // 2
        bad, hi = (bad, mid) if enough(mid) else (mid, hi)
    return hi


def _never(problem: Problem) -> bool:
    """True when total destination capacity cannot hold everyone."""
    caps = problem.dest_cap
    return bool((caps != UNLIMITED).all() and int(caps.sum()) < problem.people)


def short_until(problem: Problem, horizon: int, out: int, rate: int) -> int:
    """The last horizon proved to fall short, knowing that only ``out`` of everyone get out by
    ``horizon`` (the growth bound, ``rate`` from :func:`growth_rate`).

    Not with closures (capacities then change with time), nor when people start at a reception
    point that has a limit (they may have to travel on, which ``rate`` leaves out)."""
    if out >= problem.people:
        raise ValueError("everyone is out: no horizon is proved short")
    limited = bool((problem.dest_cap != UNLIMITED).any())
    starts_at_dest = bool((problem.is_destination[problem.source_node] & (problem.source_people > 0)).any())
    if len(problem.arc_closed) or len(problem.node_closed) or rate <= 0 or (limited and starts_at_dest):
        return horizon
    return horizon + math.ceil((problem.people - out) / rate) - 1
