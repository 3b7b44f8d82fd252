"""Routes that do not go round in circles: loops of the flow become waiting where they start.

A loop is needless when its people could have waited at the node instead: the expanded network has
a waiting arc there for every step of the loop (the problem's model decides where and when waiting
is allowed: :mod:`corridor.solve.expand` builds those arcs from the problem's windows; a closure
stops departures and arrivals, not people staying). Plans must have no needless loop, stay feasible
(``Plan.verify``), get the same people out, and keep the solver's total time (a least-time flow) or
lower it (a maximum flow whose path went through its destination and came back).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.plan.model import Plan, Route
from corridor.problem.model import Problem
from corridor.solve.ccrp import solve_ccrp
from corridor.solve.decompose import FlowPaths, arrivals, decompose
from corridor.solve.exact import level_max_flows, min_time_flow, solve_exact
from corridor.solve.expand import ExpandedNetwork, expand
from corridor.solve.loops import _merged, has_loops, without_loops
from corridor.solve.pipeline import check_file
from corridor.solve.routes import routes_from_flow
from factories import plan_of, problem

ALEPPO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
GROUPS = [("wounded", 1), ("elderly", 2), ("general", 3)]


# --- what a needless loop is ---------------------------------------------------------------------


def waiting_allowed(exp: ExpandedNetwork) -> set[tuple[int, int]]:
    """(node, step) pairs from which people may wait at the node until the next step."""
    layer, step = exp.node_step(exp.tail[exp.blocks["wait"]].astype(np.int64))
    return set(zip(layer.tolist(), step.tolist(), strict=True))


def needless_loops(problem: Problem, route: Route, waits: set[tuple[int, int]]) -> list[str]:
    """Every pair of visits of ``route`` to one node between which its people could have waited."""
    tail, head, tau = problem.network.tail, problem.network.head, problem.tau
    if not route.arcs:
        return []
    nodes = [int(tail[route.arcs[0]]), *(int(head[a]) for a in route.arcs)]
    arrive = [0, *(d + int(tau[a]) for a, d in zip(route.arcs, route.departures, strict=True))]
    leave = [*route.departures, route.arrival]
    out = []
    for i in range(len(nodes)):
        for j in range(i + 1, len(nodes)):
            stay = range(arrive[i], leave[j])
            if nodes[i] == nodes[j] and all((nodes[i], t) in waits for t in stay):
                out.append(f"{route.source}: node {nodes[i]} at {arrive[i]} and again until {leave[j]}")
    return out


def revisits(route: Route) -> bool:
    return len(set(route.nodes)) < len(route.nodes)


# --- random problems -----------------------------------------------------------------------------


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """3 to 7 nodes, mostly two-way roads of small capacity and at least one checkpoint (so that
    people queue, and a flow has cycles to go round while they do), closures of roads and places,
    three priority levels, up to 16 steps. About one in ten of these has a maximum flow with loops."""
    n = draw(st.integers(3, 7))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1])
    arcs: list[tuple[int, int, int, int]] = []
    for u, v in draw(st.lists(pairs, min_size=2, max_size=10)):
        cap, steps = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        arcs.append((u, v, cap, steps))
        if draw(st.integers(0, 3)):  # most roads both ways: the flow then has cycles to go round
            arcs.append((v, u, cap, steps))
    nodes = st.integers(0, n - 1)
    people = st.integers(0, 40)
    sources = draw(st.lists(st.tuples(nodes, people, st.integers(0, 2)), min_size=1, max_size=6))
    dest = draw(st.lists(nodes, min_size=1, max_size=2, unique=True))
    queue = st.dictionaries(nodes, st.integers(0, 3), min_size=1, max_size=3)
    span = st.tuples(st.integers(0, 8), st.integers(1, 5))
    return problem(
        n,
        arcs,
        sources=sources,
        destinations=[(d, draw(st.sampled_from([-1, 10, 30]))) for d in dest],
        horizon=draw(st.integers(2, 16)),
        node_cap=draw(queue),
        arc_closed=[(i % len(arcs), b, b + w) for i, (b, w) in enumerate(draw(st.lists(span, max_size=3)))],
        node_closed=[(i % n, b, b + w) for i, (b, w) in enumerate(draw(st.lists(span, max_size=2)))],
        groups=GROUPS,
    )


def _check(p: Problem, exp: ExpandedNetwork, flows: np.ndarray, evacuated: int) -> tuple[int, Plan]:
    """The routes of ``flows`` against the flow itself; (total steps before the cut, plan)."""
    d = decompose(exp, p, flows)
    before = int((arrivals(p, d) * d.people).sum())
    routes = routes_from_flow(exp, p, flows)
    plan = plan_of(p, routes, evacuated)
    assert plan.verify(p) == []
    waits = waiting_allowed(exp)
    assert [loop for r in routes for loop in needless_loops(p, r, waits)] == []
    assert sum(r.people for r in routes) == evacuated
    sent = Counter(dict(zip(p.source_ids, np.zeros(len(p.source_ids), dtype=np.int64).tolist(), strict=True)))
    for i, amount in zip(exp.entry_source.tolist(), flows[exp.blocks["entry"]].tolist(), strict=True):
        sent[p.source_ids[i]] += amount
    assert Counter({s: c for s, c in sent.items() if c}) == Counter(
        {s: c for s, c in _by_source(routes).items() if c}
    )
    # No two routes of one source and group share all their roads and steps.
    assert len({(r.source, r.group, r.destination, r.arcs, r.departures) for r in routes}) == len(routes)
    assert routes == routes_from_flow(exp, p, flows)  # the same flow, the same plan
    return before, plan


def _by_source(routes: Sequence[Route]) -> Counter[str]:
    out = Counter[str]()
    for r in routes:
        out[r.source] += r.people
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_max_flow_routes_have_no_needless_loop(p: Problem) -> None:
    exp = expand(p)
    per_level, flows = level_max_flows(exp)
    before, plan = _check(p, exp, flows, int(per_level.sum()))
    # A path through its own destination and back now ends at its first arrival there.
    assert plan.total_steps <= before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_least_time_routes_have_no_needless_loop_and_the_same_total_time(p: Problem) -> None:
    exp = expand(p, costs=True)
    per_level, _ = level_max_flows(exp)
    cost, flows = min_time_flow(exp, per_level)
    before, plan = _check(p, exp, flows, int(per_level.sum()))
    assert plan.total_steps == before == cost
    exact = solve_exact(p)
    assert (exact.evacuated, exact.total_steps) == (int(per_level.sum()), cost)
    assert not any(revisits(r) for r in exact.routes)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_ccrp_routes_never_visit_a_node_twice(p: Problem) -> None:
    # Its search keeps one label per node, so a route is a path of the search tree.
    plan = solve_ccrp(p)
    assert plan.verify(p) == []
    assert [r for r in plan.routes if revisits(r)] == []


# --- the cut, by hand ----------------------------------------------------------------------------

# Nodes A=0 B=1 C=2 D=3 E=4; roads A-B, B-C, C-B, B-D, D-C, C-E, E-C (each 1 step, 5 a step).
ROADS = [(0, 1, 5, 1), (1, 2, 5, 1), (2, 1, 5, 1), (1, 3, 5, 1), (3, 2, 5, 1), (2, 4, 5, 1), (4, 2, 5, 1)]


def _paths(rows: list[tuple[int, int, list[int], list[int]]]) -> FlowPaths:
    """(source index, people, roads, steps) per path, all to destination 0."""
    hops = np.asarray([len(r[2]) for r in rows], dtype=np.int64)
    arcs = [a for r in rows for a in r[2]]
    steps = [t for r in rows for t in r[3]]
    return FlowPaths(
        source=np.asarray([r[0] for r in rows], dtype=np.int64),
        dest=np.zeros(len(rows), dtype=np.int64),
        people=np.asarray([r[1] for r in rows], dtype=np.int64),
        hops=hops,
        off=np.cumsum(hops) - hops,
        arc=np.asarray(arcs, dtype=np.int64),
        step=np.asarray(steps, dtype=np.int64),
    )


def _rows(d: FlowPaths) -> list[tuple[int, int, list[int], list[int]]]:
    return [
        (
            int(d.source[r]),
            int(d.people[r]),
            d.arc[d.off[r] : d.off[r] + d.hops[r]].tolist(),
            d.step[d.off[r] : d.off[r] + d.hops[r]].tolist(),
        )
        for r in range(len(d.hops))
    ]


def _hand(dest: int = 4) -> Problem:
    """The roads above; sources at A (two groups), at B and at the destination."""
    sources = [(0, 30, 0), (0, 30, 1), (1, 30, 0), (dest, 5, 0)]
    return problem(5, ROADS, sources=sources, destinations=[dest], horizon=20)


def test_a_loop_becomes_waiting_where_it_starts() -> None:
    # A B C B D C E: back at B at step 3, so wait at B from step 1 and leave for D at 3, as planned.
    d = _paths([(0, 7, [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5])])
    assert has_loops(_hand(), d).tolist() == [True]
    cut = without_loops(_hand(), d)
    assert _rows(cut) == [(0, 7, [0, 3, 4, 5], [0, 3, 4, 5])]
    assert arrivals(_hand(), cut).tolist() == arrivals(_hand(), d).tolist() == [6]
    assert has_loops(_hand(), cut).tolist() == [False]


def test_a_loop_at_the_source_delays_the_departure() -> None:
    # B C B ... : people wait at their gathering point until the road they really take.
    d = _paths([(2, 4, [1, 2, 3, 4, 5], [0, 2, 6, 7, 9])])
    assert _rows(without_loops(_hand(), d)) == [(2, 4, [3, 4, 5], [6, 7, 9])]


def test_nested_and_repeated_loops() -> None:
    # A B C B C B D C E: B at steps 1, 3 and 5; C's visits before B's last are cut with them.
    d = _paths([(0, 3, [0, 1, 2, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 8, 9])])
    assert _rows(without_loops(_hand(), d)) == [(0, 3, [0, 3, 4, 5], [0, 5, 8, 9])]


def test_a_path_back_through_its_destination_ends_at_its_first_arrival() -> None:
    # A B C E C E: at E (the destination) at step 4, then round and back at 6.
    d = _paths([(0, 2, [0, 1, 5, 6, 5], [0, 2, 3, 4, 5])])
    cut = without_loops(_hand(), d)
    assert _rows(cut) == [(0, 2, [0, 1, 5], [0, 2, 3])]
    assert arrivals(_hand(), cut).tolist() == [4]


def test_paths_that_become_the_same_are_merged_in_place() -> None:
    rows = [
        (2, 5, [3, 4, 5], [1, 2, 3]),  # B D C E, no loop
        (0, 7, [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]),  # becomes A B D C E at 0 3 4 5
        (1, 2, [0, 3, 4, 5], [0, 3, 4, 5]),  # A B D C E at 0 3 4 5, from the same node
        (0, 1, [0, 3, 4, 5], [0, 3, 4, 6]),  # same roads, another step: stays apart
    ]
    assert _rows(without_loops(_hand(), _paths(rows))) == [
        (2, 5, [3, 4, 5], [1, 2, 3]),
        (0, 9, [0, 3, 4, 5], [0, 3, 4, 5]),
        (0, 1, [0, 3, 4, 5], [0, 3, 4, 6]),
    ]


def test_paths_with_the_same_hash_are_merged_only_if_equal() -> None:
    # With base 1 the hash is the sum of the hops' codes: the second path collides with the first.
    rows = [
        (0, 1, [0, 3], [1, 2]),
        (0, 2, [0, 3], [2, 1]),
        (1, 4, [0, 3], [1, 2]),
    ]
    assert _rows(_merged(_hand(), _paths(rows), base=np.uint64(1))) == [
        (0, 5, [0, 3], [1, 2]),
        (0, 2, [0, 3], [2, 1]),
    ]


def test_loop_free_paths_and_no_paths_are_left_as_they_are() -> None:
    rows = [(0, 3, [0, 3, 4, 5], [0, 1, 2, 3]), (3, 1, [], []), (2, 4, [3, 4, 5], [0, 1, 2])]
    assert _rows(without_loops(_hand(), _paths(rows))) == rows
    assert _rows(without_loops(_hand(), _paths([]))) == []


# --- the East Aleppo example ---------------------------------------------------------------------


def test_east_aleppo_routes_wait_for_the_checkpoint_instead_of_circling() -> None:
    p = check_file(ALEPPO).problem
    assert p is not None
    exp = expand(p, costs=True)
    per_level, _ = level_max_flows(exp)
    cost, flows = min_time_flow(exp, per_level)
    d = decompose(exp, p, flows)
    looped = has_loops(p, d)
    # Measured: 782 of the flow's 801 paths go round loops while they wait; none after the cut.
    assert looped.sum() > len(looped) // 2
    routes = routes_from_flow(exp, p, flows)
    assert not any(revisits(r) for r in routes)
    plan = plan_of(p, routes, int(per_level.sum()))
    assert plan.verify(p) == []
    assert plan.total_steps == cost
    # The distinct roads taken (whatever the steps): 769 with the loops, 69 without.
    loopy = {tuple(d.arc[d.off[r] : d.off[r] + d.hops[r]].tolist()) for r in range(len(d.hops))}
    assert len({r.arcs for r in routes}) < len(loopy) // 5
    # Read literally, the flow had everyone leave within 10 minutes; only the first now do.
    assert sum(r.people for r in routes if r.arcs and r.departure <= 10) < plan.evacuated // 5
