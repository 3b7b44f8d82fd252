"""The earliest-arrival plan made beside the quickest-time search (two threads) is the plan made
one after the other: same people out, same total time, same routes, same proved quickest time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from corridor.plan.model import Plan
from corridor.problem.model import Problem
from corridor.solve import solve
from corridor.solve.bounds import lower_bound
from factories import exit_grid as _grid


def _same(a: Plan, b: Plan) -> None:
    assert (a.evacuated, a.total_steps) == (b.evacuated, b.total_steps)
    assert (a.evacuation_steps, a.evacuation_steps_proved) == (b.evacuation_steps, b.evacuation_steps_proved)
    assert sorted((r.arrival, r.people) for r in a.routes) == sorted((r.arrival, r.people) for r in b.routes)


@pytest.mark.parametrize("seed", [0, 1])
def test_side_by_side_equals_one_after_the_other(seed: int) -> None:
    p: Problem = _grid(8, seed)
    bound = lower_bound(p)
    assert bound is not None and bound > p.horizon  # the case that runs on two threads
    together, alone = solve(p, threads=2), solve(p, threads=1)
    _same(together, alone)
    assert together.evacuation_steps_proved
    assert together.verify(p) == []


def test_when_everyone_may_be_out_the_plan_comes_first() -> None:
    p: Problem = _grid(5, 3)
    bound = lower_bound(p)
    assert bound is not None
    p = replace(p, axis=replace(p.axis, horizon=bound + 30))
    together, alone = solve(p, threads=2), solve(p, threads=1)
    _same(together, alone)
    assert together.evacuated == p.people
    assert together.evacuation_steps_proved
