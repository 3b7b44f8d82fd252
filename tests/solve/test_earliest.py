"""The earliest-arrival flow against independent answers: a max flow per deadline, OR-Tools'
min-cost flow, the LP, and the quickest-time search."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, assume, given, settings

from corridor.problem.model import UNLIMITED, IntArray, Problem
from corridor.solve import solve
from corridor.solve.earliest import EarliestArrival, earliest_arrival_flow
from corridor.solve.exact import level_max_flows, min_time_flow, solve_exact
from corridor.solve.expand import ExpandedNetwork, expand
from corridor.solve.flows import minimum_cost_flow
from corridor.solve.quickest import people_out, quickest_steps
from factories import problem
from lp_reference import lp_optimum
from strategies import small_problems


def _open_reception(p: Problem) -> Problem:
    return replace(p, dest_cap=np.full(len(p.dest_node), UNLIMITED, dtype=np.int64))


def _assert_is_a_flow(exp: ExpandedNetwork, flows: IntArray) -> None:
    assert (flows >= 0).all() and (flows <= exp.capacity).all()
    balance = np.bincount(exp.tail, flows, exp.n_nodes) - np.bincount(exp.head, flows, exp.n_nodes)
    inner = np.ones(exp.n_nodes, dtype=bool)
    inner[[exp.source, exp.sink]] = False
    assert not balance[inner].any()


def _min_cost_total(exp: ExpandedNetwork, out: int) -> int:
    """OR-Tools' least total arrival step for ``out`` people (an independent engine)."""
    return minimum_cost_flow(
        exp.tail, exp.head, exp.capacity, exp.arrival_step, {exp.source: out, exp.sink: -out}
    ).value


def _check(p: Problem) -> EarliestArrival:
    exp = expand(p, costs=True)
    flow = earliest_arrival_flow(exp)
    _assert_is_a_flow(exp, flow.flows)
    # Earliest arrival: the people out by every step are the maximum for that deadline.
    by_step = np.cumsum(flow.arrivals)
    assert by_step.tolist() == [people_out(p, h) for h in range(p.horizon + 1)]
    # Least total time among the maximum flows.
    total = int((flow.arrivals * np.arange(p.horizon + 1)).sum())
    assert total == _min_cost_total(exp, int(by_step[-1]))
    return flow


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_most_out_by_every_step_and_least_total_time(p: Problem) -> None:
    _check(_open_reception(p))


def _grid(rows: int, cols: int, horizon: int, seed: int) -> Problem:
    """A lattice of two-way roads with seeded travel times and capacities, sources inside and
    reception points at two corners."""
    rng = np.random.default_rng(seed)
    arcs = []
    for r in range(rows):
        for c in range(cols):
            v = r * cols + c
            for w in ([v + 1] if c + 1 < cols else []) + ([v + cols] if r + 1 < rows else []):
                cap, steps = int(rng.integers(1, 6)), int(rng.integers(1, 4))
                arcs += [(v, w, cap, steps), (w, v, cap, steps)]
    inside = rng.choice(np.arange(1, rows * cols - 1), size=rows * cols // 5, replace=False)
    sources = [(int(v), int(rng.integers(5, 40))) for v in inside]
    return problem(rows * cols, arcs, sources=sources, destinations=[0, rows * cols - 1], horizon=horizon)


def test_grid_against_max_flows_and_min_cost() -> None:
    """Hundreds of augmentations on one tree: the same answers as the independent engines."""
    flow = _check(_grid(9, 11, 40, seed=20161215))
    assert flow.augmentations > 100


def test_reception_capacity_that_binds_falls_back_to_min_cost() -> None:
    # 10 people at 0; road to reception 1 (1 step, 5 a step), road to reception 2 (3 steps, 5 a
    # step). Reception 1 takes 4: 4 arrive there at step 1, 5 at 2 by step 3 and 1 at step 4.
    p = problem(
        3,
        [(0, 1, 5, 1), (0, 2, 5, 3)],
        sources=[(0, 10)],
        destinations=[(1, 4), (2, UNLIMITED)],
        horizon=6,
    )
    exp = expand(p)
    assert earliest_arrival_flow(exp).by_destination.tolist() == [10, 0]  # the relaxation
    plan = solve_exact(p)
    assert plan.stats["min_cost_flow"] == 1.0
    assert plan.verify(p) == []
    assert (plan.evacuated, plan.total_steps) == (10, 4 * 1 + 5 * 3 + 1 * 4) == lp_optimum(p)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_quickest_time_from_the_earliest_arrival_flow(p: Problem) -> None:
    p = _open_reception(p)
    plan = solve(p)
    assume(plan.evacuated == p.people)
    assert plan.evacuation_steps_proved
    assert plan.evacuation_steps == quickest_steps(p)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_priority_levels_leave_in_the_numbers_of_their_max_flows(p: Problem) -> None:
    p = _open_reception(p)
    exp = expand(p, costs=True)
    per_level, _ = level_max_flows(exp)
    flow = earliest_arrival_flow(exp, per_level)
    _assert_is_a_flow(exp, flow.flows)
    assert flow.flows[exp.blocks["level"]].tolist() == per_level.tolist()
    total = int((flow.arrivals * np.arange(p.horizon + 1)).sum())
    assert total == min_time_flow(exp, per_level)[0]


def test_reception_points_on_one_node_share_its_arrivals() -> None:
    # 10 people, 5 a step to node 1 in one step, where reception A takes 4 and B any number:
    # 5 arrive at step 1 (A 4, B 1) and 5 at step 2 (B), within both capacities, so the
    # earliest-arrival flow is the plan and proves 2 steps the quickest time.
    p = problem(2, [(0, 1, 5, 1)], sources=[(0, 10)], destinations=[(1, 4), (1, UNLIMITED)], horizon=4)
    plan = solve_exact(p)
    assert plan.verify(p) == []
    assert "min_cost_flow" not in plan.stats
    assert (plan.evacuated, plan.total_steps) == (10, 5 * 1 + 5 * 2) == lp_optimum(p)
    assert plan.evacuation_steps == 2 and plan.evacuation_steps_proved
    people = {d: sum(r.people for r in plan.routes if r.destination == d) for d in p.dest_ids}
    assert sorted(people.values()) == [4, 6]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_both_engines_give_the_same_optimum(p: Problem) -> None:
    fast, slow = solve_exact(p), solve_exact(p, least_time="min-cost")
    assert fast.verify(p) == [] and slow.verify(p) == []
    assert (fast.evacuated, fast.total_steps, fast.by_group()) == (
        slow.evacuated,
        slow.total_steps,
        slow.by_group(),
    )
