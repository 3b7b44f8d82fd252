"""The exact model within the walk ceiling's choice (solve/convoy/ceiling_choice.py): its plans verify,
make each class's trips to each gathering point those of the choice, bring out no more than the
ceiling and never beat the enumerated optimum; asked for more than the ceiling it finds nothing."""

from __future__ import annotations

import importlib
from dataclasses import replace

from hypothesis import HealthCheck, given, settings

from convoy_cases import brute_force, convoy_problems
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import trips_possible
from corridor.solve.convoy.ceiling_choice import point_counts, solve_within
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Schedule, objective_key
from corridor.solve.convoy.walk_columns import _columns, _people_choice, level_weights, weighted_out
from corridor.solve.convoy.walks import _demand
from walk_cases import far_apart

exact_module = importlib.import_module("corridor.solve.convoy.exact")


def _within(problem: ConvoyProblem) -> tuple[int, int, Schedule | None, bool] | None:
    """The ceiling's choice by the deadline solved within (from 0): (ceiling, enumerated optimum
    weighted, the plan or None, whether asking for more than the ceiling found nothing); None where
    the choice is not proved."""
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    weights = level_weights(problem)
    rows, people = _demand(problem)
    made = _columns(problem, legs, slots, problem.horizon, rows, people, 1e18)
    assert made is not None
    found = _people_choice(problem, made[0], rows, weights, problem.horizon, 10.0)
    if found is None or found[1] is None:
        return None
    walks, ceiling = found[0], found[1]
    best = brute_force(problem, legs)
    most = sum(w * -n for w, n in zip(weights, best[:-2], strict=True))
    model = exact_module._Model(problem, legs, slots)
    goal = sum(w * level for w, level in zip(weights, model.level_sum, strict=True))
    points = [[(sl.gnodes, sl.gsel) for sl in sls] for sls in model.slots]
    solved = solve_within(problem, model.m, points, walks, goal, 0, ceiling, 10.0, 1)
    above = solve_within(problem, model.m, points, walks, goal, ceiling + 1, ceiling, 10.0, 1)
    plan = None
    if solved is not None:
        plan = Schedule(problem, legs)
        exact_module._timed_trips(model, solved, plan)
        made_plan = plan.plan(method="x", status="feasible", bound=10**6, bound_kind="x", stats={})
        assert made_plan.verify(problem) == []
        index = problem.network.index
        booked: dict[int, tuple[int, ...]] = {}
        for trip in sorted(plan.trips, key=lambda t: (t.vehicle, t.number)):
            v = problem.vehicle_ids.index(trip.vehicle)
            booked[v] = (*booked.get(v, ()), index[trip.gathering])
        assert point_counts(problem, booked) == point_counts(problem, walks)
        assert weighted_out(problem, plan, weights) <= min(ceiling, most)
        assert objective_key(problem, plan.trips) >= best
    return ceiling, most, plan, above is None


def test_where_far_apart_points_decide_the_choice_is_booked_at_the_ceiling_and_nothing_above() -> None:
    """One bus, 4 people at each of two points 10 steps apart: by step 16 and 20 the ceiling's choice
    (a trip to each) is planned with 8 out, the enumerated optimum; by 14 one trip (4 out)."""
    base = far_apart()
    for horizon, out in ((14, 4), (16, 8), (20, 8)):
        problem = replace(base, flow=replace(base.flow, axis=replace(base.flow.axis, horizon=horizon)))
        found = _within(problem)
        assert found is not None
        ceiling, most, plan, nothing_above = found
        assert ceiling == most == out
        assert plan is not None and weighted_out(problem, plan, [1]) == out
        assert nothing_above


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problem=convoy_problems(vehicles=2, horizon=(4, 16)))
def test_within_the_choice_plans_verify_keep_its_trips_and_never_beat_the_optimum(
    problem: ConvoyProblem,
) -> None:
    if any(problem.vehicle_on_board):
        return
    found = _within(problem)
    if found is None:
        return
    ceiling, most, _, nothing_above = found
    assert ceiling >= most  # the walk ceiling holds the optimum
    assert nothing_above
