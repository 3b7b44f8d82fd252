"""The timed route programme with drive times by departure (closures that last part of the window):
its tables are never later than the trips a schedule makes, its bound never below the enumeration of
every plan nor a proved optimum, and a closure shorter than the window tightens it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoy_cases import brute_force, buses, convoy_problems
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import _checkpoint_bound, _route_bound
from corridor.solve.convoy.drive_tables import DriveTables
from corridor.solve.convoy.exact import solve_exact
from corridor.solve.convoy.legs import NEVER, Legs
from corridor.solve.convoy.route_start import route_start
from corridor.solve.convoy.schedule import Intent, Schedule
from factories import problem


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems(vehicles=2, horizon=(4, 20)), st.data())
def test_the_tables_are_never_later_than_a_schedules_trips(p: ConvoyProblem, data: st.DataObject) -> None:
    """Trips made one after another by a schedule (random vehicles, gathering and reception points,
    inspections queueing): each approach and haul arrives no earlier than the tables say for its
    departure, and a vehicle is free no earlier than the haul table's leaving step plus unloading."""
    legs = Legs(p)
    tables = DriveTables(p, legs, p.horizon + 5)
    schedule = Schedule(p, legs)
    gathering = sorted({int(g) for g in p.flow.source_node.tolist()})
    for _ in range(8):
        v = data.draw(st.integers(0, p.n_vehicles - 1))
        g = data.draw(st.sampled_from(gathering))
        r = data.draw(st.integers(0, len(p.flow.dest_ids) - 1))
        kind = int(p.vehicle_type[v])
        origin, free = schedule.free_node[v], schedule.free_at[v]
        timed = schedule.trip(Intent(v, g, r))
        if timed is None:
            continue
        trip = timed.trip
        assert tables.drive(kind, origin, g)[free] <= trip.approach.arrival
        dest = int(p.flow.dest_node[r])
        arrive, leave = tables.haul(kind, g, dest, int(p.unload_steps[kind]))
        assert arrive[trip.board_end] <= trip.haul.arrival <= p.horizon
        assert leave[trip.board_end] + int(p.unload_steps[kind]) <= trip.unload_end
        schedule.commit(timed)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems(vehicles=2, horizon=(4, 12)))
def test_the_timed_bound_is_never_below_the_enumeration_nor_a_proved_optimum(p: ConvoyProblem) -> None:
    legs = Legs(p)
    best = -sum(brute_force(p, legs)[:-2])  # people out of the best plan of every sequence of trips
    checkpoint = _checkpoint_bound(p, legs)
    result = solve_exact(p, legs, time_limit=20.0, workers=2)
    out = sum(t.people for t in result.schedule.trips)
    for columns in (40, 100_000):  # buckets of many steps, and of one
        bound = _route_bound(p, legs, checkpoint, timed=True, columns=columns)
        assert bound is None or max(best, out) <= bound, (columns, best, out, result.status, bound)
    found = route_start(p, legs)
    if found is not None:
        assert sum(t.people for t in found[0].trips) <= found[1]


def _far(closed: list[tuple[int, int, int]]) -> ConvoyProblem:
    """One bus of 4 seats at the reception point (node 1), 12 people 4 steps away (node 2), 19 steps;
    road 1 (2 -> 1) closed over ``closed``'s windows."""
    arcs = [(1, 2, 5, 4), (2, 1, 5, 4)]
    flow = problem(3, arcs, sources=[(2, 12)], destinations=[1], horizon=19, arc_closed=closed)
    return buses(flow, depots=[1])


def test_a_closure_shorter_than_the_window_tightens_the_timed_bound() -> None:
    """Open, the bus makes two trips (hauls arriving at 9 and 19): 8 people. With the way back closed
    over steps 5-7, its first haul waits until 8 and arrives at 12; the second would arrive at 22,
    after the deadline: 4 people, proved by the exact method and the enumeration; the static drives
    (which leave out a closure that does not last the whole window) would allow 8."""
    for closed, optimum in (([], 8), ([(1, 5, 8)], 4)):
        p = _far(closed)
        legs = Legs(p)
        result = solve_exact(p, legs, time_limit=20.0, workers=2)
        assert result.status == "optimal"
        assert sum(t.people for t in result.schedule.trips) == optimum
        assert -sum(brute_force(p, legs)[:-2]) == optimum
        assert _route_bound(p, legs, None, timed=True) == optimum
        assert legs.static_haul_steps(0, 2, 1) == 4  # what the programme counted before
        found = route_start(p, legs)
        assert found is not None and sum(t.people for t in found[0].trips) == optimum


def test_a_haul_that_cannot_arrive_by_the_deadline_has_no_trip() -> None:
    """The way back closed from step 2 past the deadline: no haul arrives in time, the tables say so
    from then on, and the timed programme brings nobody out."""
    p = _far([(1, 2, 10**6)])
    legs = Legs(p)
    tables = DriveTables(p, legs, p.horizon)
    arrive, leave = tables.haul(0, 2, 1, 1)
    assert arrive[0] == 4 and arrive[1] == 5  # left before the closure
    assert (arrive[2:] == NEVER).all() and (leave[2:] == NEVER).all()
    assert _route_bound(p, legs, None, timed=True) == 0


def _inspected_on_arrival(horizon: int) -> ConvoyProblem:
    """A bus of 4 seats at node 0 with 8 people; the reception point (node 1, 2 steps away) is a
    checkpoint inspecting each vehicle for 5 steps; boarding and unloading 1 step each."""
    arcs = [(0, 1, 5, 2), (1, 0, 5, 2)]
    flow = problem(2, arcs, sources=[(0, 8)], destinations=[1], horizon=horizon, node_cap={1: 5})
    return replace(
        buses(flow, depots=[0]),
        checkpoint_inspection=np.asarray([5], dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(1),
        checkpoint_people_rate=np.zeros(1),
    )


def test_an_inspection_on_arrival_counts_the_arrival_and_holds_the_vehicle() -> None:
    """The haul boarded by step 1 arrives at 3 and is inspected over 3-8: it counts by a deadline of 3,
    and the bus is free only at 8 (not at 4, when its unloading ends), too late for a second haul by
    12 (it would arrive at 13) but not by 15."""
    for horizon, optimum in ((3, 4), (12, 4), (15, 8)):
        p = _inspected_on_arrival(horizon)
        legs = Legs(p)
        arrive, leave = DriveTables(p, legs, horizon).haul(0, 0, 1, 1)
        assert (arrive[1], leave[1] + 1) == (3, 8)
        assert -sum(brute_force(p, legs)[:-2]) == optimum
        assert _route_bound(p, legs, _checkpoint_bound(p, legs), timed=True) == optimum
