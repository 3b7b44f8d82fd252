"""Loops cut out of the paths of a flow: people wait where a loop starts instead of driving round it.

In a time-expanded network, going ``v -> u -> v`` over some steps costs the same as waiting at ``v``
for those steps, so an optimal flow may send people round loops while they wait for a road or a
checkpoint to free up. Read literally, such a plan has people leave within minutes and drive round.

The cut: when a path is at node ``v`` at some step and comes back to ``v`` later, drop the hops in
between and let its people wait at ``v`` until the path leaves ``v`` for the last time, at the step
it was planned to. Repeated from the start of the path, this is the path's loop erasure: the hop
kept after each node is the one that leaves that node's last visit. What is left is a subsequence of
the path's hops at their own steps, so it stays feasible and gets the same people out:

- no road, checkpoint or reception point carries anyone it did not carry before (loads only fall),
  and a hop that is kept leaves when it did, so closures of roads and places are kept too;
- waiting is allowed at every node at every step the path could be there: the expanded network
  (:mod:`corridor.solve.expand`) has a waiting arc at every road node for every step of its window,
  with no capacity limit; a closure forbids departures from a place and arrivals into it, not
  staying in it; a checkpoint is passed when people leave it, so they wait on the near side and
  pass it at the step the kept hop leaves, a passage the path already made. No loop is therefore
  ever needed: every one is cut;
- a path ends where it first reaches its destination: people out do not leave again. That can only
  make the arrival earlier, and only in a maximum flow: in a least-time flow arriving later costs
  more, so there every arrival step, and the total time, stays the flow's.

Two paths from the same source node that become the same (same roads at the same steps to the same
destination) are merged into one, carrying the people of both. The cut is compiled
(``loop_free_hops`` in ``_kernels.pyx``: one pass over each path's visits); the merge works on
arrays over all paths at once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from corridor.problem.model import IntArray, Problem
from corridor.solve.decompose import FlowPaths
from corridor.solve.kernels import loop_free_hops


def without_loops(problem: Problem, d: FlowPaths) -> FlowPaths:
    """The paths of ``d`` with their loops cut (see the module docstring), identical ones merged."""
    first = d.off + np.arange(len(d.off), dtype=np.int64)
    kept = loop_free_hops(visits(problem, d), first, d.hops, problem.dest_node[d.dest], problem.n_nodes)
    if not kept.all():
        d = _keep(d, kept)
    return _merged(problem, d)


def has_loops(problem: Problem, d: FlowPaths) -> NDArray[np.bool_]:
    """Per path: does it visit some node more than once?"""
    last = _last_visits(visits(problem, d), d.hops, problem.n_nodes)
    return _looped(last, d.off + np.arange(len(d.off), dtype=np.int64))


def _looped(last: IntArray, first: IntArray) -> NDArray[np.bool_]:
    """Per path (its visits start at ``first``): is some visit not the last to its node?"""
    behind = last > np.arange(len(last), dtype=np.int64)
    return np.logical_or.reduceat(behind, first) if len(first) else np.zeros(0, dtype=bool)


def visits(problem: Problem, d: FlowPaths) -> IntArray:
    """The nodes each path visits, paths end to end: path ``r``'s are at ``first[r] .. first[r] +
    hops[r]`` with ``first = off + r`` (its source node, then the head of each road)."""
    first = d.off + np.arange(len(d.off), dtype=np.int64)
    node = np.empty(len(d.arc) + len(d.off), dtype=np.int64)
    starts = np.zeros(len(node), dtype=bool)
    starts[first] = True
    node[first] = problem.source_node[d.source]
    node[~starts] = problem.network.head[d.arc]
    return node


def _last_visits(node: IntArray, hops: IntArray, n_nodes: int) -> IntArray:
    """Per visit: the position of the last visit of the same path to the same node.

    A stable sort by node keeps each path's visits in order, paths one after another; the visits of
    one path to one node are then a run, and the run's last is the last visit."""
    if len(node) == 0:
        return node.copy()
    order = _stable_order(node, n_nodes)
    path = np.repeat(np.arange(len(hops), dtype=np.int64), hops + 1)
    key = (path * n_nodes + node)[order]
    new = np.append(True, key[1:] != key[:-1])
    ends = np.append(np.flatnonzero(new[1:]), len(key) - 1)
    last = np.empty(len(node), dtype=np.int64)
    last[order] = order[ends[np.cumsum(new) - 1]]
    return last


