"""People on board at the start are delivered: the vehicle free first does not take the room they need
at the reception point, whichever method plans; the fair plan verifies too."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import solve_convoy
from corridor.solve.convoy.fair import fair_plans
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Intent, Schedule
from factories import problem


def _two_vehicles(capacity: int) -> ConvoyProblem:
    """Node 0 (2 people wait), node 1 (reception point of ``capacity``), node 2; roads of one step
    0-1 and 2-1. v0 waits at node 2 with 1 person on board, free at step 2; v1 at node 0 is free at 0.
    Both have 2 seats."""
    arcs = [(0, 1, 100, 1), (1, 0, 100, 1), (2, 1, 100, 1), (1, 2, 100, 1)]
    flow = problem(3, arcs, sources=[(0, 2)], destinations=[(1, capacity)], horizon=10)
    return ConvoyProblem(
        flow=flow,
        type_ids=("bus",),
        type_seats=np.asarray([2]),
        type_stretchers=np.asarray([0]),
        type_speed=np.asarray([1.0]),
        load_steps=np.asarray([1]),
        unload_steps=np.asarray([1]),
        vehicle_ids=("v0", "v1"),
        vehicle_type=np.zeros(2, dtype=np.int64),
        vehicle_node=np.asarray([2, 0], dtype=np.int64),
        vehicle_ready=np.asarray([2, 0], dtype=np.int64),
        vehicle_on_board=(((0, 1),), ()),
        group_stretcher=np.asarray([False]),
        checkpoint_inspection=np.zeros(0, dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(0),
        checkpoint_people_rate=np.zeros(0),
    )


@pytest.mark.parametrize("method", ["greedy", "search"])
def test_room_is_kept_back_for_the_people_on_board(method: str) -> None:
    p = _two_vehicles(2)
    plan = solve_convoy(p, method=method, time_limit=3)
    assert plan.verify(p) == []
    first = plan.trips_of("v0")[0]
    assert first.load == ((p.flow.source_ids[0], 1),)
    # the reception point takes 2: the person on board and one of the two waiting
    assert plan.evacuated == 2


def test_a_schedule_refuses_a_load_that_leaves_no_room_for_the_people_on_board() -> None:
    p = _two_vehicles(2)
    schedule = Schedule(p, Legs(p))
    assert schedule.spare(0) == 1
    timed = schedule.trip(Intent(1, 0, 0))
    assert timed is not None and timed.trip.people == 1
    assert schedule.trip(Intent(1, 0, 0, ((0, 2),))) is None
    schedule.commit(timed)
    delivered = schedule.trip(Intent(0, 2, 0))
    assert delivered is not None and delivered.trip.people == 1
    # with room for everyone nothing is held back
    roomy = Schedule(_two_vehicles(3), Legs(_two_vehicles(3)))
    assert roomy.spare(0) == 2


def test_the_fair_plan_verifies_with_people_on_board() -> None:
    p = _two_vehicles(2)
    most = solve_convoy(p, method="greedy")
    result = fair_plans(p, most)
    assert result.fair.verify(p) == []
    assert result.fair.evacuated == 2


def test_a_fair_plan_that_would_not_verify_gives_way_to_the_most_out_plan_with_a_note() -> None:
    # v0 waits with one person on board at node 0, which has no road: no plan can deliver them, so no
    # plan verifies; v1 at node 1 can take the two people waiting there to the reception point at 3
    arcs = [(1, 2, 100, 1), (2, 1, 100, 1), (2, 3, 100, 1), (3, 2, 100, 1)]
    flow = problem(4, arcs, sources=[(1, 2)], destinations=[3], horizon=10)
    p = replace(
        _two_vehicles(2),
        flow=flow,
        vehicle_node=np.asarray([0, 1], dtype=np.int64),
        vehicle_ready=np.zeros(2, dtype=np.int64),
    )
    legs = Legs(p)
    # the plan compared against: nobody out (least share 0), so the fair search finds a better share
    most = Schedule(p, legs).plan(method="greedy", status="feasible", bound=0, bound_kind="x", stats={})
    result = fair_plans(p, most, legs=legs)
    assert result.fair is most
    assert result.notes and "does not verify" in result.notes[0]
