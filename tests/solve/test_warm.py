"""Warm starts of the quickest-time search (``corridor.solve.warm``): a max flow for more steps grown
from one for fewer is a max flow (checked arc by arc), of the value of one from nothing, with the
same sources on the source side of its minimum cut; the search gives the quickest time of a scan
of every horizon with warm starts taken whenever they can be."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corridor.solve.quickest as quickest
from corridor.core.errors import SolverError
from corridor.problem.model import Problem
from corridor.solve.expand import ExpandedNetwork, expand
from corridor.solve.quickest import people_out, probe_flow, quickest_steps
from corridor.solve.warm import ExpandedFlow, WarmStarts, carry, max_flow_from
from factories import problem
from strategies import Sizes, problems

SIZES = Sizes(
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
    road_closures=2,
    place_closures=2,
    close_at=(0, 8),
    close_for=(1, 8),
    horizon=(1, 10),
)


def _is_flow(exp: ExpandedNetwork, flows: np.ndarray, value: int) -> bool:
    """Within every capacity, conserved at every node but the source and the sink, ``value`` in."""
    if (flows < 0).any() or (flows > exp.capacity).any():
        return False
    net = np.bincount(exp.head, flows, exp.n_nodes) - np.bincount(exp.tail, flows, exp.n_nodes)
    inner = np.ones(exp.n_nodes, dtype=bool)
    inner[[exp.source, exp.sink]] = False
    return bool((net[inner] == 0).all()) and int(net[exp.sink]) == value


def _max_flow(p: Problem, horizon: int) -> ExpandedFlow:
    """A max flow from nothing, kept whatever its value."""
    exp = expand(p, horizon)
    zero = np.zeros(exp.n_arcs, dtype=np.int64)
    flow, _ = max_flow_from(exp, zero, 0)
    return flow


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=problems(SIZES), data=st.data())
def test_a_max_flow_grown_from_a_shorter_one_is_a_max_flow(p: Problem, data: st.DataObject) -> None:
    short_h = data.draw(st.integers(0, 12), label="fewer steps")
    long_h = short_h + data.draw(st.integers(0, 8), label="more steps")
    start = _max_flow(p, short_h)
    exp = expand(p, long_h)
    carried = carry(start, exp)
    assert _is_flow(exp, carried, start.value)
    grown, _ = max_flow_from(exp, carried, start.value)
    assert _is_flow(exp, grown.flows, grown.value)
    assert grown.value == people_out(p, long_h)
    # The same sources left short as by a max flow from nothing.
    cold_out, cold_short, _ = probe_flow(p, long_h)
    warm_out, warm_short, _ = probe_flow(p, long_h, start)
    assert warm_out == cold_out
    assert (warm_short == cold_short).all()


def _scan(p: Problem, limit: int) -> int | None:
    return next((h for h in range(limit + 1) if people_out(p, h) >= p.people), None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=problems(SIZES))
def test_the_search_with_every_warm_start_it_can_take_matches_a_scan(p: Problem) -> None:
    expected = _scan(p, 40)
    if expected is None:
        return
    with pytest.MonkeyPatch.context() as m:
        m.setattr(quickest, "WARM_SHARE", 1.0)  # keep every max flow that falls short
        assert quickest_steps(p, limit=160) == expected
        out = people_out(p, p.horizon)
        if out < p.people:
            assert quickest_steps(p, infeasible=p.horizon, infeasible_out=out, limit=160) == expected


def test_the_search_starts_warm_from_a_miss() -> None:
    """12 people over two roads of 1 a step, the second closed for 4 steps: the bounds leave out
    the closure (13 steps), the max flow for 13 misses by 4 people, and the next probes grow
    their max flows from that one."""
    p = problem(
        3,
        [(0, 1, 1, 1), (1, 2, 1, 1)],
        sources=[(0, 12)],
        destinations=[2],
        horizon=4,
        arc_closed=[(1, 2, 6)],
    )
    tried: list[str] = []
    with pytest.MonkeyPatch.context() as m:
        m.setattr(quickest, "WARM_SHARE", 1.0)
        steps = quickest_steps(p, infeasible=p.horizon, progress=tried.append)
    assert steps == _scan(p, 40) == 17
    assert any("from the flow for 13" in t for t in tried), tried


def test_warm_starts_keep_the_longest_flow_and_start_only_longer_ones() -> None:
    p = problem(3, [(0, 1, 1, 1), (1, 2, 1, 1)], sources=[(0, 5)], destinations=[2], horizon=4)
    warm = WarmStarts()
    warm.offer(_max_flow(p, 4))
    warm.offer(_max_flow(p, 3))
    assert warm.flow is not None and warm.flow.exp.horizon == 4
    assert warm.start_for(4) is None
    assert warm.start_for(5) is warm.flow


def test_a_flow_for_more_steps_cannot_start_one_for_fewer() -> None:
    p = problem(3, [(0, 1, 1, 1), (1, 2, 1, 1)], sources=[(0, 5)], destinations=[2], horizon=4)
    with pytest.raises(SolverError, match="cannot start the max flow for 3 steps"):
        carry(_max_flow(p, 6), expand(p, 3))


def test_a_warm_start_above_a_capacity_is_refused() -> None:
    p = problem(3, [(0, 1, 1, 1), (1, 2, 1, 1)], sources=[(0, 5)], destinations=[2], horizon=4)
    exp = expand(p, 4)
    over = exp.capacity + 1
    with pytest.raises(SolverError, match="within the capacities"):
        max_flow_from(exp, over, 0)


def test_a_flow_of_another_problem_is_refused() -> None:
    p = problem(3, [(0, 1, 1, 1), (1, 2, 1, 1)], sources=[(0, 5)], destinations=[2], horizon=4)
    other = problem(3, [(0, 2, 1, 1)], sources=[(0, 5)], destinations=[2], horizon=4)
    with pytest.raises(SolverError, match="missing for 5 steps"):
        carry(_max_flow(p, 4), expand(other, 5))
