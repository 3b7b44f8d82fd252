"""The walk relaxation by columns (solve/convoy/walk_columns.py): its least completion and fewest trips
are those of the walk programme solved by CP-SAT (solve/convoy/walks.py) without closures or
checkpoints, never above the best plan found by enumerating every plan (also with closures, checkpoints
and stretchers, and with the best plan's completion as ceiling), and its walks, booked, make plans that
verify; with closures and checkpoints a walk's time is never later than a real schedule's last loaded
arrival, and leaving a trip out never makes it later. The walk ceiling on people out by the deadline is
never below the enumerated optimum, and is exact where far-apart points decide (the whole-trip ceiling
of cuts.py is not). The walk ceiling's choices booked (people_plans, where people are left behind)
make plans that verify, never better than the enumerated optimum and at it where far-apart points
decide; where a plan reaches the walk ceiling the search stops there with the same people out."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoy_cases import brute_force, convoy_problems
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import trips_possible
from corridor.solve.convoy.cuts import people_ceiling
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import greedy, objective_key
from corridor.solve.convoy.walk_columns import (
    Timing,
    completion_floor_walks,
    level_weights,
    people_ceiling_walks,
    people_plans,
    walk_columns,
    weighted_out,
)
from corridor.solve.convoy.walks import walk_plan, walk_programme
from walk_cases import TINY, dispatcher_leaves_two, far_apart, random_schedule, spread_points, walks_of


@TINY
@given(problem=spread_points())
def test_the_columns_optimum_is_the_walk_programmes_and_never_above_every_plans(
    problem: ConvoyProblem,
) -> None:
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    best = brute_force(problem, legs)
    if -sum(best[:-2]) < int(problem.flow.source_people.sum()):
        return  # a point no bus can reach in time: the relaxation bounds plans bringing everyone out
    programme = walk_programme(problem, legs, slots, 10.0)
    assert programme is not None and programme.proved
    for ceiling in (None, best[-2]):
        found = walk_columns(problem, legs, slots, 10.0, ceiling=ceiling)
        assert found is not None and found.least and found.walks is not None
        assert (found.floor, found.trips_floor) <= (best[-2], best[-1])
        # no closure, no checkpoint: the times of the walks are the walk programme's
        assert (found.floor, found.trips_floor) == (programme.completion, programme.trips)
        for solution in (found.walks, *found.others):  # the optimum's walks, then those on the way
            assert solution.completion >= found.floor
            made = walk_plan(problem, legs, solution, 10.0)
            assert made is not None  # no closure, no checkpoint: every walk can be booked
            plan = made.plan(method="x", status="feasible", bound=10**6, bound_kind="x", stats={})
            assert plan.verify(problem) == []
            assert objective_key(problem, made.trips) >= best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problem=convoy_problems(vehicles=2, horizon=(10, 24)))
def test_with_checkpoints_closures_and_stretchers_the_floor_never_exceeds_the_optimum(
    problem: ConvoyProblem,
) -> None:
    if any(problem.vehicle_on_board):
        return
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    best = brute_force(problem, legs)
    found = walk_columns(problem, legs, slots, 10.0)
    everyone = -sum(best[:-2]) == int(problem.flow.source_people.sum())
    if not everyone:
        return  # the relaxation bounds only plans that bring everyone out
    assert found is not None and found.least and found.trips_floor is not None
    assert (found.floor, found.trips_floor) <= (best[-2], best[-1])


def test_far_apart_points_and_the_dispatchers_trap_are_solved_to_their_optimum() -> None:
    for problem, optimum in ((far_apart(), (16, 2)), (dispatcher_leaves_two(), (20, 2))):
        legs = Legs(problem)
        slots = trips_possible(problem, legs)
        assert brute_force(problem, legs)[-2:] == optimum
        for ceiling in (None, optimum[0], optimum[0] + 3):
            found = walk_columns(problem, legs, slots, 10.0, ceiling=ceiling)
            assert found is not None and (found.floor, found.trips_floor) == optimum
            assert found.walks is not None
            made = walk_plan(problem, legs, found.walks, 10.0)
            assert made is not None and objective_key(problem, made.trips)[-2:] == optimum


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problem=convoy_problems(vehicles=3, horizon=(6, 30)), seed=st.integers(0, 1000))
def test_with_closures_a_walks_time_is_never_later_than_a_real_schedules_and_a_trip_left_out_never_later(
    problem: ConvoyProblem, seed: int
) -> None:
    if any(problem.vehicle_on_board):
        return
    legs = Legs(problem)
    for schedule in (greedy(problem, legs), random_schedule(problem, legs, seed)):
        for v, (walk, last) in walks_of(problem, schedule).items():
            timing = Timing(problem, legs, v)
            assert timing.time(walk) <= last, (v, walk, last)
            for k in range(len(walk)):
                shorter = walk[:k] + walk[k + 1 :]
                assert timing.time(shorter) <= timing.time(walk), (walk, k)
    nodes = sorted({int(n) for n in problem.flow.source_node.tolist()})
    for v in range(problem.n_vehicles):
        timing = Timing(problem, legs, v)
        for walk in itertools.product(nodes, repeat=3):
            for k in range(3):
                assert timing.time(walk[:k] + walk[k + 1 :]) <= timing.time(walk), (walk, k)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problem=convoy_problems(vehicles=2, horizon=(4, 16)))
def test_the_walk_ceiling_on_people_out_is_never_below_every_plans(problem: ConvoyProblem) -> None:
    if any(problem.vehicle_on_board):
        return
    legs = Legs(problem)
    weights = level_weights(problem)
    best = brute_force(problem, legs)  # (-people out per level, ..., completion, trips)
    most = sum(w * -people for w, people in zip(weights, best[:-2], strict=True))
    ceiling = people_ceiling_walks(problem, legs, trips_possible(problem, legs), weights, 10.0)
    assert ceiling is not None and ceiling >= most


def test_where_far_apart_points_decide_the_walk_ceiling_is_the_optimum_and_the_whole_trip_one_is_not() -> (
    None
):
    """One bus, 4 people at each of two points 10 steps apart: by step 15 only one trip arrives (the
    second at 16), which the walk ceiling sees and the whole-trip ceiling of cuts.py does not."""
    base = far_apart()
    for horizon, out in ((14, 4), (15, 4), (16, 8), (20, 8)):
        problem = replace(base, flow=replace(base.flow, axis=replace(base.flow.axis, horizon=horizon)))
        legs = Legs(problem)
        slots = trips_possible(problem, legs)
        assert -brute_force(problem, legs)[0] == out
        assert people_ceiling_walks(problem, legs, slots, [1], 10.0) == out
        assert people_ceiling(problem, legs, slots, [1], 10.0) == 8


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problem=convoy_problems(vehicles=2, horizon=(4, 16)))
def test_the_walk_ceilings_choices_book_into_verified_plans_never_above_every_plans(
    problem: ConvoyProblem,
) -> None:
    if any(problem.vehicle_on_board):
        return
    legs = Legs(problem)
    best = brute_force(problem, legs)
    plans = people_plans(problem, legs, trips_possible(problem, legs), level_weights(problem), 0.3).plans
    keys = [objective_key(problem, made.trips) for made in plans]
    assert keys == sorted(keys)
    for made in plans:
        plan = made.plan(method="x", status="feasible", bound=10**6, bound_kind="x", stats={})
        assert plan.verify(problem) == []
        assert objective_key(problem, made.trips) >= best


def test_where_far_apart_points_decide_the_walk_ceilings_choice_books_the_most_people_out() -> None:
    """The far-apart points by an early deadline: the ceiling's choice, booked, brings out as many as
    the enumeration's optimum (4 by step 14 and 15, 8 by step 16 and 20)."""
    base = far_apart()
    for horizon in (14, 15, 16, 20):
        problem = replace(base, flow=replace(base.flow, axis=replace(base.flow.axis, horizon=horizon)))
        legs = Legs(problem)
        plans = people_plans(problem, legs, trips_possible(problem, legs), [1], 0.5).plans
        best = brute_force(problem, legs)
        assert plans and objective_key(problem, plans[0].trips)[:-2] == best[:-2]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problem=convoy_problems(vehicles=2, horizon=(4, 16)))
