"""The exact convoy method keeps its time limit in every phase: building the model, completing the hint,
the bounds of solve/convoy/cuts.py and the solves. What it leaves out it names (``skipped``); its plan
then is at least the dispatcher's, verifies and is called ``feasible``."""

from __future__ import annotations

import importlib

import pytest

from convoy_cases import buses, example
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.exact import ExactResult, _Model, _OutOfTimeError, solve_exact
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import greedy, objective_key
from factories import problem

# the module itself (the package's name ``exact`` is the method, a function)
exact_module = importlib.import_module("corridor.solve.convoy.exact")


def _small() -> ConvoyProblem:
    """Two buses of 4 seats at the reception point (node 1); 5 people 1 step away (node 0), 9 people 4
    steps away (node 2), more than the buses can bring out in 14 steps."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 4), (2, 1, 5, 4)]
    flow = problem(3, arcs, sources=[(0, 5), (2, 9)], destinations=[1], horizon=14)
    return buses(flow, depots=[1, 1])


def _honest(problem: ConvoyProblem, legs: Legs, result: ExactResult) -> None:
    """The plan verifies and is no worse than the dispatcher's; unproved, it is called feasible."""
    plan = result.schedule.plan(method="exact", status=result.status, bound=10**6, bound_kind="t", stats={})
    assert plan.verify(problem) == []
    dispatcher = greedy(problem, legs)
    assert objective_key(problem, result.schedule.trips) <= objective_key(problem, dispatcher.trips)
    assert result.status == "feasible"


def test_building_stops_at_the_deadline() -> None:
    problem = _small()
    assert sum(_Model(problem, Legs(problem), [3, 3]).level_most) == 14
    with pytest.raises(_OutOfTimeError):
        _Model(problem, Legs(problem), [3, 3], deadline=0.0)


def test_a_model_not_built_in_time_gives_the_dispatchers_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _small()
    legs = Legs(problem)
    monkeypatch.setattr(exact_module, "BUILD_SHARE", 0.0)
    result = solve_exact(problem, legs, time_limit=30, workers=1)
    assert result.skipped == ["model", "solve"]
    assert result.levels[0].startswith("model:out-of-time")
    assert result.schedule.trips == greedy(problem, legs).trips
    _honest(problem, legs, result)


def test_without_time_for_them_the_hint_the_bounds_and_the_solve_are_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = _small()
    legs = Legs(problem)
    monkeypatch.setattr(exact_module, "LEAST_SOLVE", 10.0**6)
    result = solve_exact(problem, legs, time_limit=30, workers=1)
    assert result.skipped == ["hint", "ceiling", "solve"]
    _honest(problem, legs, result)


def test_a_large_instance_with_a_tiny_limit_returns_soon_with_an_honest_plan() -> None:
    """East Aleppo (33 vehicles, hundreds of trip slots) takes seconds to model; with half a second the
    method hands back the dispatcher's plan or better, within a very generous multiple of the limit
    (its own reported wall time; the dispatcher's plan alone takes a fraction of a second)."""
    _, problem = example()
    legs = Legs(problem)
    result = solve_exact(problem, legs, time_limit=0.5, workers=1)
    assert result.skipped  # the model at least is not solved to the end in half a second
    assert result.seconds < 20 * 0.5
    _honest(problem, legs, result)


def test_with_time_the_small_instance_is_solved_to_the_end() -> None:
    problem = _small()
    legs = Legs(problem)
    result = solve_exact(problem, legs, time_limit=30, workers=1)
    assert result.skipped == []
    assert result.status == "optimal"
    key = objective_key(problem, result.schedule.trips)
    assert key <= objective_key(problem, greedy(problem, legs).trips)
