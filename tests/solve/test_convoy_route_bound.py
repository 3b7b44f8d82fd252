"""The route bound (the vehicles' walks between gathering and reception points, aggregated or as a
flow over time): never below a proved optimum (CP-SAT's, itself checked against the textbook MIP and an
enumeration in test_convoy_exact) nor below any plan, and tighter than the time bound where the
deadline cuts a vehicle's last trip. Static drives leave out the roads closed throughout the window.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from convoy_cases import buses, convoy_problems
from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import Problem
from corridor.solve.convoy import solve_convoy
from corridor.solve.convoy.bounds import _route_bound, convoy_bounds
from corridor.solve.convoy.exact import solve_exact
from corridor.solve.convoy.legs import Legs
from factories import problem


def _near_and_far(horizon: int) -> ConvoyProblem:
    """One bus of 4 seats waiting at the reception point (node 1); 4 people 1 step away (node 0), 12
    people 4 steps away (node 2); boarding and unloading 1 step each."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 4), (2, 1, 5, 4)]
    flow = problem(3, arcs, sources=[(0, 4), (2, 12)], destinations=[1], horizon=horizon)
    return _one_bus(flow, depot=1)


def _one_bus(flow: Problem, depot: int) -> ConvoyProblem:
    return buses(flow, depots=[depot])


@pytest.mark.parametrize(("horizon", "optimum"), [(8, 4), (17, 8), (27, 12)])
def test_the_timed_route_bound_sees_the_deadline_cut(horizon: int, optimum: int) -> None:
    """The bus shuttles to the near point (4 steps a round trip), then to the far one (10 steps); the
    time bound lets it make part of a last trip, the timed walks do not."""
    p = _near_and_far(horizon)
    legs = Legs(p)
    result = solve_exact(p, legs, time_limit=30.0, workers=2)
    assert result.status == "optimal"
    assert sum(t.people for t in result.schedule.trips) == optimum
    bounds = convoy_bounds(p, legs, flow=False, timed_route=True)
    assert bounds.route == optimum  # tight here
    assert bounds.time is not None and bounds.time > optimum
    assert bounds.best == (optimum, "route")
    aggregated = _route_bound(p, legs, None, timed=False)
    assert aggregated is not None and aggregated >= optimum


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems(vehicles=2, horizon=(4, 16)))
def test_the_route_bound_is_never_below_a_proved_optimum(p: ConvoyProblem) -> None:
    legs = Legs(p)
    bounds = convoy_bounds(p, legs, flow=False, timed_route=True)
    aggregated = _route_bound(p, legs, bounds.checkpoint, timed=False)
    coarse = _route_bound(p, legs, bounds.checkpoint, timed=True, columns=40)  # buckets of many steps
    result = solve_exact(p, legs, time_limit=20.0, workers=2)
    out = sum(t.people for t in result.schedule.trips)
    for bound in (bounds.route, aggregated, coarse):
        assert bound is None or out <= bound, (result.status, out, bound)
    plan = solve_convoy(p, method="search", time_limit=5.0, flow_bound=False)
    assert plan.verify(p) == []
    assert plan.evacuated <= plan.bound


def test_the_timed_route_programme_needs_at_least_one_column() -> None:
    p = _near_and_far(17)
    with pytest.raises(ValueError, match="route_columns must be at least 1"):
        convoy_bounds(p, Legs(p), flow=False, timed_route=True, route_columns=0)


def test_static_drives_leave_out_roads_closed_throughout() -> None:
    """Two roads from node 0 to node 1: the fast one (2 steps) closed from the start past the
    deadline, the slow one (5 steps) open; then the fast one closed for a while only."""
    arcs = [(0, 1, 5, 2), (0, 1, 5, 5), (1, 0, 5, 2)]
    shut = problem(2, arcs, sources=[(0, 4)], destinations=[1], horizon=20, arc_closed=[(0, 0, 10**9)])
    assert Legs(_one_bus(shut, depot=0)).static_steps(0, 0, 1) == 5
    p = _one_bus(shut, depot=0)
    drive = Legs(p).drive(0, 0, 1, 3)
    assert drive is not None and drive.arrival == 8
    for_a_while = problem(2, arcs, sources=[(0, 4)], destinations=[1], horizon=20, arc_closed=[(0, 0, 10)])
    legs = Legs(_one_bus(for_a_while, depot=0))
    assert legs.static_steps(0, 0, 1) == 2  # open before the deadline: still a lower bound
    later = legs.drive(0, 0, 1, 10)
    assert later is not None and later.arrival == 12
