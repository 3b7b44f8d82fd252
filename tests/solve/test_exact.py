"""The exact planner on hand-solved networks, the flows-over-time reference, and an independent LP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from corridor.io.dimacs import read_dimacs
from corridor.problem.model import Problem
from corridor.solve import solve
from corridor.solve.exact import solve_exact
from corridor.solve.quickest import people_out, quickest_steps
from factories import problem
from lp_reference import lp_optimum
from strategies import small_problems


def _skutella(shared_data: Path, horizon: int) -> Problem:
    t = read_dimacs(shared_data / "flow-reference" / "skutella-flows-over-time-example.txt")
    arcs = [
        (int(a), int(b), int(c), int(d)) for a, b, c, d in zip(t.tail, t.head, t.cap, t.cost, strict=True)
    ]
    source = int(np.flatnonzero(t.supply > 0)[0])
    sink = int(np.flatnonzero(t.supply < 0)[0])
    return problem(t.n_nodes, arcs, sources=[(source, 6)], destinations=[sink], horizon=horizon)


@pytest.mark.parametrize(("horizon", "expected"), [(9, 4), (10, 6), (11, 6)])
def test_flows_over_time_reference(shared_data: Path, horizon: int, expected: int) -> None:
    """Discrete answers stated in flow-reference/SOURCE.md: 4 units by T=9, 6 by T=10."""
    p = _skutella(shared_data, horizon)
    for objective in ("max-flow", "earliest"):
        plan = solve_exact(p, objective=objective)
        assert plan.evacuated == expected
        assert plan.verify(p) == []


def test_flows_over_time_quickest(shared_data: Path) -> None:
    p = _skutella(shared_data, 9)
    assert quickest_steps(p) == 10
    plan = solve(p)
    assert plan.evacuation_steps == 10 and plan.evacuation_steps_proved


def _line(horizon: int, **kw: object) -> Problem:
    # 10 people, one road of 3 people per step taking 2 steps.
    return problem(2, [(0, 1, 3, 2)], sources=[(0, 10)], destinations=[1], horizon=horizon, **kw)  # type: ignore[arg-type]


def test_line_by_hand() -> None:
    # Departures at steps 0..T-2, three a step: T=4 -> 9 out; T=5 -> all 10.
    assert solve_exact(_line(4)).evacuated == 9
    plan = solve(_line(5))
    assert plan.evacuated == 10
    # Arrivals 3 at steps 2, 3, 4 and 1 at step 5.
    assert plan.total_steps == 3 * (2 + 3 + 4) + 5
    assert plan.evacuation_steps == 5
    assert plan.arrivals().tolist() == [0, 0, 3, 3, 3, 1]


def test_closure_delays_departures() -> None:
    p = _line(6, arc_closed=[(0, 0, 3)])  # road closed for steps 0, 1, 2
    plan = solve_exact(p)
    assert min(r.departure for r in plan.routes) == 3
    assert plan.evacuated == 3 * (6 - 2 - 3 + 1)
    assert plan.verify(p) == []


def test_checkpoint_throughput_limits_flow() -> None:
    # 0 -> 1 (checkpoint, 2 per step) -> 2; roads carry 5 per step.
    p = problem(
        3,
        [(0, 1, 5, 1), (1, 2, 5, 1)],
        sources=[(0, 20)],
        destinations=[2],
        horizon=6,
        node_cap={1: 2},
    )
    plan = solve_exact(p)
    # Passage at steps 1..5 (arrive at 1 from step 1, leave by step 5 to arrive at 6): 5 x 2.
    assert plan.evacuated == 10
    assert plan.verify(p) == []


def test_destination_capacity() -> None:
    p = problem(3, [(0, 1, 5, 1), (0, 2, 5, 3)], sources=[(0, 20)], destinations=[(1, 4), (2, -1)], horizon=5)
    plan = solve_exact(p)
    by_dest = {d: sum(r.people for r in plan.routes if r.destination == d) for d in ("d0", "d1")}
    assert by_dest["d0"] == 4
    assert plan.evacuated == 4 + 5 * 3
    assert plan.verify(p) == []


def test_wounded_first() -> None:
    # Wounded (5 at node 0) and others (4 at node 1, one step behind) share one road of 2 a step.
    p = problem(
        3,
        [(0, 2, 2, 1), (1, 0, 10, 1)],
        sources=[(0, 5, 1), (1, 4, 0)],
        destinations=[2],
        horizon=3,
        groups=[("general", 2), ("wounded", 1)],
    )
    plan = solve(p)
    assert plan.evacuated == 6  # departures at steps 0, 1, 2
    assert plan.by_group() == {"wounded": 5, "general": 1}
    assert plan.verify(p) == []


def test_wounded_take_the_earliest_departures() -> None:
    p = problem(
        2,
        [(0, 1, 2, 1)],
        sources=[(0, 10, 0), (0, 3, 1)],
        destinations=[1],
        horizon=4,
        groups=[("general", 2), ("wounded", 1)],
    )
    plan = solve(p)
    assert plan.by_group() == {"wounded": 3, "general": 5}
    wounded = sorted(r.arrival for r in plan.routes for _ in range(r.people) if r.group == "wounded")
    assert wounded == [1, 1, 2]
    assert plan.verify(p) == []


def test_nobody_can_get_out_is_a_result() -> None:
    p = problem(3, [(0, 1, 5, 10)], sources=[(0, 7)], destinations=[1, 2], horizon=5)
    plan = solve(p)
    assert plan.evacuated == 0 and plan.routes == ()
    # 5 leave at step 0 and 2 at step 1; the road takes 10 steps.
    assert plan.evacuation_steps == 11


def test_unreachable_source_has_no_evacuation_time() -> None:
    p = problem(3, [(0, 1, 5, 1)], sources=[(0, 7), (2, 3)], destinations=[1], horizon=5)
    plan = solve(p)
    assert plan.evacuated == 7
    assert plan.evacuation_steps is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_exact_equals_independent_lp(p: Problem) -> None:
    plan = solve_exact(p, objective="earliest")
    assert plan.verify(p) == []
    assert (plan.evacuated, plan.total_steps) == lp_optimum(p)
    assert solve_exact(p, objective="max-flow").evacuated == plan.evacuated


@settings(max_examples=40, deadline=None)
@given(small_problems())
def test_later_deadline_never_fewer_out(p: Problem) -> None:
    outs = [people_out(p, h) for h in range(p.horizon, p.horizon + 4)]
    assert outs == sorted(outs)
