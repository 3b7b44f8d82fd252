"""Walks (solve/convoy/walks.py): a walk's least time is never later than the last loaded arrival of any
real schedule making those trips; the walk programme's floor never exceeds the completion of the best plan
found by enumerating every plan; its plans verify; and where empty drives between far-apart gathering
points decide, its floor is the optimum while the completion floor of cuts.py is far below."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoy_cases import brute_force, buses, convoy_problems
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import trips_possible
from corridor.solve.convoy.cuts import completion_floor
from corridor.solve.convoy.exact import solve_exact
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Intent, Schedule, greedy, objective_key
from corridor.solve.convoy.walks import book_walks, vehicle_costs, walk_plan, walk_programme
from factories import problem as flow_problem

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _walks_of(problem: ConvoyProblem, schedule: Schedule) -> dict[int, tuple[tuple[int, ...], int]]:
    """Per vehicle: its trips' gathering nodes in order and its last loaded arrival."""
    index = {vid: i for i, vid in enumerate(problem.vehicle_ids)}
    out: dict[int, tuple[tuple[int, ...], int]] = {}
    for trip in sorted(schedule.trips, key=lambda t: (t.vehicle, t.number)):
        v = index[trip.vehicle]
        walk, _ = out.get(v, ((), 0))
        out[v] = ((*walk, problem.network.index[trip.gathering]), trip.haul.arrival)
    return out


def _random_schedule(problem: ConvoyProblem, legs: Legs, seed: int) -> Schedule:
    """Trips chosen at random (vehicle, gathering point, reception point) until none can be made."""
    rng = random.Random(seed)
    schedule = Schedule(problem, legs)
    gathering = sorted({int(n) for n in problem.flow.source_node.tolist()})
    choices = [
        Intent(v, g, r)
        for v in range(problem.n_vehicles)
        for g in gathering
        for r in range(len(problem.flow.dest_ids))
    ]
    while True:
        rng.shuffle(choices)
        timed = next((t for c in choices if (t := schedule.trip(c)) is not None), None)
        if timed is None:
            return schedule
        schedule.commit(timed)


@SETTINGS
@given(problem=convoy_problems(vehicles=3, horizon=(6, 30)), seed=st.integers(0, 1000))
def test_a_walks_least_time_is_never_later_than_the_schedules_last_arrival(
    problem: ConvoyProblem, seed: int
) -> None:
    if any(problem.vehicle_on_board):
        return
    legs = Legs(problem)
    for schedule in (greedy(problem, legs), _random_schedule(problem, legs, seed)):
        for v, (walk, last) in _walks_of(problem, schedule).items():
            assert vehicle_costs(problem, legs, v).time(walk) <= last, (v, walk, last)


TINY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def spread_points(draw: st.DrawFn) -> ConvoyProblem:
    """A road of 4-6 nodes (1-6 steps each way, maybe a shortcut), 2-3 gathering points of 1-4 people,
    1-2 reception points elsewhere, 1-2 buses of 4 seats: every trip empties its point, so the
    enumeration stays small, and the deadline is late enough for everyone to get out."""
    n = draw(st.integers(4, 6))
    arcs = []
    for u in range(n - 1):
        t = draw(st.integers(1, 6))
        arcs += [(u, u + 1, 5, t), (u + 1, u, 5, t)]
    if draw(st.booleans()):
        u, w, t = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)), draw(st.integers(1, 3))
        if u != w:
            arcs += [(u, w, 5, t), (w, u, 5, t)]
    nodes = draw(st.permutations(range(n)))
    gathering = nodes[: draw(st.integers(2, 3))]
    reception = nodes[len(gathering) : len(gathering) + draw(st.integers(1, 2))]
    sources = [(g, draw(st.integers(1, 4))) for g in gathering]
    flow = flow_problem(n, arcs, sources=sources, destinations=list(reception), horizon=80)
    depots = [draw(st.integers(0, n - 1)) for _ in range(draw(st.integers(1, 2)))]
    return buses(flow, depots=depots, seats=4)


@TINY
@given(problem=spread_points())
def test_the_walk_floor_never_exceeds_the_optimum_of_every_plan(problem: ConvoyProblem) -> None:
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    solution = walk_programme(problem, legs, slots, 10.0)
    best = brute_force(problem, legs)
    assert -sum(best[:-2]) == int(problem.flow.source_people.sum())  # everyone out
    assert solution is not None and solution.proved
    assert solution.floor == solution.completion <= best[-2]
    assert (solution.completion, solution.trips) <= (best[-2], best[-1])
    made = walk_plan(problem, legs, solution, 10.0)
    assert made is not None  # no closure, no checkpoint: every walk can be booked
    plan = made.plan(method="x", status="feasible", bound=10**6, bound_kind="x", stats={})
    assert plan.verify(problem) == []
    assert made.waiting_people() == 0
    assert objective_key(problem, made.trips) >= best


