"""The start plan from the timed route programme's walks: its plans verify, never carry more than the
programme's bound, and on a bus whose last trip the deadline cuts it makes the optimal walk."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from convoy_cases import buses, convoy_problems
from corridor.plan.convoy_verify import verify_convoy
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.route_start import route_start, route_walks
from corridor.solve.convoy.schedule import Intent, Schedule
from factories import problem


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems(vehicles=3, horizon=(4, 24)))
def test_route_start_plans_verify_and_stay_within_the_bound(p: ConvoyProblem) -> None:
    legs = Legs(p)
    found = route_start(p, legs, columns=100_000)
    if found is None:
        return
    schedule, bound = found
    plan = schedule.plan(method="t", status="feasible", bound=bound, bound_kind="route", stats={})
    assert verify_convoy(plan, p) == []
    assert plan.evacuated <= bound
    walks = route_walks(p, legs, columns=100_000)
    assert walks is not None and set(walks.walks) <= set(range(p.n_vehicles))


def test_route_start_makes_the_walk_that_fits_the_deadline() -> None:
    """One bus of 4 seats at the reception point (node 1), 4 people 1 step away and 12 people 4 steps
    away, 17 steps: the near point first, then the far one, 8 people, the bound's 8."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 4), (2, 1, 5, 4)]
    flow = problem(3, arcs, sources=[(0, 4), (2, 12)], destinations=[1], horizon=17)
    p = buses(flow, depots=[1])
    found = route_start(p, Legs(p))
    assert found is not None
    schedule, bound = found
    assert bound == 8
    assert sum(t.people for t in schedule.trips) == 8


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems(vehicles=3, horizon=(4, 24)))
def test_the_walks_are_drivable_when_the_programme_times_them(p: ConvoyProblem) -> None:
    """With buckets of one step and no checkpoint (no queue), each vehicle's walk trips, made in the
    order of their buckets, board no later than the programme's bucket, up to the first one that
    cannot be made (its people taken by another walk's trip, or no room left)."""
    if len(p.flow.checkpoint_node):
        return
    legs = Legs(p)
    found = route_walks(p, legs, columns=10**6)
    if found is None:
        return
    assert found.steps == 1
    schedule = Schedule(p, legs)
    gathering = [int(g) for g in p.gathering_nodes.tolist()]
    broken: set[int] = set()
    order = sorted((bucket, v, k) for v, walk in found.walks.items() for k, (_, _, bucket) in enumerate(walk))
    for bucket, v, k in order:
        g, r, _ = found.walks[v][k]
        timed = schedule.trip(Intent(v, gathering[g], r))
        if timed is None:
            broken.add(v)
            continue
        if v not in broken:
            assert timed.trip.board_start <= bucket, (v, k, timed.trip.board_start, bucket)
        schedule.commit(timed)
