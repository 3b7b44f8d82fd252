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
path either carries flow (which arrives by ``tau - 1``) or reaches a pair that does.

The loop itself is compiled (``augment_by_step`` in ``_kernels.pyx``); this module prepares the
residual network and reads the flow back.

Reception capacities are not part of this search. :func:`earliest_arrival_flow` returns the flow
with every destination's arrivals, and the caller checks them against the capacities: a flow that
respects them is optimal for the capacitated problem too (it is optimal for a relaxation of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from corridor.problem.model import IntArray
from corridor.solve._kernels import augment_by_step
from corridor.solve.expand import ExpandedNetwork

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


def earliest_arrival_flow(exp: ExpandedNetwork, level_caps: IntArray | None = None) -> EarliestArrival:
    """The earliest-arrival flow of ``exp`` with reception capacities left out (see the module
    docstring). ``level_caps``: people that may leave from each priority level (default: all)."""
    blocks = exp.blocks
    inner = slice(0, blocks["arrive"].start)  # every arc but the arrivals and the reception arcs
    cap = exp.capacity[inner].copy()
    if level_caps is not None:
        cap[blocks["level"]] = level_caps
    start, heads, rcap, rev, fwd = _residual(exp.tail[inner], exp.head[inner], cap, exp.n_nodes)
    due = _due(exp)
    arrive = blocks["arrive"]
    is_dest = np.zeros(exp.n_nodes, dtype=np.uint8)
    is_dest[exp.tail[arrive]] = 1
    order = np.argsort(due, kind="stable")
    order = order[due[order] >= 0]
    order = order[due[order] <= exp.horizon]
    stats = np.zeros(3, dtype=np.int64)
    absorbed = augment_by_step(
        start, heads, rcap, rev, due, is_dest, exp.source, order, due[order], exp.horizon, stats
    )
    flows = np.zeros(exp.n_arcs, dtype=np.int64)
    flows[inner] = cap - rcap[fwd]
    # Two reception points on one node share its arrival pairs: the first takes the people.
    tails = exp.tail[arrive]
    first = np.zeros(len(tails), dtype=bool)
    first[np.unique(tails, return_index=True)[1]] = True
    flows[arrive] = np.where(first, absorbed[tails], 0)
    n_dest = blocks["out"].stop - blocks["out"].start
    by_dest = np.bincount(exp.arrive_dest, flows[arrive], n_dest).astype(np.int64)
    flows[blocks["out"]] = by_dest
    arrivals = np.bincount(exp.arrive_step, flows[arrive], exp.horizon + 1).astype(np.int64)
    return EarliestArrival(flows, arrivals, by_dest, int(stats[0]), int(stats[1]))
