"""solve_convoy trusts no method: a plan its checker refuses gives way to the dispatcher's plan."""

from __future__ import annotations

import numpy as np
import pytest

from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import CONVOY_METHODS, solve_convoy
from factories import problem as flow_problem


def _line_with_checkpoint_at(source: int, dest: int) -> ConvoyProblem:
    """0 - 1 - 2, a checkpoint at node 1; two people wait at ``source`` for ``dest``."""
    arcs = [(0, 1, 100, 1), (1, 0, 100, 1), (1, 2, 100, 1), (2, 1, 100, 1)]
    flow = flow_problem(3, arcs, sources=[(source, 2)], destinations=[dest], horizon=10, node_cap={1: 100})
    return ConvoyProblem(
        flow=flow,
        type_ids=("bus",),
        type_seats=np.asarray([2]),
        type_stretchers=np.asarray([0]),
        type_speed=np.asarray([1.0]),
        load_steps=np.asarray([1]),
        unload_steps=np.asarray([1]),
        vehicle_ids=("v0",),
        vehicle_type=np.zeros(1, dtype=np.int64),
        vehicle_node=np.zeros(1, dtype=np.int64),
        vehicle_ready=np.zeros(1, dtype=np.int64),
        vehicle_on_board=((),),
        group_stretcher=np.asarray([False]),
        checkpoint_inspection=np.full(1, 3, dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(1),
        checkpoint_people_rate=np.zeros(1),
    )


@pytest.mark.parametrize(
    ("source", "dest"), [(1, 2), (0, 1)], ids=["gathering-at-checkpoint", "reception-at-checkpoint"]
)
@pytest.mark.parametrize("method", sorted(CONVOY_METHODS))
def test_every_method_returns_a_plan_that_verifies(method: str, source: int, dest: int) -> None:
    problem = _line_with_checkpoint_at(source, dest)
    # Ample for a proof on two nodes: the exact method ends when proved (its solver's worker
    # process starts in about 0.6 s, longer on a busy machine).
    plan = solve_convoy(problem, method=method, time_limit=10)
    assert plan.verify(problem) == []
    assert "fallback_violations" not in plan.stats  # the method's own plan, not the dispatcher's
    if method == "exact":
        assert plan.status == "optimal"  # inspected as the dispatcher inspects: no better plan exists
    assert plan.evacuated == 2  # one trip, inspected at the checkpoint where it boards or unloads
    assert all(len(t.inspections) == 1 for t in plan.trips)
