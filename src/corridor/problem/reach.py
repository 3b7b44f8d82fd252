"""Shortest routes in steps, ignoring capacity: the bounds that prune the time-expanded network."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from corridor.problem.model import IntArray, Problem

UNREACHABLE = np.iinfo(np.int64).max // 4


def usable_arcs(problem: Problem) -> IntArray:
    """Arcs that can carry anyone at all: positive capacity, not leaving a blocked checkpoint."""
    net = problem.network
    ok = (problem.arc_cap > 0) & (problem.node_cap[net.tail] != 0)
    return np.flatnonzero(ok)


def _graph(problem: Problem, *, reverse: bool) -> csr_matrix:
    arcs = usable_arcs(problem)
    tail, head = problem.network.tail[arcs], problem.network.head[arcs]
    if reverse:
        tail, head = head, tail
    tau = problem.tau[arcs]
    # csr_matrix sums duplicates: keep the quickest of parallel arcs.
    order = np.lexsort((tau, head, tail))
    tail, head, tau = tail[order], head[order], tau[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    n = problem.n_nodes
    return csr_matrix((tau[first].astype(np.float64), (tail[first], head[first])), shape=(n, n))


def _steps(problem: Problem, starts: IntArray, *, reverse: bool) -> IntArray:
    if len(starts) == 0:
        return np.full(problem.n_nodes, UNREACHABLE, dtype=np.int64)
    dist = dijkstra(_graph(problem, reverse=reverse), indices=np.unique(starts), min_only=True)
    out = np.full(problem.n_nodes, UNREACHABLE, dtype=np.int64)
    finite = np.isfinite(dist)
    out[finite] = np.rint(dist[finite]).astype(np.int64)
    return out


def steps_from_sources(problem: Problem) -> IntArray:
    """Earliest step each node can be reached from a source with people (UNREACHABLE if never)."""
    return _steps(problem, problem.source_node[problem.source_people > 0], reverse=False)


def steps_to_destinations(problem: Problem) -> IntArray:
    """Fewest steps from each node to any destination (UNREACHABLE if none)."""
    return _steps(problem, problem.dest_node, reverse=True)
