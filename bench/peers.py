"""Peers: the same problem solved the straightforward way, in the same process.

The *naive* time expansion takes every node at every step ``0..T`` and every road at every
departure step whose arrival is by ``T`` (no pruning, no layers), waiting arcs ``(v, t) -> (v, t+1)``,
a super source with one arc per source into ``(s, 0)`` carrying its people, and an arc from
``(d, t)`` for every destination and step to the sink, of cost ``t`` (the arrival step). When a
destination has a capacity, its arrivals go through one node per destination first. It is built
with numpy (array operations over all arc x step pairs), because a Python loop would time Python,
not the solvers.

On it: OR-Tools ``SimpleMaxFlow`` (people out), OR-Tools ``SimpleMinCostFlow`` with
``solve_max_flow_with_min_cost`` (people out, then least total arrival time), HiGHS on the LP of
that min-cost model, and a quickest-time search that bisects ``[0, T]`` with naive max flows.

Supported: what the benchmark instances use (closures and destination capacities included).
Checkpoints and several priority levels are refused rather than modelled differently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import max_flow, min_cost_flow

from corridor.problem.model import UNLIMITED, IntArray, Problem


@dataclass(frozen=True, eq=False)
class NaiveNet:
    """A naive time-expanded network: arcs as arrays; node ``(v, t)`` is ``v * (T + 1) + t``."""

    horizon: int
    n_nodes: int
    source: int
    sink: int
    tail: NDArray[np.int32]
    head: NDArray[np.int32]
    capacity: IntArray
    cost: IntArray
    arrive: slice  # the arcs that carry an arrival cost

    @property
    def n_arcs(self) -> int:
        return len(self.tail)


@dataclass(frozen=True)
class PeerResult:
    """What a peer found, and how long it took (seconds)."""

    method: str
    status: str
    expanded_arcs: int
    build_s: float
    solve_s: float
    out: int | None  # people out by the horizon
    total_steps: int | None  # sum of arrival steps (min-cost peers only)


def _supported(problem: Problem) -> None:
    if (problem.node_cap != UNLIMITED).any():
        raise NotImplementedError("naive peers do not model checkpoints")
    if len(np.unique(problem.group_priority[problem.source_group])) > 1:
        raise NotImplementedError("naive peers do not model priority levels")


def naive_expansion(problem: Problem, horizon: int | None = None) -> NaiveNet:
    """Every (node, step) pair and every (road, step) pair that arrives by the horizon."""
    _supported(problem)
    T = problem.horizon if horizon is None else horizon
    L = T + 1
    net = problem.network
    n, m = problem.n_nodes, problem.n_arcs
    # Roads: all arc x step pairs, kept when the arrival is by T and nothing is closed.
    arc = np.repeat(np.arange(m, dtype=np.int64), L)
    dep = np.tile(np.arange(L, dtype=np.int64), m)
    arr = dep + problem.tau[arc]
    ok = arr <= T
    if len(problem.arc_closed):
        ok &= ~problem.arc_closed.closed(arc, dep)
    if len(problem.node_closed):
        ok &= ~problem.node_closed.closed(net.tail[arc], dep)
        ok &= ~problem.node_closed.closed(net.head[arc], arr)
    arc, dep, arr = arc[ok], dep[ok], arr[ok]
    road_t = net.tail[arc] * L + dep
    road_h = net.head[arc] * L + arr
    road_c = problem.arc_cap[arc]
    # Waiting everywhere.
    big = max(1, problem.people)
    wait_t = (np.arange(n, dtype=np.int64)[:, None] * L + np.arange(T, dtype=np.int64)).ravel()
    source, sink = n * L, n * L + 1
    # Sources at step 0.
    s_t = np.full(len(problem.source_node), source, dtype=np.int64)
    s_h = problem.source_node * L
    # Arrivals at every step, cost = step.
    n_dest = len(problem.dest_node)
    d_index = np.repeat(np.arange(n_dest, dtype=np.int64), L)
    d_step = np.tile(np.arange(L, dtype=np.int64), n_dest)
    d_t = problem.dest_node[d_index] * L + d_step
    limited = bool((problem.dest_cap != UNLIMITED).any())
    if limited:
        gate = n * L + 2 + np.arange(n_dest, dtype=np.int64)
        d_h = gate[d_index]
        cap = np.where(problem.dest_cap == UNLIMITED, big, problem.dest_cap)
        g_t, g_h, g_c = gate, np.full(n_dest, sink, dtype=np.int64), cap.astype(np.int64)
    else:
        d_h = np.full(len(d_t), sink, dtype=np.int64)
        g_t = g_h = g_c = np.zeros(0, dtype=np.int64)
    tails = [road_t, wait_t, s_t, d_t, g_t]
    heads = [road_h, wait_t + 1, s_h, d_h, g_h]
    caps = [road_c, np.full(len(wait_t), big), problem.source_people, np.full(len(d_t), big), g_c]
    start = len(road_t) + len(wait_t) + len(s_t)
    cost = np.zeros(start + len(d_t) + len(g_t), dtype=np.int64)
    cost[start : start + len(d_t)] = d_step
    return NaiveNet(
        horizon=T,
        n_nodes=n * L + 2 + (n_dest if limited else 0),
        source=source,
        sink=sink,
        tail=np.concatenate(tails).astype(np.int32),
        head=np.concatenate(heads).astype(np.int32),
        capacity=np.concatenate(caps).astype(np.int64),
        cost=cost,
        arrive=slice(start, start + len(d_t)),
    )


def naive_max_flow(nn: NaiveNet) -> tuple[int, IntArray]:
    """Bare OR-Tools max flow on a naive network: (value, arc flows)."""
    solver = max_flow.SimpleMaxFlow()
    arcs = solver.add_arcs_with_capacity(nn.tail, nn.head, nn.capacity)
    status = solver.solve(nn.source, nn.sink)
    if status != solver.OPTIMAL:
        raise RuntimeError(f"SimpleMaxFlow status {status}")
    return int(solver.optimal_flow()), np.asarray(solver.flows(arcs), dtype=np.int64)


def ortools_max_flow(problem: Problem) -> PeerResult:
    """OR-Tools ``SimpleMaxFlow`` on the naive expansion."""
    t0 = time.perf_counter()
    nn = naive_expansion(problem)
    t1 = time.perf_counter()
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(nn.tail, nn.head, nn.capacity)
    status = solver.solve(nn.source, nn.sink)
    t2 = time.perf_counter()
    ok = status == solver.OPTIMAL
    return PeerResult(
        "ortools-max",
        "optimal" if ok else f"status {status}",
        nn.n_arcs,
        t1 - t0,
        t2 - t1,
        int(solver.optimal_flow()) if ok else None,
        None,
    )


def ortools_min_cost(problem: Problem) -> PeerResult:
    """OR-Tools ``SimpleMinCostFlow.solve_max_flow_with_min_cost`` on the naive expansion: the
    most people out, and among those flows the least total arrival time."""
    t0 = time.perf_counter()
    nn = naive_expansion(problem)
    t1 = time.perf_counter()
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(nn.tail, nn.head, nn.capacity, nn.cost)
    solver.set_nodes_supplies(
        np.asarray([nn.source, nn.sink], dtype=np.int32),
        np.asarray([problem.people, -problem.people], dtype=np.int64),
    )
    status = solver.solve_max_flow_with_min_cost()
    t2 = time.perf_counter()
    ok = status == solver.OPTIMAL
    return PeerResult(
        "ortools-mincost",
        "optimal" if ok else f"status {status}",
        nn.n_arcs,
        t1 - t0,
        t2 - t1,
        int(solver.maximum_flow()) if ok else None,
        int(solver.optimal_cost()) if ok else None,
    )


def highs_lp(problem: Problem, *, time_limit: float = 600.0, solver: str = "ipm") -> PeerResult:
    """HiGHS on the LP of the naive min-cost model, as a circulation.

    A return arc sink -> source of cost ``-M`` makes one LP of the lexicographic objective:
    the least cost of a flow of value ``k`` is convex in ``k`` with slopes = costs of shortest
    augmenting paths, at most ``T`` per destination gate crossed, so with ``M = T * g + 1``
    (``g`` = 1, or the number of destinations when they have capacities) every extra person out
    pays, and among maximum flows the least total arrival time wins.

    ``solver``: HiGHS's ``solver`` option. The default is its interior point method (with
    crossover to a vertex): on these models HiGHS's default dual simplex stalled (Anaheim over
    120 steps: no answer in 600 s; the interior point method: under a minute).
    """
    t0 = time.perf_counter()
    nn = naive_expansion(problem)
    gates = len(problem.dest_node) if nn.n_nodes > nn.sink + 1 else 1
    big_m = nn.horizon * max(1, gates) + 1
    m = nn.n_arcs
    tail = np.append(nn.tail.astype(np.int64), nn.sink)
    head = np.append(nn.head.astype(np.int64), nn.source)
    upper = np.append(nn.capacity, problem.people).astype(np.float64)
    cost = np.append(nn.cost, -big_m).astype(np.float64)
    a_start = np.arange(0, 2 * (m + 1) + 1, 2, dtype=np.int32)
    a_index = np.column_stack([tail, head]).ravel().astype(np.int32)
    a_value = np.tile(np.array([1.0, -1.0]), m + 1)
    rows = np.zeros(nn.n_nodes, dtype=np.float64)
    new_highs: Any = highspy.Highs  # its stubs leave the constructor untyped
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("solver", solver)
    lp = highspy.HighsLp()
    lp.num_col_ = m + 1
    lp.num_row_ = nn.n_nodes
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(m + 1)
    lp.col_upper_ = upper
    lp.row_lower_ = rows
    lp.row_upper_ = rows
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a_start
    lp.a_matrix_.index_ = a_index
    lp.a_matrix_.value_ = a_value
    t1 = time.perf_counter()
    h.passModel(lp)
    h.run()
    t2 = time.perf_counter()
    status = h.modelStatusToString(h.getModelStatus())
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return PeerResult("highs", status, m, t1 - t0, t2 - t1, None, None)
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    out = float(x[m])
    total = float(np.dot(x[nn.arrive], nn.cost[nn.arrive]))
    return PeerResult("highs", "optimal", m, t1 - t0, t2 - t1, round(out), round(total))


@dataclass(frozen=True)
class QuickestResult:
    method: str
    steps: int | None  # least horizon with everyone out (None: not within the search range)
    probes: int
    seconds: float


def naive_quickest(
    problem: Problem, horizon: int | None = None, *, say: Callable[[str], None] | None = None
) -> QuickestResult:
    """Bisect ``[0, horizon]`` for the least horizon whose naive max flow is everyone."""
    t0 = time.perf_counter()
    T = problem.horizon if horizon is None else horizon
    probes = 0

    def everyone(h: int) -> bool:
        nonlocal probes
        probes += 1
        if say:
            say(f"naive max flow at {h} steps")
        return naive_max_flow(naive_expansion(problem, h))[0] >= problem.people

    if not everyone(T):
        return QuickestResult("naive-bisect", None, probes, time.perf_counter() - t0)
    lo, hi = -1, T  # lo: known to fall short (or -1), hi: known to get everyone out
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if everyone(mid):
            hi = mid
        else:
            lo = mid
    return QuickestResult("naive-bisect", hi, probes, time.perf_counter() - t0)
