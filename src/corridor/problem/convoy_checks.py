"""Checks of a convoy problem: vehicles that cannot reach a gathering point, people no vehicle can reach.

Reachability ignores time: a road counts as usable unless a closure holds it (or one of its ends)
for the whole window. Each finding names the vehicles, depot or gathering point and says what to do.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from corridor.core.findings import Finding, Severity
from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import Windows


def _always_closed(windows: Windows, n: int, horizon: int) -> NDArray[np.bool_]:
    closed = np.zeros(n, dtype=bool)
    whole = (windows.begin <= 0) & (windows.end >= horizon)
    closed[windows.item[whole]] = True
    return closed


def _graph(problem: ConvoyProblem) -> csr_matrix:
    net = problem.network
    horizon = max(1, problem.horizon)
    arc_closed = _always_closed(problem.flow.arc_closed, net.n_arcs, horizon)
    node_closed = _always_closed(problem.flow.node_closed, net.n_nodes, horizon)
    keep = ~arc_closed & ~node_closed[net.tail] & ~node_closed[net.head]
    n = net.n_nodes
    ones = np.ones(int(keep.sum()), dtype=np.int8)
    return csr_matrix((ones, (net.tail[keep], net.head[keep])), shape=(n, n))


def _reach(graph: csr_matrix, start: int) -> NDArray[np.bool_]:
    seen = np.zeros(graph.shape[0], dtype=bool)
    seen[breadth_first_order(graph, start, directed=True, return_predecessors=False)] = True
    return seen


def check_convoy(problem: ConvoyProblem) -> list[Finding]:
    """Warnings on vehicles that can reach no gathering point and people no vehicle can bring out."""
    findings: list[Finding] = []
    flow = problem.flow
    ids = problem.network.node_ids
    graph = _graph(problem)
    gathering = problem.gathering_nodes.tolist()
    dests = flow.dest_node.tolist()
    reach_from: dict[int, NDArray[np.bool_]] = {}

    def reach(node: int) -> NDArray[np.bool_]:
        if node not in reach_from:
            reach_from[node] = _reach(graph, node)
        return reach_from[node]

    served: set[int] = set()
    starts = sorted(
        {(int(problem.vehicle_type[v]), int(problem.vehicle_node[v])) for v in range(problem.n_vehicles)}
    )
    for kind, depot in starts:
        seen = reach(depot)
        ok = [g for g in gathering if seen[g]]
        served.update(ok)
        if gathering and not ok:
            count = int(((problem.vehicle_type == kind) & (problem.vehicle_node == depot)).sum())
            findings.append(
                Finding(
                    Severity.WARNING,
                    "vehicle-cannot-reach-gathering",
                    f"fleet ({problem.type_ids[kind]}, depot {ids[depot]})",
                    f"{count} vehicles cannot reach any gathering point from their depot",
                    "move the depot, or check one-way roads and closures that hold for the whole window",
                )
            )
    for g in gathering:
        people = int(flow.source_people[flow.source_node == g].sum())
        if g not in served:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "gathering-unreachable",
                    f"gathering point {ids[g]}",
                    f"no vehicle can reach the {people} people waiting here",
                    "add vehicles with a depot that can reach it, or a gathering point they can reach",
                )
            )
        elif not any(reach(g)[d] for d in dests):
            findings.append(
                Finding(
                    Severity.WARNING,
                    "gathering-cannot-reach-reception",
                    f"gathering point {ids[g]}",
                    f"the {people} people waiting here cannot be driven to any reception point",
                    "check closures and one-way roads, or add a reception point they can reach",
                )
            )
    return findings


__all__ = ["check_convoy"]
