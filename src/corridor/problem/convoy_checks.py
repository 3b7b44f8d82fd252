"""Checks of a convoy problem: vehicles that cannot reach a gathering point, people no vehicle can reach.

Reachability ignores time: a road counts as usable unless a closure holds it (or one of its ends)
for the whole window. Each finding names the vehicles, depot or gathering point and says what to do.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra

from corridor.core.findings import Finding, Severity
from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import Windows


def _always_closed(windows: Windows, n: int, horizon: int) -> NDArray[np.bool_]:
    closed = np.zeros(n, dtype=bool)
    whole = (windows.begin <= 0) & (windows.end >= horizon)
    closed[windows.item[whole]] = True
    return closed


def _open_arcs(problem: ConvoyProblem) -> NDArray[np.bool_]:
    net = problem.network
    horizon = max(1, problem.horizon)
    arc_closed = _always_closed(problem.flow.arc_closed, net.n_arcs, horizon)
    node_closed = _always_closed(problem.flow.node_closed, net.n_nodes, horizon)
    return np.asarray(~arc_closed & ~node_closed[net.tail] & ~node_closed[net.head], dtype=bool)


def _graph(problem: ConvoyProblem) -> csr_matrix:
    net = problem.network
    keep = _open_arcs(problem)
    n = net.n_nodes
    ones = np.ones(int(keep.sum()), dtype=np.int8)
    return csr_matrix((ones, (net.tail[keep], net.head[keep])), shape=(n, n))


def _on_board_findings(problem: ConvoyProblem) -> list[Finding]:
    """Vehicles with people on board that cannot reach any reception point by the deadline, even on
    empty roads by the shortest way (closures counted only where they hold for the whole window)."""
    riding = [v for v, loads in enumerate(problem.vehicle_on_board) if loads]
    if not riding:
        return []
    net = problem.network
    keep = _open_arcs(problem)
    n = net.n_nodes
    dests = problem.flow.dest_node.tolist()
    findings: list[Finding] = []
    for v in riding:
        k = int(problem.vehicle_type[v])
        # reversed arcs: the distance from each node to the nearest reception point; a steps' graph
        # keeps the parallel road with the fewest steps (csr sums duplicates, so take the minimum first)
        steps: dict[tuple[int, int], int] = {}
        for a in np.flatnonzero(keep).tolist():
            key = (int(net.head[a]), int(net.tail[a]))
            steps[key] = min(steps.get(key, 2**62), int(problem.arc_steps[k, a]))
        rows, cols = zip(*steps, strict=True) if steps else ((), ())
        graph = csr_matrix((list(steps.values()), (rows, cols)), shape=(n, n))
        node = int(problem.vehicle_node[v])
        dist = dijkstra(graph, directed=True, indices=dests, min_only=True)
        arrive = int(problem.vehicle_ready[v]) + float(dist[node])
        if arrive > problem.horizon:
            people = sum(p for _, p in problem.vehicle_on_board[v])
            findings.append(
                Finding(
                    Severity.WARNING,
                    "on-board-cannot-reach-reception",
                    f"vehicle {problem.vehicle_ids[v]} at {net.node_ids[node]}",
                    f"the {people} people on board cannot reach any reception point by the deadline",
                    "check the vehicle's place and free time in the live state, closures, or the deadline",
                )
            )
    return findings


def _reach(graph: csr_matrix, start: int) -> NDArray[np.bool_]:
    seen = np.zeros(graph.shape[0], dtype=bool)
    seen[breadth_first_order(graph, start, directed=True, return_predecessors=False)] = True
    return seen


def check_convoy(problem: ConvoyProblem) -> list[Finding]:
    """Warnings on vehicles that can reach no gathering point, people no vehicle can bring out, and
    people on board who cannot reach a reception point by the deadline."""
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
    findings.extend(_on_board_findings(problem))
    return findings


__all__ = ["check_convoy"]
