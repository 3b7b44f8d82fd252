"""The convoy search: its plans verify (random problems with closures, checkpoints and holds, and the
East Aleppo example), it is never worse than greedy, it is seeded, and on one-vehicle instances it
never beats the enumeration of every sequence of trip decisions (an independent answer)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from convoy_cases import brute_force, convoy_problems, example
from corridor.plan.convoy_verify import verify_convoy
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import CONVOY_METHODS, solve_convoy
from corridor.solve.convoy.bounds import convoy_bounds
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Chooser, Load, Schedule, greedy, objective_key
from corridor.solve.convoy.search import SearchSettings, search

QUICK = SearchSettings(seed=3, iterations=40, stall=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems())
def test_search_plans_verify_and_never_lose_to_greedy(problem: ConvoyProblem) -> None:
    legs = Legs(problem)
    first = greedy(problem, legs)
    result = search(problem, legs, time_limit=60.0, settings=QUICK)
    for schedule in (first, result.schedule):
        plan = schedule.plan(
            method="t", status="feasible", bound=problem.people, bound_kind="people", stats={}
        )
        assert verify_convoy(plan, problem) == []
    assert objective_key(problem, result.schedule.trips) <= objective_key(problem, first.trips)
    # no plan beats the bounds (fleet: inspections in the checkpoints' open time; time: the LP)
    bounds = convoy_bounds(problem, Legs(problem), flow=False)
    out = sum(t.people for t in result.schedule.trips)
    assert out <= bounds.fleet
    assert bounds.time is None or out <= bounds.time


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems(vehicles=1, horizon=(4, 12)))
def test_one_vehicle_search_is_no_better_than_every_sequence_of_decisions(problem: ConvoyProblem) -> None:
    legs = Legs(problem)
    best = brute_force(problem, legs)
    found = objective_key(problem, search(problem, legs, time_limit=60.0, settings=QUICK).schedule.trips)
    assert best <= found  # the enumeration covers every plan the search can make
    assert found <= objective_key(problem, greedy(problem, legs).trips)


def test_the_search_is_seeded() -> None:
    _, problem = example()
    legs = Legs(problem)
    budget = SearchSettings(seed=7, iterations=15, stall=15)
    a = search(problem, legs, time_limit=600.0, settings=budget).schedule.trips
    b = search(problem, Legs(problem), time_limit=600.0, settings=budget).schedule.trips
    assert a == b


def test_the_example_plan_verifies_and_beats_greedy() -> None:
    _, problem = example()
    seen: list[tuple[int, int]] = []
    plan = solve_convoy(
        problem, method="search", time_limit=20.0, flow_bound=False, progress=lambda t, n: seen.append((t, n))
    )
    assert plan.verify(problem) == []
    first = solve_convoy(problem, method="greedy", flow_bound=False)
    assert objective_key(problem, plan.trips) <= objective_key(problem, first.trips)
    assert seen and seen[-1][1] <= plan.evacuated
    assert plan.evacuated <= plan.bound
    assert "search" in CONVOY_METHODS


def _fresh_fill(schedule: Schedule, vehicle: int, node: int) -> Load:
    """``fill`` by a schedule with no cache, the same people waiting and the same room."""
    fresh = Schedule(schedule.problem, schedule.legs)
    fresh.waiting[:] = list(schedule.waiting)
    fresh.room[:] = schedule.room
    fresh.pending = schedule.pending
    return fresh.fill(vehicle, node, -1)


def test_loads_follow_every_change_of_the_people_waiting() -> None:
    """The loads cached per gathering point follow trips booked and direct writes to ``waiting`` (as the
    fair plan's quotas make), and a load is never made of people who are not waiting."""
    _, problem = example()
    legs = Legs(problem)
    schedule = Schedule(problem, legs)
    nodes = [int(g) for g in problem.gathering_nodes.tolist()]
    vehicles = range(problem.n_vehicles)
    before = {(v, g): schedule.fill(v, g, -1) for v in vehicles for g in nodes}
    chooser = Chooser(problem)
    for _ in range(5):
        timed = chooser.best(schedule, 0)
        assert timed is not None
        schedule.commit(timed)
    for s in range(len(schedule.waiting)):
        schedule.waiting[s] = min(schedule.waiting[s], 3 + s % 2)
    for v in vehicles:
        loads = schedule.full_loads(v, nodes)
        assert loads == [_fresh_fill(schedule, v, g) for g in nodes]
        for load in loads:
            assert all(0 < n <= schedule.waiting[s] for s, n in load)
    assert any(schedule.fill(v, g, -1) != before[(v, g)] for v in vehicles for g in nodes)
    # nobody waiting anywhere: no load at all, however many were cached before
    for s in range(len(schedule.waiting)):
        schedule.waiting[s] = 0
    assert all(load == () for v in vehicles for load in schedule.full_loads(v, nodes))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems())
def test_no_trip_arrives_sooner_than_the_choosers_least_steps(problem: ConvoyProblem) -> None:
    """The chooser gives up on a vehicle whose least steps to any arrival pass the deadline: every trip
    a plan makes takes at least those steps from where and when its vehicle set off."""
    legs = Legs(problem)
    chooser = Chooser(problem)
    schedule = greedy(problem, legs)
    index = problem.network.index
    for timed in schedule.timed:
        if timed.trip.number == 1 and problem.vehicle_on_board[timed.vehicle]:
            continue  # people on board from the start: no boarding
        kind = int(problem.vehicle_type[timed.vehicle])
        start = index[timed.trip.approach.nodes[0]]
        soonest = chooser._soonest(legs, kind, start)
        assert timed.trip.arrival >= timed.trip.approach.start + soonest
