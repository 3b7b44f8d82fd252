"""Routes from a flow on the time-expanded network, loops cut; groups by priority at each source node."""

from __future__ import annotations

import numpy as np

from corridor.core.errors import SolverError
from corridor.plan.routes import RouteColumns, RouteTable
from corridor.problem.model import IntArray, Problem
from corridor.solve.decompose import FlowPaths, arrivals, cut, decompose, departures
from corridor.solve.expand import ExpandedNetwork
from corridor.solve.loops import visits, without_loops


def _assign_groups(
    problem: Problem, d: FlowPaths, sent: IntArray, arrival: IntArray, departure: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Hand the routes from each source node to its sources, most urgent group first, earliest
    arrivals first: (route, source index, people) per share."""
    route_node = problem.source_node[d.source]
    routes = np.lexsort((departure, arrival, route_node))
    entries = np.flatnonzero(sent > 0)
    priority = problem.group_priority[problem.source_group[entries]]
    entries = entries[np.lexsort((entries, priority, problem.source_node[entries]))]
    pr, pe, people = cut(d.people[routes], sent[entries])
    if not np.array_equal(route_node[routes[pr]], problem.source_node[entries[pe]]):
        raise SolverError("routes and sources disagree", hint="this is a defect; please report it")
    return routes[pr], entries[pe], people


def routes_from_flow(exp: ExpandedNetwork, problem: Problem, flows: IntArray) -> RouteTable:
    """Routes of the flow; at each source node the most urgent groups take the earliest arrivals.

    No route visits a node twice: people wait where a loop of the flow starts (see
    :mod:`corridor.solve.loops`), and no two routes from one source to one destination share all
    their roads and steps. Sorted by (departure, source, arrival)."""
    d = without_loops(problem, decompose(exp, problem, flows))
    sent = np.zeros(len(problem.source_ids), dtype=np.int64)
    sent[exp.entry_source] = flows[exp.blocks["entry"]]
    arrival, departure = arrivals(problem, d), departures(d)
    route, source, people = _assign_groups(problem, d, sent, arrival, departure)
    source_rank = np.empty(len(problem.source_ids), dtype=np.int64)
    source_rank[np.argsort(np.asarray(problem.source_ids, dtype=object))] = np.arange(len(source_rank))
    order = np.lexsort((arrival[route], source_rank[source], departure[route]))
    r, s = route[order], source[order]
    return RouteTable(
        RouteColumns(
            source_ids=problem.source_ids,
            group_names=problem.group_names,
            dest_ids=problem.dest_ids,
            node_ids=problem.network.node_ids,
            source=s,
            group=problem.source_group[s],
            people=people[order],
            dest=d.dest[r],
            arrival=arrival[r],
            hops=d.hops[r],
            node_first=(d.off + np.arange(len(d.off)))[r],  # route k's nodes follow its hops
            hop_first=d.off[r],
            node=visits(problem, d),
            arc=d.arc,
            step=d.step,
        )
    )