def _far_apart() -> ConvoyProblem:
    """Reception points at both ends of a road (0 and 3), gathering points 1 and 2 next to each, 10 steps
    apart; one bus of 4 seats at node 1, 4 people at each gathering point, boarding and unloading 1 step.
    Whatever the order, the bus drives the long road once, empty or loaded: 16 steps at best (board at 1
    by 1, at 0 by 2, unloaded by 3, at 2 by 14, boarded by 15, at 3 by 16)."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 10), (2, 1, 5, 10), (2, 3, 5, 1), (3, 2, 5, 1)]
    flow = flow_problem(4, arcs, sources=[(1, 4), (2, 4)], destinations=[0, 3], horizon=40)
    return buses(flow, depots=[1], seats=4)


def test_where_far_apart_points_decide_the_walk_floor_is_the_optimum_and_the_old_floor_is_not() -> None:
    problem = _far_apart()
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    best = brute_force(problem, legs)
    assert best[-2:] == (16, 2)
    weight = sum(slots) + 1
    old = completion_floor(problem, legs, slots, weight, 10.0)
    assert old is not None and old // weight < 16  # it counts the drive back to 2 from 3, not from 0
    solution = walk_programme(problem, legs, slots, 10.0)
    assert solution is not None and solution.proved
    assert (solution.floor, solution.completion, solution.trips) == (16, 16, 2)
    made = walk_plan(problem, legs, solution, 10.0)
    assert made is not None and objective_key(problem, made.trips) == best


def test_booking_refuses_walks_that_leave_people_behind_or_run_out_of_time() -> None:
    problem = _far_apart()
    legs = Legs(problem)
    assert book_walks(problem, legs, {0: (1,)}, stop=float("inf")) is None  # 4 left at node 2
    assert book_walks(problem, legs, {0: (1, 2)}, stop=0.0) is None  # no time
    both = book_walks(problem, legs, {0: (1, 2)}, stop=float("inf"))
    assert both is not None and objective_key(problem, both.trips)[-2:] == (16, 2)


def _dispatcher_leaves_two() -> ConvoyProblem:
    """A road 0 -3- 1 -6- 2 -2- 3 -4- 4, reception point 0, 4 people at 1 and 2 at 3, one bus of 4 seats
    at 3, deadline 30: the dispatcher takes the 4 at 1 first and has no time for the 2 at 3; the 2 first,
    then the 4, bring everyone out by 20 (board at 3 by 1, at 0 by 12, unloaded by 13, at 1 by 16,
    boarded by 17, at 0 by 20)."""
    arcs = [
        (0, 1, 5, 3),
        (1, 0, 5, 3),
        (1, 2, 5, 6),
        (2, 1, 5, 6),
        (2, 3, 5, 2),
        (3, 2, 5, 2),
        (3, 4, 5, 4),
        (4, 3, 5, 4),
    ]
    flow = flow_problem(5, arcs, sources=[(1, 4), (3, 2)], destinations=[0], horizon=30)
    return buses(flow, depots=[3], seats=4)


def test_once_everyone_out_is_proved_the_exact_method_bounds_the_completion_by_walks() -> None:
    problem = _dispatcher_leaves_two()
    legs = Legs(problem)
    assert objective_key(problem, greedy(problem, legs).trips) == (-4, 12, 1)
    best = brute_force(problem, legs)
    assert best == (-6, 20, 2)
    result = solve_exact(problem, legs, time_limit=30, workers=1)
    assert any(note.startswith("walks:20+2:floor:20") for note in result.levels), result.levels
    assert result.status == "optimal" and objective_key(problem, result.schedule.trips) == best


def test_by_an_early_deadline_the_exact_method_is_bounded_by_the_walk_ceiling() -> None:
    """The far-apart points by step 15: one trip arrives (4 people), which the walk ceiling of
    walk_columns.py proves (the whole-trip ceiling of cuts.py says 8)."""
    base = _far_apart()
    problem = replace(base, flow=replace(base.flow, axis=replace(base.flow.axis, horizon=15)))
    legs = Legs(problem)
    best = brute_force(problem, legs)
    assert best[0] == -4
    result = solve_exact(problem, legs, time_limit=30, workers=1)
    assert any(note.startswith("ceiling:4:trips:8:walks:4") for note in result.levels), result.levels
    assert result.status == "optimal" and objective_key(problem, result.schedule.trips) == best
