"""Parallel roads: the convoy verifier times a drive against the roads it may have taken.

Two roads join the same two nodes, a fast one closed for a while and a slow one always open. A trip
timed on the fast road while it is closed is refused (faster than any open road); timed on the slow
road it is accepted, and so is a later arrival (the vehicle waits); once the fast road is open, its
time is accepted too.
"""

from __future__ import annotations

from dataclasses import replace

from convoy_cases import buses
from corridor.plan.convoy import ConvoyPlan, Drive, Trip
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import solve_convoy
from factories import problem

FAST, SLOW = 2, 5  # steps of the two roads from node 1 to node 2


def _problem(fast_closed_until: int) -> ConvoyProblem:
    """Node 0 (depot and gathering point, 3 people) - node 1 - node 2 (reception point); from 1 to 2
    a fast road (arc 2), closed over ``[0, fast_closed_until)``, and a slow one (arc 3)."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, FAST), (1, 2, 5, SLOW), (2, 1, 5, 2)]
    closed = [(2, 0, fast_closed_until)] if fast_closed_until > 0 else []
    flow = problem(3, arcs, sources=[(0, 3)], destinations=[2], horizon=30, arc_closed=closed)
    return buses(flow)


def _retimed(plan: ConvoyPlan, last_hop: int) -> ConvoyPlan:
    """``plan`` with its one trip's last road taking ``last_hop`` steps (unloading moved along)."""
    (trip,) = plan.trips
    leave = trip.haul.departures[-1]
    haul = Drive(trip.haul.nodes, trip.haul.departures, leave + last_hop)
    new: Trip = replace(trip, haul=haul, unload_end=haul.arrival + 1)
    return replace(plan, trips=(new,))


def test_the_planner_drives_the_slow_road_while_the_fast_one_is_closed() -> None:
    closed = _problem(fast_closed_until=20)
    plan = solve_convoy(closed, method="greedy", flow_bound=False)
    (trip,) = plan.trips
    assert trip.haul.nodes == ("0", "1", "2")
    assert trip.haul.arrival - trip.haul.departures[-1] == SLOW
    assert plan.verify(closed) == []


def test_a_drive_timed_on_a_closed_faster_parallel_road_is_refused() -> None:
    closed = _problem(fast_closed_until=20)
    plan = solve_convoy(closed, method="greedy", flow_bound=False)
    fast = _retimed(plan, FAST)
    violations = fast.verify(closed)
    assert any(
        "bus-1 trip 1 haul: arrival" in v and "faster than the fastest open road from 1 to 2" in v
        for v in violations
    ), violations
    # one step faster than the slow road is refused as well
    assert any("faster than the fastest open road" in v for v in _retimed(plan, SLOW - 1).verify(closed))


def test_a_slower_drive_is_waiting_and_accepted() -> None:
    closed = _problem(fast_closed_until=20)
    plan = solve_convoy(closed, method="greedy", flow_bound=False)
    assert _retimed(plan, SLOW + 3).verify(closed) == []


def test_an_open_fast_road_gives_its_time() -> None:
    open_ = _problem(fast_closed_until=0)
    plan = solve_convoy(open_, method="greedy", flow_bound=False)
    (trip,) = plan.trips
    assert trip.haul.arrival - trip.haul.departures[-1] == FAST
    assert plan.verify(open_) == []
    assert _retimed(plan, SLOW).verify(open_) == []  # the slow road, also open
    assert any("faster than the fastest open road" in v for v in _retimed(plan, FAST - 1).verify(open_))
