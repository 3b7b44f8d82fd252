"""The convoy search's moves that prescribe trips (another reception point, two vehicles' trips
swapped, the last trips planned again): the plans they lead to verify, and the "end" move's
enumeration finds, where drives are never delayed, the most people any one to three trips bring out."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoy_cases import buses, convoy_problems
from corridor.plan.convoy_verify import verify_convoy
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Chooser, Intent, Schedule, dispatch, greedy
from corridor.solve.convoy.search import SearchSettings, _Search
from factories import problem as flow_problem

MOVES = ("reception", "swap", "end")


@pytest.mark.parametrize("move", MOVES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=convoy_problems(), seed=st.integers(0, 1_000))
def test_each_move_leads_to_plans_that_verify(move: str, problem: ConvoyProblem, seed: int) -> None:
    legs = Legs(problem)
    start = greedy(problem, legs)
    if not start.timed:
        return
    search = _Search(problem, legs, SearchSettings(seed=seed), None)
    kept, forced = {"reception": search._reception, "swap": search._swap, "end": search._end}[move](
        list(start.timed)
    )
    assert all(t in start.timed for t in kept)
    schedule = search.repair(start.rebuilt(kept), forced)
    for step in (schedule, dispatch(schedule, Chooser(problem), lookahead=0)):
        plan = step.plan(method="t", status="feasible", bound=problem.people, bound_kind="people", stats={})
        assert verify_convoy(plan, problem) == []


@st.composite
def open_roads(draw: st.DrawFn) -> ConvoyProblem:
    """One vehicle of seats only, the general population, reception points without a capacity, no
    checkpoint and no closure: every drive takes its fastest time whenever it is driven."""
    n = draw(st.integers(3, 5))
    arcs = []
    for u in range(n - 1):
        t = draw(st.integers(1, 3))
        arcs += [(u, u + 1, 5, t), (u + 1, u, 5, t)]
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1])
    arcs += [(u, v, 5, draw(st.integers(1, 3))) for u, v in draw(st.lists(pairs, max_size=3))]
    nodes = st.integers(0, n - 1)
    sources = draw(st.lists(st.tuples(nodes, st.integers(1, 12)), min_size=1, max_size=3))
    dests = draw(st.lists(nodes, min_size=1, max_size=2, unique=True))
    flow = flow_problem(n, arcs, sources=sources, destinations=dests, horizon=draw(st.integers(3, 16)))
    seats, load, unload = (draw(st.integers(1, 6)), draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    depot, ready = draw(nodes), draw(st.integers(0, 3))
    return buses(flow, depots=[depot], seats=seats, load=load, unload=unload, ready=[ready], ids=["v0"])


def _most_in_three_trips(problem: ConvoyProblem, legs: Legs) -> int:
    """The most people one to three trips of vehicle 0 bring out, over every sequence of trips."""
    gathering = sorted({int(g) for g in problem.flow.source_node.tolist()})
    choices = list(itertools.product(gathering, range(len(problem.flow.dest_ids))))
    best = 0

    def walk(schedule: Schedule, depth: int) -> None:
        nonlocal best
        best = max(best, sum(t.people for t in schedule.trips))
        if depth == 3:
            return
        for g, r in choices:
            timed = schedule.trip(Intent(0, g, r))
            if timed is not None:
                child = schedule.rebuilt(schedule.timed)
                child.commit(timed)
                walk(child, depth + 1)

    walk(Schedule(problem, legs), 0)
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(open_roads())
def test_the_end_move_finds_the_most_people_three_trips_bring_out(problem: ConvoyProblem) -> None:
    legs = Legs(problem)
    search = _Search(problem, legs, SearchSettings(), None)
    search.end_width = 10**6  # every trip at every level: the enumeration is then complete
    schedule = Schedule(problem, legs)
    intents = search._end_trips(schedule, 0)
    made = search.repair(Schedule(problem, legs), intents)
    assert len(made.trips) == len(intents)  # each prescribed trip can be made by the deadline
    assert sum(t.people for t in made.trips) == _most_in_three_trips(problem, legs)


def test_the_end_move_fits_both_loads_exactly_by_the_deadline() -> None:
    """A bus at reception point 0; point 1 (1 step away) has 4 people, point 2 (4 steps away) has 5;
    10 steps: both round trips fit only back to back, the last arriving at the deadline (9 people)."""
    flow = flow_problem(
        3,
        [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 3), (2, 1, 5, 3)],
        sources=[(1, 4), (2, 5)],
        destinations=[0],
        horizon=10,
    )
    problem = buses(flow, seats=5, load=0, unload=0, ids=["v0"])
    legs = Legs(problem)
    first = greedy(problem, legs)
    search = _Search(problem, legs, SearchSettings(), None)
    made = search.repair(Schedule(problem, legs), search._end_trips(Schedule(problem, legs), 0))
    assert sum(t.people for t in made.trips) == 9
    assert max(t.arrival for t in made.trips) == 10
    assert sum(t.people for t in first.trips) <= 9
