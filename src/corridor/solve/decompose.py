"""Path decomposition of a flow on the time-expanded network.

Walking tens of thousands of paths arc by arc in Python costs many times the max flow that produced
them; the walk here is compiled (``split_line`` and ``read_paths`` in ``_kernels.pyx``) and follows
the paths in rounds of one hop (a road or a checkpoint passage), every piece of every path once.

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
from corridor.solve.kernels import read_paths, split_line


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


def decompose(exp: ExpandedNetwork, problem: Problem, flows: IntArray) -> FlowPaths:
    """Split the flow into paths from the entries to the destinations (see the module docstring)."""
    line, start = _line(exp, flows)
    entry_flow = flows[exp.blocks["entry"]]
    used = np.flatnonzero(entry_flow > 0)
    lands_on = np.searchsorted(line.start, line.lands, side="right") - 1
    entry_on = np.searchsorted(line.start, start, side="right") - 1
    try:
        parent, arc, step, depth, end_path, end_dest, end_people = split_line(
            line.start,
            line.end,
            line.lands,
            line.road,
            line.step,
            line.dest,
            lands_on,
            start,
            start + entry_flow[used],
            entry_on,
        )
    except ValueError as error:
        raise SolverError(str(error), hint="this is a defect; please report it") from error
    trie = (parent, arc, step, depth)
    ends = (end_path, end_dest, end_people)
    return _collect(trie, ends, exp.entry_source[used], max(1, len(problem.dest_node)))


def _collect(
    trie: tuple[IntArray, IntArray, IntArray, IntArray],
    ends: tuple[IntArray, IntArray, IntArray],
    root_source: IntArray,
    n_dest: int,
) -> FlowPaths:
    """One path per (trie node, destination); the roads of each, read back from the trie."""
    parent, arc, step, depth = trie
    end_path, end_dest, end_people = ends
    key = end_path * n_dest + end_dest
    by_key = np.argsort(key, kind="stable")
    first = _run_starts(key[by_key])
    keys = key[by_key][first]
    people = np.add.reduceat(end_people[by_key], first) if len(first) else end_people
    leaf, dest = keys // n_dest, keys % n_dest
    hops = depth[leaf]
    off = np.cumsum(hops) - hops
    flat_arc = np.zeros(int(hops.sum()), dtype=np.int64)
    flat_step = np.zeros(len(flat_arc), dtype=np.int64)
    root = read_paths(parent, arc, step, leaf, hops, off, flat_arc, flat_step)
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
