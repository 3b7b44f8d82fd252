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


def _steps_graph(problem: ConvoyProblem, kind: int, keep: NDArray[np.bool_]) -> csr_matrix:
    """Roads ``keep`` weighted by the steps of vehicle type ``kind`` (the fastest of parallel roads)."""
    net = problem.network
    steps: dict[tuple[int, int], int] = {}
    for a in np.flatnonzero(keep).tolist():
        key = (int(net.tail[a]), int(net.head[a]))
        steps[key] = min(steps.get(key, 2**62), int(problem.arc_steps[kind, a]))
    n = net.n_nodes
    if not steps:
        return csr_matrix((n, n))
    rows, cols = zip(*steps, strict=True)
    return csr_matrix((list(steps.values()), (rows, cols)), shape=(n, n))


def _earliest_delivery(problem: ConvoyProblem, v: int) -> float:
    """A lower bound on when vehicle ``v`` can bring its people on board to a reception point: the
    shortest haul around every checkpoint, or through exactly one (with its inspection unless it is at
    the reception point), on roads not closed for the whole window."""
    net = problem.network
    open_arcs = _open_arcs(problem)
    kind, node = int(problem.vehicle_type[v]), int(problem.vehicle_node[v])
    people = sum(p for _, p in problem.vehicle_on_board[v])
    dests = [int(d) for d in problem.flow.dest_node.tolist()]
    cp_nodes = [int(c) for c in problem.flow.checkpoint_node.tolist()]
    best = float("inf")
    for c in [None, *range(len(cp_nodes))]:
        avoid = np.zeros(net.n_nodes, dtype=bool)
        avoid[cp_nodes] = True
        if c is not None:
            avoid[cp_nodes[c]] = False
        if avoid[node]:
            continue
        graph = _steps_graph(problem, kind, open_arcs & ~avoid[net.tail] & ~avoid[net.head])
        first = dijkstra(graph, directed=True, indices=node)
        if c is None:
            best = min([best, *(float(first[d]) for d in dests if not avoid[d])])
            continue
        at = cp_nodes[c]
        second = dijkstra(graph, directed=True, indices=at)
        inspect = problem.inspection_steps(c, people)
        for d in dests:
            best = min(best, float(first[at]) + (0.0 if d == at else inspect + float(second[d])))
    return int(problem.vehicle_ready[v]) + best


def _on_board_findings(problem: ConvoyProblem) -> list[Finding]:
    """Vehicles with people on board that cannot reach any reception point by the deadline (see
    :func:`_earliest_delivery`)."""
    findings: list[Finding] = []
    for v, loads in enumerate(problem.vehicle_on_board):
        if not loads or _earliest_delivery(problem, v) <= problem.horizon:
            continue
        people = sum(p for _, p in loads)
        node = problem.network.node_ids[int(problem.vehicle_node[v])]
        findings.append(
            Finding(
                Severity.WARNING,
                "on-board-cannot-reach-reception",
                f"vehicle {problem.vehicle_ids[v]} at {node}",
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
