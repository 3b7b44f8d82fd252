"""Path decomposition of a flow on the time-expanded network, with array operations.

Walking tens of thousands of paths arc by arc in Python costs many times the max flow that produced
them; this follows all the paths at once, one hop (a road or a checkpoint passage) per round.

How: every layer of the expanded network (a road node, or a checkpoint's side after passage) is
one *line* of people over the whole horizon, first in, first out. Its arcs in (entries, roads
arriving, passages) sorted by step cover the line end to end, and so do its arcs out (roads
leaving, passages, arrivals at a destination) sorted by step: flow is conserved at every step,
and waiting only carries people from one step to the next, so both cover the same total. The k-th
person in is the k-th out, and leaves no earlier than arriving, because by any step no more have
left than have come. The nodes of the expanded network are numbered layer by layer and step by
step, so sorting the arcs by head (in) or by tail (out) lays every line end to end at the same
places: one global line, cut once by the arcs in and once by the arcs out.

A *segment* is an interval of that line (people who came in together by the same path); cutting it
at the boundaries of the arcs out gives its *pieces*, each of which leaves on one arc and becomes
a segment at that arc's head. A segment carries the id of its path so far: a node of a trie whose
edges are the roads taken (passage does not extend it, waiting is implicit). Pieces that arrive at
a destination end there; one path per (trie node, destination) reached. Every piece is handled
once, so the work is the size of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corridor.core.errors import SolverError
from corridor.problem.model import IntArray, Problem
from corridor.solve.expand import ExpandedNetwork


@dataclass(frozen=True)
class FlowPaths:
    """Paths as flat arrays: path ``r`` carries ``people[r]`` from source ``source[r]`` to
    destination ``dest[r]``, leaving on road ``arc[k]`` at step ``step[k]`` for ``k`` in
    ``off[r] .. off[r] + hops[r] - 1``."""

    source: IntArray  # source index (of the entry the path starts from)
    dest: IntArray
    people: IntArray
    hops: IntArray
    off: IntArray
    arc: IntArray
    step: IntArray


@dataclass(frozen=True)
class _Line:
    """The arcs out, sorted along the line: where each starts and ends, where its people land on
    the line at its head (-1 for arrivals), and what it is (base road and step, or destination)."""

    start: IntArray
    end: IntArray
    lands: IntArray
    road: IntArray  # base arc of a road, else -1
    step: IntArray  # departure step of a road
    dest: IntArray  # destination index of an arrival, else -1


def _line(exp: ExpandedNetwork, flows: IntArray) -> tuple[_Line, IntArray]:
    """The arcs out along the line, and where each entry's people start on it."""
    b = exp.blocks

    def carrying(*names: str) -> IntArray:
        return np.concatenate([b[n].start + np.flatnonzero(flows[b[n]] > 0) for n in names])

    arcs_in = carrying("entry", "road", "pass")
    arcs_in = arcs_in[np.argsort(exp.head[arcs_in], kind="stable")]
    arcs_out = carrying("road", "pass", "arrive")
    arcs_out = arcs_out[np.argsort(exp.tail[arcs_out], kind="stable")]
    in_start = np.cumsum(flows[arcs_in]) - flows[arcs_in]
    out_flow = flows[arcs_out]
    out_start = np.cumsum(out_flow) - out_flow
    if int(flows[arcs_in].sum()) != int(out_flow.sum()):
        raise SolverError("the flow is not conserved", hint="this is a defect; please report it")
    lands_at = np.full(exp.n_arcs, -1, dtype=np.int64)
    lands_at[arcs_in] = in_start
    road = np.full(len(arcs_out), -1, dtype=np.int64)
    step = np.zeros(len(arcs_out), dtype=np.int64)
    on_road = (arcs_out >= b["road"].start) & (arcs_out < b["road"].stop)
    road[on_road] = exp.road_arc[arcs_out[on_road] - b["road"].start]
    step[on_road] = exp.road_step[arcs_out[on_road] - b["road"].start]
    dest = np.full(len(arcs_out), -1, dtype=np.int64)
    arrive = (arcs_out >= b["arrive"].start) & (arcs_out < b["arrive"].stop)
    dest[arrive] = exp.arrive_dest[arcs_out[arrive] - b["arrive"].start]
    line = _Line(out_start, out_start + out_flow, lands_at[arcs_out], road, step, dest)
    return line, lands_at[b["entry"].start + np.flatnonzero(flows[b["entry"]] > 0)]


