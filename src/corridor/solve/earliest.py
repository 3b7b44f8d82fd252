"""Earliest-arrival flow by successive augmentation as the horizon grows.

With every reception point behind one sink, and the cost of a path its arrival step, the cheapest
augmenting path is always one that ends at the earliest step still reachable. So successive shortest
paths become: for ``tau = 0, 1, ..., horizon``, augment to the arrivals at step ``tau`` until none is
reachable in the residual network, keeping the flow of the earlier steps. Augmenting paths never pass
through the sink, so no earlier arrival is ever undone: after step ``tau`` the people out by ``tau``
are a maximum flow for that deadline, for every ``tau`` at once. This is the earliest-arrival flow;
it has the least total evacuation time among the maximum flows, and its last arrival is the quickest
time for everyone, each proved by the absence of an augmenting path.

The search keeps one tree of residual paths from the source across all steps (the tree reuse of
Boykov and Kolmogorov's max-flow algorithm, with the sink side reduced to the arrivals): each step
only grows the tree into the pairs (node, step) that became useful and re-attaches the nodes cut off
by the last augmentation, instead of searching the network again.

Only pairs that could still reach a reception point by ``tau`` (``due <= tau``) are searched at step
``tau``: no augmenting path to an arrival at ``tau`` can use any other pair, because a pair on such a
path either carries flow (which arrives by ``tau``) or reaches a pair that does. This needs ``due``
never to fall along an arc (checked: it is a step plus a shortest travel time to a reception point).

The loop itself is compiled (``augment_by_step`` in ``_kernels.pyx``); this module prepares the
residual network and reads the flow back.

Reception capacities are not part of this search. :func:`earliest_arrival_flow` returns the flow
with every destination's arrivals, and the caller checks them against the capacities: a flow that
respects them is optimal for the capacitated problem too (it is optimal for a relaxation of it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import SolverError
from corridor.problem.model import IntArray
from corridor.solve.expand import ExpandedNetwork
from corridor.solve.kernels import augment_by_step

_INF = 1 << 40


@dataclass(frozen=True)
class EarliestArrival:
    flows: IntArray  # per arc of the expanded network
    arrivals: IntArray  # people arriving per step 0..horizon
    by_destination: IntArray  # people per destination
    arcs_scanned: int
    augmentations: int


def _residual(
    tail: NDArray[np.int32], head: NDArray[np.int32], cap: IntArray, n: int
) -> tuple[IntArray, NDArray[np.int32], IntArray, IntArray, IntArray]:
    """CSR of the residual network: (start, head, residual capacity, partner entry, entry of each arc)."""
    m = len(tail)
    ends = np.concatenate([tail, head]).astype(np.int64)
    order = np.argsort(ends, kind="stable")
    pos = np.empty(2 * m, dtype=np.int64)
    pos[order] = np.arange(2 * m, dtype=np.int64)
    partner = np.concatenate([np.arange(m, 2 * m), np.arange(m)])
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=start[1:])
    heads = np.concatenate([head, tail])[order].astype(np.int32)
    rcap = np.concatenate([cap, np.zeros(m, dtype=np.int64)])[order]
    return start, heads, rcap, pos[partner[order]], pos[:m]


def _due(exp: ExpandedNetwork) -> IntArray:
    """Per expanded node: the earliest step at which people there could reach a reception point."""
    n_exp = exp.source
    layer, step = exp.node_step(np.arange(n_exp, dtype=np.int64))
    sizes = np.diff(np.append(exp.layer_offset, n_exp))
    late = exp.layer_early + sizes - 1  # last step of each layer: horizon - steps to a destination
    due = np.full(exp.n_nodes, _INF, dtype=np.int64)
    due[:n_exp] = step + (exp.horizon - late[layer])
    due[exp.source] = -1
    due[exp.level_nodes] = -1
    arrive = exp.blocks["arrive"]
    due[exp.tail[arrive]] = exp.arrive_step
    return due


def _share_arrivals(exp: ExpandedNetwork, absorbed: IntArray) -> IntArray:
    """People on each arrival arc. Reception points on one node share its arrival pairs: earliest
    first, each takes people up to its capacity, in the order the scenario lists them (what no
    capacity admits goes to the last, for the caller's check to find)."""
    arrive = exp.blocks["arrive"]
    tails = exp.tail[arrive]
    out = absorbed[tails].copy()
    shared = np.flatnonzero(np.bincount(tails) > 1)
    if len(shared) == 0:
        return out
    room = exp.capacity[exp.blocks["out"]].copy()
    arcs = np.flatnonzero(np.isin(tails, shared))
    layer, _ = exp.node_step(tails[arcs].astype(np.int64))
    for place in np.unique(layer).tolist():
        mine = arcs[layer == place]
        mine = mine[np.lexsort((exp.arrive_dest[mine], exp.arrive_step[mine]))]
        for step in np.unique(exp.arrive_step[mine]).tolist():
            here = mine[exp.arrive_step[mine] == step]
            left = int(absorbed[tails[here[0]]])
            for k, a in enumerate(here.tolist()):
                d = int(exp.arrive_dest[a])
                take = left if k == len(here) - 1 else min(left, int(room[d]))
                out[a] = take
                room[d] -= take
                left -= take
    return out


def earliest_arrival_flow(
    exp: ExpandedNetwork,
    level_caps: IntArray | None = None,
    progress: Callable[[str], None] | None = None,
    reports: int = 40,
    on_start: Callable[[], None] | None = None,
) -> EarliestArrival:
    """The earliest-arrival flow of ``exp`` with reception capacities left out (see the module
    docstring). ``level_caps``: people that may leave from each priority level (default: all).
    ``progress`` hears how far the steps have come, about ``reports`` times: the compiled loop runs
    without the interpreter lock between two reports, so ``reports=1`` lets another thread work
    beside it undisturbed. ``on_start`` is called once everything is ready, just before the
    compiled loop starts."""
    blocks = exp.blocks
    inner = slice(0, blocks["arrive"].start)  # every arc but the arrivals and the reception arcs
    cap = exp.capacity[inner].copy()
    if level_caps is not None:
        cap[blocks["level"]] = level_caps
    start, heads, rcap, rev, fwd = _residual(exp.tail[inner], exp.head[inner], cap, exp.n_nodes)
    due = _due(exp)
    if (due[exp.head[inner]] < due[exp.tail[inner]]).any():
        raise SolverError("the arrival bound falls along an arc", hint="this is a defect; please report it")
    arrive = blocks["arrive"]
    is_dest = np.zeros(exp.n_nodes, dtype=np.uint8)
    is_dest[exp.tail[arrive]] = 1
    order = np.argsort(due, kind="stable")
    order = order[due[order] >= 0]
    order = order[due[order] <= exp.horizon]
    n = exp.n_nodes
    absorbed = np.zeros(n, dtype=np.int64)
    par = np.full(n, -1, dtype=np.int64)
    par[exp.source] = -2
    tree = np.zeros(n, dtype=np.uint8)
    tree[exp.source] = 1
    ts, dist = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    counters = np.array([0, 1, 0, 0, 0], dtype=np.int64)
    T = exp.horizon
    chunk = max(1, (T + 1) // max(1, reports))
    if on_start is not None:
        on_start()
    for first in range(0, T + 1, chunk):
        last = min(T, first + chunk - 1)
        augment_by_step(
            start, heads, rcap, rev, due, is_dest, exp.source, order, due[order], first, last,
            absorbed, par, tree, ts, dist, counters,
        )  # fmt: skip
        if progress is not None:
            progress(f"earliest-arrival flow: step {last:,} of {T:,}, {int(absorbed.sum()):,} people out")
    flows = np.zeros(exp.n_arcs, dtype=np.int64)
    flows[inner] = cap - rcap[fwd]
    flows[arrive] = _share_arrivals(exp, absorbed)
    n_dest = blocks["out"].stop - blocks["out"].start
    by_dest = np.bincount(exp.arrive_dest, flows[arrive], n_dest).astype(np.int64)
    flows[blocks["out"]] = by_dest
    arrivals = np.bincount(exp.arrive_step, flows[arrive], exp.horizon + 1).astype(np.int64)
    return EarliestArrival(flows, arrivals, by_dest, int(counters[2]), int(counters[3]))
