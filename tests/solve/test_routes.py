"""The array path decomposition against a reference walk, on random small problems.

The reference (below) is the plain decomposition: follow each path arc by arc from its entry, take
the smallest remaining flow along it, subtract. The planner's own works on arrays; both must give
the same people per source and group, feasible plans, and for a least-time flow the same total
time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.plan.model import Plan, Route
from corridor.problem.model import IntArray, Problem
from corridor.solve.exact import level_max_flows, min_time_flow
from corridor.solve.expand import ExpandedNetwork, expand
from corridor.solve.routes import routes_from_flow
from factories import plan_of, problem
from strategies import Sizes
from strategies import problems as shared_problems

# --- the reference: a walk along each path ---------------------------------------------------


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


def walked_routes(exp: ExpandedNetwork, problem: Problem, flows: IntArray) -> list[Route]:
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


# --- the comparison ----------------------------------------------------------------------------


def problems() -> st.SearchStrategy[Problem]:
    """Up to 8 nodes, parallel roads, checkpoints, closures, two priority levels, up to 12 steps."""
    return shared_problems(
        Sizes(
            nodes=(2, 8),
            roads=(1, 16),
            road_cap=(1, 6),
            road_steps=(1, 4),
            people=30,
            sources=5,
            destinations=3,
            reception=(-1, 5, 20),
            checkpoints=2,
            throughput=(0, 4),
            road_closures=3,
            close_at=(0, 6),
            close_for=(1, 6),
            place_closures=1,
            horizon=(1, 12),
        )
    )


def _by_source_group(routes: Sequence[Route]) -> Counter[tuple[str, str]]:
    out = Counter[tuple[str, str]]()
    for r in routes:
        out[(r.source, r.group)] += r.people
    return out


def _urgent_first(p: Problem, routes: Sequence[Route]) -> bool:
    """At each source node, no one of a more urgent group arrives after one of a less urgent."""
    node_of = dict(zip(p.source_ids, p.source_node.tolist(), strict=True))
    priority = {name: int(v) for name, v in zip(p.group_names, p.group_priority.tolist(), strict=True)}
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for r in routes:
        key = (node_of[r.source], priority[r.group])
        lo, hi = spans.get(key, (r.arrival, r.arrival))
        spans[key] = (min(lo, r.arrival), max(hi, r.arrival))
    return all(
        spans[(v, a)][1] <= spans[(v, b)][0] for (v, a) in spans for (w, b) in spans if v == w and a < b
    )


def _compare(p: Problem, exp: ExpandedNetwork, flows: IntArray, evacuated: int) -> tuple[Plan, Plan]:
    fast = routes_from_flow(exp, p, flows)
    walked = walked_routes(exp, p, flows)
    fast_plan, walked_plan = plan_of(p, fast, evacuated), plan_of(p, walked, evacuated)
    assert fast_plan.verify(p) == []
    assert walked_plan.verify(p) == []
    assert _by_source_group(fast) == _by_source_group(walked)
    assert _urgent_first(p, fast)
    assert fast == sorted(fast, key=lambda r: (r.departure, r.source, r.arrival))
    return fast_plan, walked_plan


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_routes_of_a_max_flow_match_the_walk(p: Problem) -> None:
    exp = expand(p)
    per_level, flows = level_max_flows(exp)
    _compare(p, exp, flows, int(per_level.sum()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_routes_of_an_earliest_arrival_flow_match_the_walk(p: Problem) -> None:
    exp = expand(p, costs=True)
    per_level, _ = level_max_flows(exp)
    cost, flows = min_time_flow(exp, per_level)
    fast, walked = _compare(p, exp, flows, int(per_level.sum()))
    # Nobody waits at a destination in a least-time flow: the routes' times are the flow's cost.
    assert fast.total_steps == walked.total_steps == cost


def test_no_flow_gives_no_routes() -> None:
    p = problem(3, [(0, 1, 5, 10)], sources=[(0, 7)], destinations=[1, 2], horizon=5)
    exp = expand(p)
    assert routes_from_flow(exp, p, np.zeros(exp.n_arcs, dtype=np.int64)) == []


def test_people_at_a_destination_are_out_at_step_zero() -> None:
    p = problem(2, [(0, 1, 5, 1)], sources=[(1, 4), (0, 3)], destinations=[1], horizon=3)
    exp = expand(p)
    _, flows = level_max_flows(exp)
    routes = routes_from_flow(exp, p, flows)
    at_dest = [r for r in routes if r.source == "s0"]
    assert [(r.people, r.nodes, r.arcs, r.departures, r.arrival) for r in at_dest] == [(4, ("1",), (), (), 0)]
    assert sum(r.people for r in routes if r.source == "s1") == 3


def test_splits_at_a_node_give_one_route_per_path() -> None:
    # 10 people; two roads out of node 0 (3 and 2 a step), both into node 1, then on to 2.
    p = problem(
        3, [(0, 1, 3, 1), (0, 1, 2, 2), (1, 2, 10, 1)], sources=[(0, 10)], destinations=[2], horizon=4
    )
    exp = expand(p, costs=True)
    per_level, _ = level_max_flows(exp)
    _, flows = min_time_flow(exp, per_level)
    routes = routes_from_flow(exp, p, flows)
    assert sum(r.people for r in routes) == 10
    assert plan_of(p, routes, 10).verify(p) == []
    # Every route is distinct: no two share their roads and departure steps.
    assert len({(r.arcs, r.departures) for r in routes}) == len(routes)