def _pieces(line: _Line, lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Cut the segments ``[lo, hi)`` at the arcs out: (segment, arc out, start, end) per piece."""
    first = _find(line.start, lo)
    last = first.copy()
    more = np.flatnonzero(hi > line.end[first])  # most segments leave on one arc
    last[more] = _find(line.start, hi[more] - 1)
    counts = last - first + 1
    seg = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    arc = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts - first, counts)
    return seg, arc, np.maximum(lo[seg], line.start[arc]), np.minimum(hi[seg], line.end[arc])


def _find(starts: IntArray, at: IntArray) -> IntArray:
    """Index of the interval holding each position (``starts`` ascending). The positions are
    searched in order, which keeps the search in cache (twice as fast as in any order)."""
    order = np.argsort(at)
    out = np.empty(len(at), dtype=np.int64)
    out[order] = np.searchsorted(starts, at[order], side="right") - 1
    return out


class _Trie:
    """Paths so far: node ``i`` took road ``arc[i]`` at ``step[i]`` after node ``parent[i]``.

    Nodes are added in chunks, parents always before their children."""

    def __init__(self, roots: int) -> None:
        self.size = roots
        self.parent = [np.full(roots, -1, dtype=np.int64)]
        self.arc = [np.full(roots, -1, dtype=np.int64)]
        self.step = [np.zeros(roots, dtype=np.int64)]

    def extend(self, parent: IntArray, arc: IntArray, step: IntArray) -> IntArray:
        ids = self.size + np.arange(len(parent), dtype=np.int64)
        self.size += len(parent)
        self.parent.append(parent)
        self.arc.append(arc)
        self.step.append(step)
        return ids

    def arrays(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """(parent, arc, step, depth) of every node; depth = roads taken."""
        depth = np.zeros(self.size, dtype=np.int64)
        start = len(self.parent[0])
        for parent in self.parent[1:]:
            depth[start : start + len(parent)] = depth[parent] + 1
            start += len(parent)
        return (
            np.concatenate(self.parent),
            np.concatenate(self.arc),
            np.concatenate(self.step),
            depth,
        )


def decompose(exp: ExpandedNetwork, problem: Problem, flows: IntArray) -> FlowPaths:
    """Split the flow into paths from the entries to the destinations (see the module docstring)."""
    line, start = _line(exp, flows)
    entry_flow = flows[exp.blocks["entry"]]
    used = np.flatnonzero(entry_flow > 0)
    trie = _Trie(len(used))
    lo, hi, path = start, start + entry_flow[used], np.arange(len(used), dtype=np.int64)
    ends: list[tuple[IntArray, IntArray, IntArray]] = []  # (trie node, destination, people)
    for _ in range(len(line.start) + 1):  # no path takes an arc twice
        if len(lo) == 0:
            break
        seg, arc, a, b = _pieces(line, lo, hi)
        path = path[seg]
        road = line.road[arc] >= 0
        path[road] = trie.extend(path[road], line.road[arc[road]], line.step[arc[road]])
        done = line.lands[arc] < 0
        ends.append((path[done], line.dest[arc[done]], b[done] - a[done]))
        go = ~done
        arc, a, b, path = arc[go], a[go], b[go], path[go]
        lo = line.lands[arc] + a - line.start[arc]
        hi = lo + b - a
    else:
        raise SolverError("the flow goes round in a cycle", hint="this is a defect; please report it")
    return _collect(trie, ends, exp.entry_source[used], max(1, len(problem.dest_node)))


def _collect(
    trie: _Trie,
    ends: list[tuple[IntArray, IntArray, IntArray]],
    root_source: IntArray,
    n_dest: int,
) -> FlowPaths:
    """One path per (trie node, destination); the roads of each, read back from the trie."""
    end_path = np.concatenate([e[0] for e in ends]) if ends else np.zeros(0, dtype=np.int64)
    end_dest = np.concatenate([e[1] for e in ends]) if ends else end_path
    end_people = np.concatenate([e[2] for e in ends]) if ends else end_path
    key = end_path * n_dest + end_dest
    by_key = np.argsort(key, kind="stable")
    first = _run_starts(key[by_key])
    keys = key[by_key][first]
    people = np.add.reduceat(end_people[by_key], first) if len(first) else end_people
    leaf, dest = keys // n_dest, keys % n_dest
    parent, arc, step, depth = trie.arrays()
    hops = depth[leaf]
    off = np.cumsum(hops) - hops
    flat_arc = np.zeros(int(hops.sum()), dtype=np.int64)
    flat_step = np.zeros(len(flat_arc), dtype=np.int64)
    # Walk up from the leaves, deepest first, so the routes still climbing are a prefix.
    order = np.argsort(-hops, kind="stable")
    node = leaf[order]
    hops_o, off_o = hops[order], off[order]
    for d in range(int(hops.max()) if len(hops) else 0):
        alive = int(np.searchsorted(-hops_o, -d, side="left"))
        cur = node[:alive]
        at = off_o[:alive] + hops_o[:alive] - 1 - d
        flat_arc[at] = arc[cur]
        flat_step[at] = step[cur]
        node[:alive] = parent[cur]
    root = np.empty_like(leaf)
    root[order] = node
    return FlowPaths(root_source[root], dest, people, hops, off, flat_arc, flat_step)


def arrivals(problem: Problem, d: FlowPaths) -> IntArray:
    """Arrival step of each path (its last road's; 0 for a path of no roads)."""
    last = d.off + d.hops - 1
    has = d.hops > 0
    out = np.zeros(len(d.hops), dtype=np.int64)
    out[has] = d.step[last[has]] + problem.tau[d.arc[last[has]]]
    return out


def departures(d: FlowPaths) -> IntArray:
    """Departure step of each path (its first road's; 0 for a path of no roads)."""
    out = np.zeros(len(d.hops), dtype=np.int64)
    has = d.hops > 0
    out[has] = d.step[d.off[has]]
    return out


def _run_starts(sorted_keys: IntArray) -> IntArray:
    """Where each run of equal values starts in ``sorted_keys``."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(([0], np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1))


def _distinct(values: IntArray) -> IntArray:
    """The distinct values, ascending (a stable sort merges the sorted runs in linear time)."""
    values = np.sort(values, kind="stable")
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def cut(length_a: IntArray, length_b: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Lay ``a`` and ``b`` (positive lengths, same total) end to end on one line each and cut the
    line at both sets of boundaries: (index in ``a``, index in ``b``, length) of every piece."""
    start_a = np.cumsum(length_a) - length_a
    start_b = np.cumsum(length_b) - length_b
    total = int(length_a.sum())
    if total != int(length_b.sum()):
        raise SolverError("the flow is not conserved", hint="this is a defect; please report it")
    cuts = _distinct(np.concatenate((start_a, start_b)))
    size = np.diff(np.append(cuts, total))
    return (
        np.searchsorted(start_a, cuts, side="right") - 1,
        np.searchsorted(start_b, cuts, side="right") - 1,
        size,
    )
