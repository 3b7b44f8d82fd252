"""The earliest-arrival plan made beside the quickest-time search (two threads) is the plan made
one after the other: same people out, same total time, same routes, same proved quickest time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from corridor.plan.model import Plan
from corridor.problem.model import Problem
from corridor.solve import solve
from corridor.solve.bounds import lower_bound
from factories import problem


def _grid(k: int, seed: int) -> Problem:
    """People at every node of a k x k grid of two-way roads of random capacity and length, one
    exit joined to two corner nodes by unlimited connectors (a bottleneck at the exit)."""
    rng = np.random.default_rng(seed)
    arcs: list[tuple[int, int, int, int]] = []
    for i in range(k):
        for j in range(k):
            for a, b in ((i, j + 1), (i + 1, j), (i, j - 1), (i - 1, j)):
                if 0 <= a < k and 0 <= b < k:
                    arcs.append((i * k + j, a * k + b, int(rng.integers(1, 6)), int(rng.integers(1, 4))))
    arcs += [(k * k - 1, k * k, 2**31 - 1, 1), (k * k - 2, k * k, 2**31 - 1, 1)]
    sources = [(v, int(rng.integers(10, 80))) for v in range(k * k)]
    made: Problem = problem(k * k + 1, arcs, sources=sources, destinations=[k * k], horizon=20)
    return made


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