def test_the_walk_ceilings_choices_stop_at_the_ceiling_with_the_optimum_out(
    problem: ConvoyProblem,
) -> None:
    """Where a plan brings out the walk ceiling (proved by HiGHS, never below the enumerated optimum),
    no random order is booked and the plan brings out the enumerated optimum; where it does not, the
    search goes on (the orders' plans below the ceiling)."""
    if any(problem.vehicle_on_board):
        return
    legs = Legs(problem)
    slots, weights = trips_possible(problem, legs), level_weights(problem)
    best = brute_force(problem, legs)
    most = sum(w * -people for w, people in zip(weights, best[:-2], strict=True))
    stopped = people_plans(problem, legs, slots, weights, 0.3)
    if stopped.ceiling is not None:
        assert stopped.ceiling >= most
    if stopped.reached:
        assert stopped.ceiling == most and stopped.orders == 0 and len(stopped.plans) == 1
        assert weighted_out(problem, stopped.plans[0], weights) == most
    elif stopped.plans:
        assert stopped.ceiling is None or weighted_out(problem, stopped.plans[0], weights) < stopped.ceiling


def test_where_the_ceiling_is_booked_at_once_the_search_stops_before_its_time() -> None:
    """The far-apart points by step 16 and 20: the ceiling's choice (8 out) books 8 out at once, so no
    random order is booked in the 60 s given; the whole search, given 1 s, books orders and finds no
    more people out."""
    base = far_apart()
    for horizon in (16, 20):
        problem = replace(base, flow=replace(base.flow, axis=replace(base.flow.axis, horizon=horizon)))
        legs = Legs(problem)
        slots = trips_possible(problem, legs)
        stopped = people_plans(problem, legs, slots, [1], 60.0)
        assert stopped.reached and stopped.ceiling == 8 and stopped.orders == 0
        whole = people_plans(problem, legs, slots, [1], 1.0, stop_at_ceiling=False)
        assert not whole.reached and whole.orders > 0
        out = [-objective_key(problem, found.plans[0].trips)[0] for found in (stopped, whole)]
        assert out == [8, 8]


def test_where_far_apart_points_decide_the_values_by_each_deadline_floor_the_completion() -> None:
    """The far-apart points by step 20, the choices by 20 down to 5: 8 out by 16 and after, 4 by 15
    (the second trip arrives at 16 at best): a plan bringing out 8 completes by 16 at the soonest, the
    enumeration's optimum; more than 8 is proved out of reach by every deadline looked at."""
    base = far_apart()
    problem = replace(base, flow=replace(base.flow, axis=replace(base.flow.axis, horizon=20)))
    legs = Legs(problem)
    found = people_plans(problem, legs, trips_possible(problem, legs), [1], 2.0, stop_at_ceiling=False)
    assert found.by_deadline[20] == found.by_deadline[16] == 8 and found.by_deadline[15] == 4
    assert completion_floor_walks(found.by_deadline, 8) == 16 == brute_force(problem, legs)[-2]
    assert completion_floor_walks(found.by_deadline, 9) == 21
