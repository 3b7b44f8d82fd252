"""The time-expanded network of a problem, built with numpy and pruned by reachability.

Layer nodes: base node ``v`` is layer ``v`` (where people arrive and wait); a checkpoint node ``v`` has
a second layer ``n + j`` (after passage) from which its roads depart. Layer ``l`` exists at steps
``[early[l], late[l]]``: ``early`` is the earliest step any source can reach it, ``late`` the last step
from which a destination can still be reached by the horizon. Pairs outside that window can carry no
useful flow, so they are never built.

Arc blocks, in order: roads (base arc, departure step), waiting (layer, step -> step + 1), checkpoint
passage (checkpoint, step), source entries (source index), arrivals (destination, step), and one arc
per destination into the sink carrying the destination capacity. Source entries hang off one
super source per priority level, which hang off the global source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from corridor.problem.model import UNLIMITED, IntArray, Problem
from corridor.problem.reach import (
    UNREACHABLE,
    steps_from_sources,
    steps_to_destinations,
    usable_arcs,
)


def _ranges(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
    """For each i, the integers lo[i]..hi[i] (empty where hi < lo): (owner index, value)."""
    counts = np.maximum(0, hi - lo + 1)
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    value = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts - lo, counts)
    return owner, value


@dataclass(frozen=True, eq=False)
class ExpandedNetwork:
    """Arcs of the time-expanded network and the lookups back to the problem."""

    horizon: int
    n_nodes: int
    source: int
    sink: int
    level_nodes: IntArray  # one super source per priority level, most urgent first
    tail: NDArray[np.int32]
    head: NDArray[np.int32]
    capacity: IntArray
    arrival_step: IntArray  # per arc: step of arrival for arrival arcs, else 0 (for costs)
    blocks: dict[str, slice]
    road_arc: IntArray
    road_step: IntArray
    entry_source: IntArray
    arrive_dest: IntArray
    arrive_step: IntArray
    # layer id -> base node; for reconstruction of routes
    layer_node: IntArray
    layer_early: IntArray
    layer_offset: IntArray

    @property
    def n_arcs(self) -> int:
        return len(self.tail)

    def node_step(self, node: NDArray[np.int64]) -> tuple[IntArray, IntArray]:
        """(layer, step) of expanded nodes (not the super nodes)."""
        layer = np.searchsorted(self.layer_offset, node, side="right") - 1
        return layer, node - self.layer_offset[layer] + self.layer_early[layer]


def _windows(problem: Problem, horizon: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """early/late per layer, the layer's base node, and the departure layer of each base node."""
    n = problem.n_nodes
    cps = np.flatnonzero(problem.node_cap != UNLIMITED)
    early_v = steps_from_sources(problem)
    late_v = horizon - np.minimum(steps_to_destinations(problem), UNREACHABLE // 2)
    layer_node = np.concatenate([np.arange(n, dtype=np.int64), cps])
    early = early_v[layer_node]
    late = late_v[layer_node]
    out_layer = np.arange(n, dtype=np.int64)
    out_layer[cps] = n + np.arange(len(cps), dtype=np.int64)
    return early, late, layer_node, out_layer


def expand(problem: Problem, horizon: int | None = None, *, costs: bool = False) -> ExpandedNetwork:
    """Build the pruned time-expanded network for ``horizon`` steps (default: the problem's)."""
    T = problem.horizon if horizon is None else horizon
    net = problem.network
    early, late, layer_node, out_layer = _windows(problem, T)
    size = np.maximum(0, late - early + 1)
    offset = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)

    def at(layer: IntArray, step: IntArray) -> IntArray:
        return offset[layer] + step - early[layer]

    # Roads: depart from the out-layer of the tail in [early, min(late_tail, late_head - tau)].
    arcs = usable_arcs(problem)
    lo = early[out_layer[net.tail[arcs]]]
    hi = np.minimum(late[out_layer[net.tail[arcs]]], late[net.head[arcs]] - problem.tau[arcs])
    owner, r_step = _ranges(lo, hi)
    r_arc = arcs[owner]
    arrive = r_step + problem.tau[r_arc]
    keep = ~problem.arc_closed.closed(r_arc, r_step)
    keep &= ~problem.node_closed.closed(net.tail[r_arc], r_step)
    keep &= ~problem.node_closed.closed(net.head[r_arc], arrive)
    r_arc, r_step, arrive = r_arc[keep], r_step[keep], arrive[keep]
    road_t = at(out_layer[net.tail[r_arc]], r_step)
    road_h = at(net.head[r_arc], arrive)
    # Waiting at base nodes, step -> step + 1 (not after a checkpoint: passage is at departure).
    n = problem.n_nodes
    w_layer, w_step = _ranges(early[:n], late[:n] - 1)
    wait_t = at(w_layer, w_step)
    # Checkpoint passage: in-layer -> out-layer in the same step, at most node_cap people.
    cps = np.flatnonzero(problem.node_cap != UNLIMITED)
    p_owner, p_step = _ranges(early[cps], np.minimum(late[cps], late[out_layer[cps]]))
    p_node = cps[p_owner]
    open_ = ~problem.node_closed.closed(p_node, p_step)
    p_node, p_step = p_node[open_], p_step[open_]
    n_exp = int(size.sum())
    src, sink = n_exp, n_exp + 1
    levels = np.unique(problem.group_priority)
    n_dest = len(problem.dest_node)
    level_node = n_exp + 2 + n_dest + np.arange(len(levels), dtype=np.int64)
    entry_level = np.searchsorted(levels, problem.group_priority[problem.source_group])
    # Source entries at step 0, where the source can still reach a destination in time.
    s_ok = (problem.source_people > 0) & (early[problem.source_node] <= 0) & (late[problem.source_node] >= 0)
    entries = np.flatnonzero(s_ok)
    # Arrivals: (destination, step) -> destination node; destination node -> sink.
    d_owner, d_step = _ranges(early[problem.dest_node], late[problem.dest_node])
    dest_super = n_exp + 2 + np.arange(n_dest, dtype=np.int64)
    big = max(1, problem.people)
    dest_cap = np.where(problem.dest_cap == UNLIMITED, big, np.minimum(problem.dest_cap, big))

    parts = {
        "road": (road_t, road_h, problem.arc_cap[r_arc]),
        "wait": (wait_t, wait_t + 1, np.full(len(wait_t), big, dtype=np.int64)),
        "pass": (at(p_node, p_step), at(out_layer[p_node], p_step), problem.node_cap[p_node]),
        "level": (
            np.full(len(levels), src, dtype=np.int64),
            level_node,
            np.bincount(entry_level[entries], problem.source_people[entries], len(levels)).astype(np.int64),
        ),
        "entry": (
            level_node[entry_level[entries]],
            at(problem.source_node[entries], np.zeros(len(entries), dtype=np.int64)),
            problem.source_people[entries],
        ),
        "arrive": (
            at(problem.dest_node[d_owner], d_step),
            dest_super[d_owner],
            np.full(len(d_owner), big, dtype=np.int64),
        ),
        "out": (dest_super, np.full(n_dest, sink, dtype=np.int64), dest_cap.astype(np.int64)),
    }
    blocks: dict[str, slice] = {}
    start = 0
    for name, (t, _, _) in parts.items():
        blocks[name] = slice(start, start + len(t))
        start += len(t)
    arrival_step = np.zeros(start, dtype=np.int64)
    if costs:
        arrival_step[blocks["arrive"]] = d_step
    return ExpandedNetwork(
        horizon=T,
        n_nodes=n_exp + 2 + n_dest + len(levels),
        source=src,
        sink=sink,
        level_nodes=level_node,
        tail=np.concatenate([p[0] for p in parts.values()]).astype(np.int32),
        head=np.concatenate([p[1] for p in parts.values()]).astype(np.int32),
        capacity=np.concatenate([p[2] for p in parts.values()]).astype(np.int64),
        arrival_step=arrival_step,
        blocks=blocks,
        road_arc=r_arc,
        road_step=r_step,
        entry_source=entries,
        arrive_dest=d_owner,
        arrive_step=d_step,
        layer_node=layer_node,
        layer_early=early,
        layer_offset=offset,
    )