def _stable_order(values: IntArray, size: int) -> IntArray:
    """A stable argsort of ``values`` in ``0 .. size - 1``, by 16-bit digits (numpy sorts those by
    radix, in linear time: several times faster than a comparison sort of 64-bit values)."""
    order = np.argsort(values.astype(np.uint16), kind="stable")
    shift = 16
    while size > 1 << shift:
        digit = (values[order] >> shift).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order


def _keep(d: FlowPaths, kept: NDArray[np.bool_]) -> FlowPaths:
    """``d`` with only the ``kept`` hops."""
    before = np.concatenate(([0], np.cumsum(kept, dtype=np.int64)))
    hops = before[d.off + d.hops] - before[d.off]
    off = np.cumsum(hops) - hops
    return FlowPaths(d.source, d.dest, d.people, hops, off, d.arc[kept], d.step[kept])


def _merged(problem: Problem, d: FlowPaths, *, base: np.uint64 | None = None) -> FlowPaths:
    """Paths that share source node, destination and hops (roads and steps) made one, carrying the
    people of all, at the place of the first.

    Candidates share the source node, the destination, the number of hops and a 64-bit polynomial
    hash of the hops; each is then compared hop by hop with the first of its candidates and merged
    only if equal (a hash collision, never seen, would leave a path on its own: still correct).
    ``base``: of the hash (tests make collisions with 1)."""
    n = len(d.hops)
    if n < 2:
        return d
    code = (d.arc * (problem.horizon + 1) + d.step).astype(np.uint64)
    at = np.arange(len(code), dtype=np.int64) - np.repeat(d.off, d.hops)
    powers = np.cumprod(np.full(int(d.hops.max()) + 1, _BASE if base is None else base, dtype=np.uint64))
    running = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(code * powers[at], dtype=np.uint64)))
    digest = running[d.off + d.hops] - running[d.off]
    start = (problem.source_node[d.source] * max(1, len(problem.dest_node)) + d.dest) * (
        int(d.hops.max()) + 1
    ) + d.hops
    order = np.lexsort((digest, start))
    same = (start[order][1:] == start[order][:-1]) & (digest[order][1:] == digest[order][:-1])
    if not same.any():
        return d
    # Each path's candidate group is named by its first member (lexsort is stable).
    head = np.maximum.accumulate(np.where(np.append(True, ~same), np.arange(n), 0))
    first = np.empty(n, dtype=np.int64)
    first[order] = order[head]
    member = np.flatnonzero(first != np.arange(n))
    hops = d.hops[member]
    mine = _hops_of(d.off[member], hops)
    twin = mine + np.repeat(d.off[first[member]] - d.off[member], hops)
    differs = np.unique(np.repeat(member, hops)[code[mine] != code[twin]])
    first[differs] = differs
    return _gather(d, first)


_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so every power is odd and none is zero


def _gather(d: FlowPaths, first: IntArray) -> FlowPaths:
    """One path per group of identical paths (``first``: each path's first twin, itself if none),
    at the first's place, carrying the people of all."""
    people = np.bincount(first, weights=d.people, minlength=len(first)).astype(np.int64)
    keep = np.flatnonzero(first == np.arange(len(first)))
    hops = d.hops[keep]
    flat = _hops_of(d.off[keep], hops)
    off = np.cumsum(hops) - hops
    return FlowPaths(d.source[keep], d.dest[keep], people[keep], hops, off, d.arc[flat], d.step[flat])


def _hops_of(off: IntArray, hops: IntArray) -> IntArray:
    """Where the hops of the paths starting at ``off`` are in the flat arrays, path after path."""
    return np.repeat(off - (np.cumsum(hops) - hops), hops) + np.arange(int(hops.sum()), dtype=np.int64)
