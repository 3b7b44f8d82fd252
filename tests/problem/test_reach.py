"""The fewest-steps bounds of corridor.problem.reach agree with networkx's Dijkstra, and loading
them does not import scipy (a ``corridor plan`` process would pay ~0.15 s for it)."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corridor.problem.model import Problem
from corridor.problem.reach import UNREACHABLE, steps_from_sources, steps_to_destinations, usable_arcs
from factories import problem


def _expected(p: Problem, starts: list[int], *, reverse: bool) -> list[int]:
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(p.n_nodes))
    for a in usable_arcs(p).tolist():
        u, v = int(p.network.tail[a]), int(p.network.head[a])
        graph.add_edge(*((v, u) if reverse else (u, v)), weight=int(p.tau[a]))
    found = nx.multi_source_dijkstra_path_length(graph, set(starts)) if starts else {}
    return [int(found.get(v, UNREACHABLE)) for v in range(p.n_nodes)]


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    n = draw(st.integers(1, 12))
    node = st.integers(0, n - 1)
    arcs = draw(st.lists(st.tuples(node, node, st.integers(0, 3), st.integers(1, 9)), max_size=40))
    sources = draw(st.lists(st.tuples(node, st.integers(0, 5)), min_size=1, max_size=4))
    dests = draw(st.lists(node, max_size=3, unique=True))
    blocked = draw(st.lists(node, max_size=2, unique=True))
    return problem(
        n, arcs, sources=sources, destinations=dests, horizon=20, node_cap=dict.fromkeys(blocked, 0)
    )


@settings(max_examples=300, deadline=None)
@given(problems())
def test_steps_match_networkx(p: Problem) -> None:
    with_people = p.source_node[p.source_people > 0].tolist()
    assert steps_from_sources(p).tolist() == _expected(p, with_people, reverse=False)
    assert steps_to_destinations(p).tolist() == _expected(p, p.dest_node.tolist(), reverse=True)


def test_quickest_of_parallel_roads_and_longer_detours() -> None:
    # 0 -> 1 by a 5-step and a 2-step road, 1 -> 3 in 1; 0 -> 2 -> 3 in 1 + 1 hops of 1 step.
    p = problem(4, [(0, 1, 1, 5), (0, 1, 1, 2), (1, 3, 1, 1), (0, 2, 1, 1), (2, 3, 1, 1)],
                sources=[(0, 10)], destinations=[3], horizon=10)  # fmt: skip
    assert steps_from_sources(p).tolist() == [0, 2, 1, 2]
    assert steps_to_destinations(p).tolist() == [2, 1, 1, 0]


def test_roads_that_carry_no_one_are_refused() -> None:
    # Node 1 only by a road of no capacity, node 3 only out of a closed checkpoint (2), node 4 by no
    # road at all: none of them can be reached; a source without people starts nothing.
    p = problem(5, [(0, 1, 0, 1), (0, 2, 1, 1), (2, 3, 1, 1)], sources=[(0, 3), (4, 0)],
                destinations=[3], horizon=10, node_cap={2: 0})  # fmt: skip
    assert steps_from_sources(p).tolist() == [0, UNREACHABLE, 1, UNREACHABLE, UNREACHABLE]
    assert steps_to_destinations(p).tolist() == [UNREACHABLE] * 3 + [0, UNREACHABLE]
    none = problem(2, [(0, 1, 1, 1)], sources=[(0, 0)], destinations=[], horizon=5)
    assert np.all(steps_from_sources(none) == UNREACHABLE)
    assert np.all(steps_to_destinations(none) == UNREACHABLE)


def test_loading_reach_imports_no_scipy() -> None:
    code = (
        "import sys, corridor.problem.reach; print(sorted(m for m in sys.modules if m.startswith('scipy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
