"""The static-flow bounds and the quickest-time search, against max flows at every horizon."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.problem.model import Problem
from corridor.solve.bounds import growth_rate, lower_bound, proves_short, repeated_out, set_bound, short_until
from corridor.solve.quickest import people_out, quickest_steps
from factories import problem
from strategies import Sizes
from strategies import problems as shared_problems

LIMIT = 40  # horizons scanned by the reference search


def problems(*, closures: bool = True) -> st.SearchStrategy[Problem]:
    return shared_problems(
        Sizes(
            nodes=(2, 7),
            roads=(1, 12),
            road_cap=(1, 5),
            road_steps=(1, 4),
            people=40,
            sources=5,
            destinations=3,
            reception=(-1, -1, 10, 60),
            checkpoints=2,
            throughput=(1, 4),
            road_closures=2 if closures else 0,
            close_at=(0, 8),
            close_for=(1, 8),
            horizon=(1, 10),
        )
    )


def _scan(p: Problem) -> int | None:
    """The reference: the first horizon whose max flow is everyone, by trying them all."""
    return next((h for h in range(LIMIT + 1) if people_out(p, h) >= p.people), None)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_quickest_time_matches_a_scan_of_every_horizon(p: Problem) -> None:
    expected = _scan(p)
    bound = lower_bound(p)
    if expected is None:
        return
    assert bound is not None and bound <= expected
    assert quickest_steps(p, limit=4 * LIMIT) == expected
    # The same answer from either side of the problem's own horizon.
    out = people_out(p, p.horizon)
    if out >= p.people:
        assert quickest_steps(p, feasible=p.horizon) == expected
    else:
        assert quickest_steps(p, infeasible=p.horizon, infeasible_out=out, limit=4 * LIMIT) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_repeated_flows_bound_people_out(p: Problem) -> None:
    for h in range(0, 16, 3):
        assert people_out(p, h) <= repeated_out(p, h)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(closures=False))
def test_one_more_step_adds_at_most_the_growth_rate(p: Problem) -> None:
    rate = growth_rate(p)
    outs = [people_out(p, h) for h in range(16)]
    for h in range(15):
        if outs[h] < p.people and short_until(p, h, outs[h], rate) > h:
            assert outs[h + 1] - outs[h] <= rate
            # So every horizon the bound calls short is short.
            last = short_until(p, h, outs[h], rate)
            assert all(people_out(p, k) < p.people for k in range(h, min(last, 20) + 1))


def test_far_sources_prove_the_bound() -> None:
    # Far: 4 people at node 0 behind a road of 1 a step taking 5 steps, then 1 step to the exit:
    # departures at steps 0..3, out by 9. Near: 50 people one step from the exit at 10 a step, out
    # by 5. Together the repeated-flow bound only says 6 (11 a step); the far set alone says 9.
    p = problem(
        4,
        [(0, 1, 1, 5), (1, 2, 10, 1), (3, 2, 10, 1)],
        sources=[(0, 4), (3, 50)],
        destinations=[2],
        horizon=4,
    )
    assert _scan(p) == 9
    assert repeated_out(p, 8) >= p.people
    assert lower_bound(p) == 9
    assert quickest_steps(p) == 9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_a_set_bound_never_passes_the_quickest_time(p: Problem, data: st.DataObject) -> None:
    # Any set of sources, with closures and reception limits: below its bound nobody can have
    # everyone out, as the max flow at every horizon says.
    n = len(p.source_node)
    sources = np.asarray(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    expected = _scan(p)
    if expected is None:
        return
    bound = set_bound(p, sources, 0)
    assert bound <= expected
    # And it is a bound of the set: below it, the set's own people are not all out either.
    if bound > 0 and sources.any():
        keep = replace(p, source_people=np.where(sources, p.source_people, 0))
        assert people_out(keep, bound - 1) < keep.people


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 30))
def test_proves_short_says_whether_the_lower_bound_passes_the_horizon(p: Problem, horizon: int) -> None:
    bound = lower_bound(p)
    assert proves_short(p, horizon) == (bound is not None and bound > horizon)
    if proves_short(p, horizon):  # and a bound above the horizon is one: the max flow agrees
        assert people_out(p, horizon) < p.people


def test_proves_short_refuses_a_negative_horizon() -> None:
    p = problem(2, [(0, 1, 1, 1)], sources=[(0, 3)], destinations=[1], horizon=4)
    with pytest.raises(ValueError, match="0 steps or more, not -1"):
        proves_short(p, -1)
