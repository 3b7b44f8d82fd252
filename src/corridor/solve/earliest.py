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

Reception capacities are not part of this search. :func:`earliest_arrival_flow` returns the flow
with every destination's arrivals, and the caller checks them against the capacities: a flow that
respects them is optimal for the capacitated problem too (it is optimal for a relaxation of it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from corridor.problem.model import IntArray
from corridor.solve.expand import ExpandedNetwork

_ROOT = -2  # parent of the source
_FREE = -1  # not attached to the tree (or cut off and waiting for a new parent)
_INF = 1 << 40


def _augment_by_step(  # noqa: C901  (one loop nest, kept whole for the compiler)
    start: IntArray,
    to: NDArray[np.int32],
    rcap: IntArray,
    rev: IntArray,
    due: IntArray,
    is_dest: NDArray[np.bool_],
    src: int,
    order: IntArray,
    order_due: IntArray,
    horizon: int,
    stats: IntArray,
) -> IntArray:
    """The successive augmentation on a residual network in CSR form (``rcap`` updated in place).
    Returns the people absorbed at each arrival node. ``stats``: arcs scanned, augmentations,
    parent checks."""
    n = len(start) - 1
    par = np.full(n, _FREE, np.int64)
    tree = np.zeros(n, np.bool_)
    ts = np.zeros(n, np.int64)
    dist = np.zeros(n, np.int64)
    absorbed = np.zeros(n, np.int64)
    ring = n + 1
    queue = np.zeros(ring, np.int64)
    queued = np.zeros(n, np.bool_)
    qh = 0
    qt = 0
    orphans = np.zeros(n, np.int64)
    n_orphans = 0
    pending = np.zeros(n + 1, np.int64)
    n_pending = 0
    now = 1
    par[src] = _ROOT
    tree[src] = True
    queue[qt] = src
    qt += 1
    queued[src] = True
    k = 0
    for tau in range(horizon + 1):
        # Pairs that became useful at tau: attach each to a tree node that reaches it.
        while k < len(order) and order_due[k] <= tau:
            v = order[k]
            k += 1
            if tree[v]:
                continue
            for e in range(start[v], start[v + 1]):
                r = rev[e]
                q = to[e]
                if rcap[r] > 0 and tree[q] and not is_dest[q] and par[q] != _FREE:
                    par[v] = r
                    tree[v] = True
                    ts[v] = ts[q]
                    dist[v] = dist[q] + 1
                    if is_dest[v]:
                        pending[n_pending] = v
                        n_pending += 1
                    elif not queued[v]:
                        queued[v] = True
                        queue[qt] = v
                        qt = (qt + 1) % ring
                    break
        while True:
            if n_pending > 0:
                t = pending[n_pending - 1]
                n_pending -= 1
                if not tree[t] or par[t] == _FREE:
                    continue
                b = _INF
                j = t
                while par[j] != _ROOT:
                    a = par[j]
                    b = min(b, rcap[a])
                    j = to[rev[a]]
                j = t
                while par[j] != _ROOT:
                    a = par[j]
                    rcap[a] -= b
                    rcap[rev[a]] += b
                    up = to[rev[a]]
                    if rcap[a] == 0:
                        par[j] = _FREE
                        orphans[n_orphans] = j
                        n_orphans += 1
                    j = up
                absorbed[t] += b
                stats[1] += 1
                now += 1
                # Re-attach what the augmentation cut off, or let it go (and wake its neighbours).
                while n_orphans > 0:
                    n_orphans -= 1
                    o = orphans[n_orphans]
                    best = -1
                    best_d = _INF
                    for e in range(start[o], start[o + 1]):
                        r = rev[e]
                        if rcap[r] <= 0:
                            continue
                        q = to[e]
                        if not tree[q] or is_dest[q] or par[q] == _FREE:
                            continue
                        stats[2] += 1
                        # q's depth if its parents lead to the source (marking the path
                        # with ``now`` so that later checks in this round stop there)
                        d = 0
                        j = q
                        while True:
                            if ts[j] == now:
                                d += dist[j]
                                break
                            a = par[j]
                            d += 1
                            if a == _ROOT:
                                ts[j] = now
                                dist[j] = 0
                                d -= 1
                                break
                            if a == _FREE:
                                d = _INF
                                break
                            j = to[rev[a]]
                        if d < _INF:
                            j = q
                            dd = d
                            while ts[j] != now:
                                ts[j] = now
                                dist[j] = dd
                                dd -= 1
                                j = to[rev[par[j]]]
                        if d < best_d:
                            best_d = d
                            best = r
                    if best >= 0:
                        par[o] = best
                        ts[o] = now
                        dist[o] = best_d + 1
                        continue
                    tree[o] = False
                    for e in range(start[o], start[o + 1]):
                        q = to[e]
                        if not tree[q]:
                            continue
                        if rcap[rev[e]] > 0 and not is_dest[q] and not queued[q]:
                            queued[q] = True
                            queue[qt] = q
                            qt = (qt + 1) % ring
                        if par[q] == e:
                            par[q] = _FREE
                            orphans[n_orphans] = q
                            n_orphans += 1
                if tree[t] and par[t] != _FREE:
                    pending[n_pending] = t
                    n_pending += 1
                continue
            if qh == qt:
                break
            p = queue[qh]
            qh = (qh + 1) % ring
            queued[p] = False
            if not tree[p] or par[p] == _FREE:
                continue
            stats[0] += start[p + 1] - start[p]
            for e in range(start[p], start[p + 1]):
                if rcap[e] <= 0:
                    continue
                q = to[e]
                if tree[q] or due[q] > tau:
                    continue
                par[q] = e
                tree[q] = True
                ts[q] = ts[p]
                dist[q] = dist[p] + 1
                if is_dest[q]:
                    pending[n_pending] = q
                    n_pending += 1
                elif not queued[q]:
                    queued[q] = True
                    queue[qt] = q
                    qt = (qt + 1) % ring
            if n_pending > 0 and not queued[p]:
                queued[p] = True  # the augmentations may free neighbours that p reaches
                queue[qt] = p
                qt = (qt + 1) % ring
    return absorbed


_compiled: dict[str, Callable[..., Any]] = {}


def _kernel() -> Callable[..., IntArray]:
    """The augmentation compiled to machine code (numba; cached on disk after the first run)."""
    if "augment" not in _compiled:
        import numba

        _compiled["augment"] = numba.njit(cache=True, nogil=True)(_augment_by_step)
    augment = _compiled["augment"]
    return lambda *args: cast(IntArray, augment(*args))


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
    is_dest = np.zeros(exp.n_nodes, dtype=np.bool_)
    is_dest[exp.tail[arrive]] = True
    order = np.argsort(due, kind="stable")
    order = order[due[order] >= 0]
    order = order[due[order] <= exp.horizon]
    stats = np.zeros(3, dtype=np.int64)
    absorbed = _kernel()(
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
