"""Shortest routes in steps, ignoring capacity: the bounds that prune the time-expanded network.

The distances come from a label-correcting pass written with numpy (no scipy: importing it costs a
``corridor plan`` process about 0.15 s, more than the searches themselves). Every arc takes at
least one step, so the pass ends after as many rounds as the most hops on a shortest route (about
140 on Berlin-Center's 13,000 nodes, a few milliseconds each way).
"""

from __future__ import annotations

import numpy as np

from corridor.problem.model import IntArray, Problem

UNREACHABLE = np.iinfo(np.int64).max // 4


def usable_arcs(problem: Problem) -> IntArray:
    """Arcs that can carry anyone at all: positive capacity, not leaving a blocked checkpoint."""
    net = problem.network
    ok = (problem.arc_cap > 0) & (problem.node_cap[net.tail] != 0)
    return np.flatnonzero(ok)


def _out_arcs(problem: Problem, *, reverse: bool) -> tuple[IntArray, IntArray, IntArray]:
    """The usable arcs grouped by the node they leave (``reverse``: the node they enter), as
    ``(first, head, tau)``: the arcs of node ``u`` are ``first[u]:first[u + 1]``."""
    arcs = usable_arcs(problem)
    tail, head = problem.network.tail[arcs], problem.network.head[arcs]
    if reverse:
        tail, head = head, tail
    order = np.argsort(tail, kind="stable")
    first = np.zeros(problem.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=problem.n_nodes), out=first[1:])
    return first, head[order].astype(np.int64), problem.tau[arcs][order].astype(np.int64)


def _steps(problem: Problem, starts: IntArray, *, reverse: bool) -> IntArray:
    """Fewest steps from any of ``starts`` to each node (``reverse``: from each node to one of
    them), UNREACHABLE where there is no route. Each round relaxes the arcs leaving the nodes whose
    label fell in the round before (the quickest of parallel arcs wins by the minimum)."""
    n = problem.n_nodes
    dist = np.full(n, UNREACHABLE, dtype=np.int64)
    front = np.unique(np.asarray(starts, dtype=np.int64))
    if len(front) == 0:
        return dist
    first, head, tau = _out_arcs(problem, reverse=reverse)
    degree = np.diff(first)
    dist[front] = 0
    while len(front):
        count = degree[front]
        ends = np.cumsum(count)
        total = int(ends[-1])
        if total == 0:
            break
        # The positions of the front's arcs: node u's run starts at first[u].
        at = np.arange(total, dtype=np.int64) + np.repeat(first[front] - ends + count, count)
        to = head[at]
        label = np.repeat(dist[front], count) + tau[at]
        better = label < dist[to]
        to, label = to[better], label[better]
        np.minimum.at(dist, to, label)
        front = np.flatnonzero(np.bincount(to, minlength=n))
    return dist


def steps_from_sources(problem: Problem) -> IntArray:
    """Earliest step each node can be reached from a source with people (UNREACHABLE if never)."""
    return _steps(problem, problem.source_node[problem.source_people > 0], reverse=False)


def steps_to_destinations(problem: Problem) -> IntArray:
    """Fewest steps from each node to any destination (UNREACHABLE if none)."""
    return _steps(problem, problem.dest_node, reverse=True)
