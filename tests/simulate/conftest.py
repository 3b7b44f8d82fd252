"""The East Aleppo convoy plan, made once per test session, for the simulation tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from convoy_cases import example
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem
from corridor.simulate.timetable import Timetable, convoy_timetable
from corridor.solve.convoy import solve_convoy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ConvoyCase = tuple[ConvoyPlan, ConvoyProblem, Timetable]


@pytest.fixture(scope="session")
def east_aleppo_convoy() -> ConvoyCase:
    """The East Aleppo convoy plan (greedy: quick), its problem and its timetable."""
    _, problem = example()
    plan = solve_convoy(problem, method="greedy", time_limit=10)
    return plan, problem, convoy_timetable(plan, problem)
