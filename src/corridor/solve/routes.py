"""Routes from a flow on the time-expanded network (path decomposition), groups by priority."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from corridor.plan.model import Route
from corridor.problem.model import IntArray, Problem
from corridor.solve.expand import ExpandedNetwork


def _paths(exp: ExpandedNetwork, flows: IntArray) -> list[tuple[int, list[int]]]:
    """Decompose the flow into (people, expanded arcs) paths from the source to the sink.

    Works on the arcs that carry flow only, as plain lists (the walk is a Python loop).
    """
    pos = np.flatnonzero(flows > 0)
    order = pos[np.argsort(exp.tail[pos], kind="stable")]
    first = np.searchsorted(exp.tail[order], np.arange(exp.n_nodes + 1)).tolist()
    arc_of: list[int] = order.tolist()
    head: list[int] = exp.head[order].tolist()
    remaining: list[int] = flows[order].tolist()
    cursor = first[:-1]
    sink = exp.sink
    entry = exp.blocks["entry"]
    paths: list[tuple[int, list[int]]] = []
    for level in exp.level_nodes.tolist():
        for start in range(first[level], first[level + 1]):
            if not entry.start <= arc_of[start] < entry.stop:
                continue
            while remaining[start] > 0:
                path = [start]
                node = head[start]
                amount = remaining[start]
                while node != sink:
                    c = cursor[node]
                    while remaining[c] == 0:
                        c += 1
                    cursor[node] = c
                    amount = min(amount, remaining[c])
                    path.append(c)
                    node = head[c]
                for c in path:
                    remaining[c] -= amount
                paths.append((amount, [arc_of[c] for c in path]))
    return paths


def _route_of(exp: ExpandedNetwork, problem: Problem, amount: int, path: list[int]) -> tuple[int, Route]:
    road = exp.blocks["road"]
    arrive = exp.blocks["arrive"]
    entry = int(exp.entry_source[path[0] - exp.blocks["entry"].start])
    arcs: list[int] = []
    deps: list[int] = []
    dest = -1
    for arc in path[1:]:
        if road.start <= arc < road.stop:
            arcs.append(int(exp.road_arc[arc - road.start]))
            deps.append(int(exp.road_step[arc - road.start]))
        elif arrive.start <= arc < arrive.stop:
            dest = int(exp.arrive_dest[arc - arrive.start])
    net = problem.network
    src_node = int(problem.source_node[entry])
    nodes = (net.node_ids[src_node], *(net.node_ids[int(net.head[a])] for a in arcs))
    arrival = deps[-1] + int(problem.tau[arcs[-1]]) if arcs else 0
    route = Route(
        source=problem.source_ids[entry],
        group=problem.group_names[int(problem.source_group[entry])],
        people=amount,
        destination=problem.dest_ids[dest],
        nodes=nodes,
        arcs=tuple(arcs),
        departures=tuple(deps),
        arrival=arrival,
    )
    return entry, route


def routes_from_flow(exp: ExpandedNetwork, problem: Problem, flows: IntArray) -> list[Route]:
    """Routes of the flow; at each source node the most urgent groups take the earliest arrivals."""
    by_node: dict[int, list[Route]] = defaultdict(list)
    for amount, path in _paths(exp, flows):
        entry, route = _route_of(exp, problem, amount, path)
        by_node[int(problem.source_node[entry])].append(route)
    entry_flow = flows[exp.blocks["entry"]]
    sent = np.zeros(len(problem.source_ids), dtype=np.int64)
    sent[exp.entry_source] = entry_flow
    out: list[Route] = []
    for node, routes in by_node.items():
        out += _assign_groups(problem, node, routes, sent)
    out.sort(key=lambda r: (r.departure, r.source, r.arrival))
    return out


def _assign_groups(problem: Problem, node: int, routes: list[Route], sent: IntArray) -> list[Route]:
    """Hand the routes from one source node to its source entries, most urgent first."""
    entries = [int(i) for i in np.flatnonzero((problem.source_node == node) & (sent > 0))]
    entries.sort(key=lambda i: (int(problem.group_priority[problem.source_group[i]]), i))
    queue = sorted(routes, key=lambda r: (r.arrival, r.departure))
    out: list[Route] = []
    k, left = 0, queue[0].people if queue else 0
    for i in entries:
        need = int(sent[i])
        group = problem.group_names[int(problem.source_group[i])]
        while need > 0:
            take = min(need, left)
            r = queue[k]
            out.append(_with(r, source=problem.source_ids[i], group=group, people=take))
            need -= take
            left -= take
            if left == 0 and k + 1 < len(queue):
                k += 1
                left = queue[k].people
    return out


def _with(route: Route, *, source: str, group: str, people: int) -> Route:
    return Route(
        source=source,
        group=group,
        people=people,
        destination=route.destination,
        nodes=route.nodes,
        arcs=route.arcs,
        departures=route.departures,
        arrival=route.arrival,
    )
