"""Walks (solve/convoy/walks.py): a walk's least time is never later than the last loaded arrival of any
real schedule making those trips; the walk programme's floor never exceeds the completion of the best plan
found by enumerating every plan; its plans verify; and where empty drives between far-apart gathering
points decide, its floor is the optimum while the completion floor of cuts.py is far below."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoy_cases import brute_force, convoy_problems
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import trips_possible
from corridor.solve.convoy.cuts import completion_floor
from corridor.solve.convoy.exact import solve_exact
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import greedy, objective_key
from corridor.solve.convoy.walks import book_walks, vehicle_costs, walk_plan, walk_programme
from walk_cases import TINY, dispatcher_leaves_two, far_apart, random_schedule, spread_points, walks_of

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@SETTINGS
@given(problem=convoy_problems(vehicles=3, horizon=(6, 30)), seed=st.integers(0, 1000))
def test_a_walks_least_time_is_never_later_than_the_schedules_last_arrival(
    problem: ConvoyProblem, seed: int
) -> None:
    if any(problem.vehicle_on_board):
        return
    legs = Legs(problem)
    for schedule in (greedy(problem, legs), random_schedule(problem, legs, seed)):
        for v, (walk, last) in walks_of(problem, schedule).items():
            assert vehicle_costs(problem, legs, v).time(walk) <= last, (v, walk, last)


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


def test_where_far_apart_points_decide_the_walk_floor_is_the_optimum_and_the_old_floor_is_not() -> None:
    problem = far_apart()
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
    problem = far_apart()
    legs = Legs(problem)
    assert book_walks(problem, legs, {0: (1,)}, stop=float("inf")) is None  # 4 left at node 2
    assert book_walks(problem, legs, {0: (1, 2)}, stop=0.0) is None  # no time
    both = book_walks(problem, legs, {0: (1, 2)}, stop=float("inf"))
    assert both is not None and objective_key(problem, both.trips)[-2:] == (16, 2)


def test_once_everyone_out_is_proved_the_exact_method_bounds_the_completion_by_walks() -> None:
    problem = dispatcher_leaves_two()
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
    base = far_apart()
    problem = replace(base, flow=replace(base.flow, axis=replace(base.flow.axis, horizon=15)))
    legs = Legs(problem)
    best = brute_force(problem, legs)
    assert best[0] == -4
    result = solve_exact(problem, legs, time_limit=30, workers=1)
    assert any(note.startswith("ceiling:4:trips:8:walks:4") for note in result.levels), result.levels
    assert result.status == "optimal" and objective_key(problem, result.schedule.trips) == best
