"""Hypothesis strategies shared by the planner's property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from corridor.problem.model import Problem
from factories import problem


@st.composite
def small_problems(draw: st.DrawFn) -> Problem:
    n = draw(st.integers(3, 6))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1])
    edges = draw(st.lists(pairs, min_size=2, max_size=10))
    arcs = [(u, v, draw(st.integers(1, 4)), draw(st.integers(1, 3))) for u, v in edges]
    nodes = st.integers(0, n - 1)
    sources = draw(st.lists(st.tuples(nodes, st.integers(0, 12), st.integers(0, 1)), min_size=1, max_size=3))
    dest = draw(st.lists(nodes, min_size=1, max_size=2, unique=True))
    dests = [(d, draw(st.sampled_from([-1, 3, 8]))) for d in dest]
    node_cap = draw(st.dictionaries(nodes, st.integers(0, 3), max_size=1))
    closed = draw(
        st.lists(
            st.tuples(st.integers(0, len(arcs) - 1), st.integers(0, 4), st.integers(1, 8)),
            max_size=2,
        )
    )
    return problem(
        n,
        arcs,
        sources=sources,
        destinations=dests,
        horizon=draw(st.integers(1, 8)),
        node_cap=node_cap,
        arc_closed=[(a, b, b + c) for a, b, c in closed],
        groups=[("wounded", 1), ("general", 2)],
    )
