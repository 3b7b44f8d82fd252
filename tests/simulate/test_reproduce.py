"""With no disruption, the simulation reproduces the plan exactly: every activity starts and ends as
planned and every load arrives when planned (the shipped examples, and small random plans)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from convoy_cases import convoy_problems
from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import Problem
from corridor.scenario.model import RiskSettings
from corridor.simulate.draws import draw
from corridor.simulate.engine_numpy import simulate_numpy
from corridor.simulate.engine_simpy import simulate_simpy
from corridor.simulate.runs import outcomes
from corridor.simulate.timetable import Timetable, convoy_timetable, flow_timetable
from corridor.solve import solve
from corridor.solve.convoy import solve_convoy
from corridor.solve.pipeline import plan_file
from strategies import small_problems

from .conftest import ConvoyCase

CALM = RiskSettings()
SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/scenario.toml"))


def assert_as_planned(tt: Timetable) -> None:
    d = draw(tt, CALM, 3, seed=11)
    o = simulate_numpy(tt, d, trace=True)
    assert o.start is not None and o.end is not None
    for r in range(3):
        np.testing.assert_array_equal(o.start[:, r], tt.planned)
        np.testing.assert_array_equal(o.end[:, r] - o.start[:, r], tt.duration)
        np.testing.assert_array_equal(o.arrival[:, r], tt.delivery_planned)
    np.testing.assert_array_equal(simulate_simpy(tt, d).arrival, o.arrival)
    counted = outcomes(tt, d, o)
    assert counted.out.tolist() == [tt.planned_out] * 3
    assert (counted.left.sum(axis=1) == tt.people - tt.planned_out).all()
    assert counted.curve[:, -1].tolist() == [tt.planned_out] * 3


def test_east_aleppo_convoy_plan_is_reproduced(east_aleppo_convoy: ConvoyCase) -> None:
    plan, _, tt = east_aleppo_convoy
    assert tt.planned_out == plan.evacuated > 0
    assert tt.n_deliveries == len(plan.trips)
    assert_as_planned(tt)


def test_the_shipped_examples_are_all_simulated() -> None:
    assert {p.parent.name for p in SCENARIOS} >= {"east-aleppo-2016", "helsinki-osm"}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.parent.name)
def test_flow_plan_of_every_example_is_reproduced(path: Path) -> None:
    planned = plan_file(path, method="ccrp", quickest=False)
    tt = flow_timetable(planned.plan, planned.problem)
    assert tt.planned_out == planned.plan.evacuated
    assert_as_planned(tt)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems())
def test_random_convoy_plans_are_reproduced(problem: ConvoyProblem) -> None:
    plan = solve_convoy(problem, method="greedy", time_limit=5)
    assert not plan.verify(problem)
    tt = convoy_timetable(plan, problem)
    assert tt.planned_out == plan.evacuated
    assert_as_planned(tt)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_random_flow_plans_are_reproduced(problem: Problem) -> None:
    plan = solve(problem, method="ccrp", quickest=False)
    tt = flow_timetable(plan, problem)
    assert tt.planned_out == plan.evacuated
    assert_as_planned(tt)
