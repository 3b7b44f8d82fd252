"""Hypothesis strategies shared by the planner's property tests."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from corridor.problem.model import Problem
from factories import problem


@dataclass(frozen=True)
class Sizes:
    """Ranges of a random problem (inclusive); closure windows start in ``close_at`` and last
    ``close_for`` steps."""

    nodes: tuple[int, int] = (3, 6)
    roads: tuple[int, int] = (2, 10)
    road_cap: tuple[int, int] = (1, 4)
    road_steps: tuple[int, int] = (1, 3)
    people: int = 12
    sources: int = 3
    destinations: int = 2
    reception: tuple[int, ...] = (-1, 3, 8)  # capacities to draw from (-1: unlimited)
    checkpoints: int = 1
    throughput: tuple[int, int] = (0, 3)
    road_closures: int = 2
    close_at: tuple[int, int] = (0, 4)
    close_for: tuple[int, int] = (1, 8)
    place_closures: int = 0
    place_close_for: tuple[int, int] = (1, 4)
    horizon: tuple[int, int] = (1, 8)


@st.composite
def problems(draw: st.DrawFn, sizes: Sizes = Sizes()) -> Problem:
    """Roads between random nodes, sources of two priority levels, reception points with or
    without capacity, checkpoints, road and place closures: every feature of the model."""
    s = sizes
    n = draw(st.integers(*s.nodes))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1])
    edges = draw(st.lists(pairs, min_size=s.roads[0], max_size=s.roads[1]))
    arcs = [(u, v, draw(st.integers(*s.road_cap)), draw(st.integers(*s.road_steps))) for u, v in edges]
    nodes = st.integers(0, n - 1)
    group = st.integers(0, 1)
    sources = draw(
        st.lists(st.tuples(nodes, st.integers(0, s.people), group), min_size=1, max_size=s.sources)
    )
    dest = draw(st.lists(nodes, min_size=1, max_size=s.destinations, unique=True))
    dests = [(d, draw(st.sampled_from(s.reception))) for d in dest]
    node_cap = draw(st.dictionaries(nodes, st.integers(*s.throughput), max_size=s.checkpoints))
    at, span = st.integers(*s.close_at), st.integers(*s.close_for)
    closed = draw(st.lists(st.tuples(st.integers(0, len(arcs) - 1), at, span), max_size=s.road_closures))
    places = st.tuples(nodes, at, st.integers(*s.place_close_for))
    node_closed = draw(st.lists(places, max_size=s.place_closures)) if s.place_closures else []
    return problem(
        n,
        arcs,
        sources=sources,
        destinations=dests,
        horizon=draw(st.integers(*s.horizon)),
        node_cap=node_cap,
        arc_closed=[(a, b, b + c) for a, b, c in closed],
        node_closed=[(v, b, b + c) for v, b, c in node_closed],
        groups=[("wounded", 1), ("general", 2)],
    )


def small_problems() -> st.SearchStrategy[Problem]:
    """Problems small enough for the LP and a max flow at every step."""
    return problems(Sizes())
