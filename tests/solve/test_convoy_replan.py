"""Re-planning the East Aleppo convoy from the live state: the new plan verifies against the problem of
the new state, keeps the trips under way that still verify, re-times the others from where the
vehicle is, respects a new closure and an earlier deadline, and explains the difference."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from convoy_cases import example
from corridor.core.errors import SolverError
from corridor.network.build import load_network
from corridor.network.model import Network
from corridor.plan.convoy import ConvoyPlan, Drive, Trip
from corridor.problem.convoy import LiveState, VehicleState, compile_convoy
from corridor.scenario.model import Closure, Scenario
from corridor.solve.convoy import solve_convoy
from corridor.solve.convoy.replan import replan


@pytest.fixture(scope="module")
def setting() -> tuple[Scenario, Network, ConvoyPlan]:
    scenario, problem = example()
    plan = solve_convoy(problem, method="greedy", flow_bound=False)
    return scenario, load_network(scenario.network, scenario.base_dir), plan


def _closed(scenario: Scenario, now: int, hours: float, arc: tuple[str, str]) -> Scenario:
    when = scenario.start + timedelta(minutes=now * 1.0)
    closure = Closure(id="new", arc=arc, start=when, end=when + timedelta(hours=hours), reason="test")
    return scenario.model_copy(update={"closures": (*scenario.closures, closure)})


def _uses(drive: Drive, u: str, v: str, begin: int, end: int) -> bool:
    """Whether ``drive`` takes road u-v (either way) at a step in [begin, end)."""
    for k, dep in enumerate(drive.departures):
        pair = {drive.nodes[k], drive.nodes[k + 1]}
        if pair == {u, v} and begin <= dep < end:
            return True
    return False


@pytest.mark.parametrize("now", [60, 300, 500])
def test_a_closure_replan_verifies_keeps_the_trips_under_way_and_avoids_the_road(
    setting: tuple[Scenario, Network, ConvoyPlan], now: int
) -> None:
    scenario, network, plan = setting
    changed = _closed(scenario, now, 2.0, ("j-mashhad-south", "amiriyah"))
    result = replan(plan, changed, network, now)
    assert result.plan.verify(result.problem) == []
    under_way = [t for t in plan.trips if t.approach.start < now < t.arrival]
    kept = {t.vehicle: t for t in result.kept}
    for t in under_way:
        assert (t.vehicle in kept) != (t.vehicle in result.retimed)
        if t.vehicle in kept:
            first = result.plan.trips_of(t.vehicle)[0]
            assert (first.approach, first.haul, first.load) == (t.approach, t.haul, t.load)
    for t in result.plan.trips:
        if t.vehicle in kept and t.number == 1:
            continue
        assert t.approach.start >= now or t.vehicle in result.retimed
        for drive in (t.approach, t.haul):
            assert not _uses(drive, "j-mashhad-south", "amiriyah", now, now + 120)
    done = [t for t in plan.trips if t.arrival <= now]
    assert len(result.done) == len(done)
    assert result.out_total == sum(t.people for t in done) + result.plan.evacuated


def test_a_kept_trip_that_no_longer_verifies_is_retimed_from_where_the_vehicle_is(
    setting: tuple[Scenario, Network, ConvoyPlan],
) -> None:
    scenario, network, plan = setting
    now = 300
    # the crossing closes now for two hours: the hauls under way that have not passed it are held
    changed = _closed(scenario, now, 2.0, ("amiriyah", "amiriyah-crossing"))
    result = replan(plan, changed, network, now)
    assert result.retimed
    assert result.plan.verify(result.problem) == []
    for vid in result.retimed:
        old = next(t for t in plan.trips_of(vid) if t.approach.start < now < t.arrival)
        first = result.plan.trips_of(vid)[0] if result.plan.trips_of(vid) else None
        if first is not None:
            assert first.approach.start >= now
            assert first.approach.nodes[0] in old.approach.nodes + old.haul.nodes


def test_an_earlier_deadline_ends_every_trip_in_time(setting: tuple[Scenario, Network, ConvoyPlan]) -> None:
    scenario, network, plan = setting
    earlier = scenario.model_copy(update={"deadline": scenario.deadline - timedelta(hours=4)})
    result = replan(plan, earlier, network, 200)
    assert result.problem.horizon == plan.horizon - 240
    assert all(t.arrival <= result.problem.horizon for t in result.plan.trips)
    assert result.plan.verify(result.problem) == []
    dropped = [c for c in result.changes if c.kind == "dropped"]
    assert dropped  # the last trips of the old plan no longer fit
    left = sum(lb.people for lb in result.left_behind)
    assert left == result.problem.people - result.plan.evacuated
    assert {lb.reason for lb in result.left_behind} <= {"deadline", "closure", "checkpoint", "fleet"}


def test_nothing_changed_replays_the_same_trips(setting: tuple[Scenario, Network, ConvoyPlan]) -> None:
    scenario, network, plan = setting
    result = replan(plan, scenario, network, 100)
    assert result.plan.verify(result.problem) == []
    assert result.out_total >= plan.evacuated
    assert not result.retimed


def test_live_facts_are_used(setting: tuple[Scenario, Network, ConvoyPlan]) -> None:
    scenario, network, plan = setting
    # nobody is out yet and one bus waits at al-Mashhad with 30 people of al-Mashhad on board
    live = LiveState(
        vehicles=(VehicleState("bus-05", "mashhad", 10, (("general-mashhad", 30),)),),
        left=(("general-mashhad", 30),),
    )
    result = replan(plan, scenario, network, 10, live=live)
    assert result.plan.verify(result.problem) == []
    first = result.plan.trips_of("bus-05")[0]
    assert first.load == (("general-mashhad", 30),) and first.gathering == "mashhad"


def test_a_plan_of_another_time_axis_is_refused(setting: tuple[Scenario, Network, ConvoyPlan]) -> None:
    scenario, network, plan = setting
    other = scenario.model_copy(update={"start": scenario.start + timedelta(hours=1)})
    with pytest.raises(SolverError, match="time axis"):
        replan(plan, other, network, 10)


def _received(trips: tuple[Trip, ...] | list[Trip]) -> Counter[str]:
    got: Counter[str] = Counter()
    for t in trips:
        got[t.reception] += t.people
    return got


def test_a_reception_point_closed_drops_the_kept_trips_bound_there(
    setting: tuple[Scenario, Network, ConvoyPlan],
) -> None:
    scenario, network, plan = setting
    now = 10
    first, second = scenario.destinations
    closed = scenario.model_copy(update={"destinations": (first.model_copy(update={"capacity": 0}), second)})
    under_way = [t for t in plan.trips if t.approach.start < now < t.arrival and t.reception == first.id]
    assert under_way  # trips to the closed point are on the road: each alone verifies, their total not
    result = replan(plan, closed, network, now)
    assert result.plan.verify(result.problem) == []
    assert _received(result.plan.trips)[first.id] == 0
    assert {t.vehicle for t in under_way} <= set(result.retimed)


def test_live_facts_that_contradict_the_trips_under_way_still_give_a_plan_that_verifies(
    setting: tuple[Scenario, Network, ConvoyPlan],
) -> None:
    scenario, network, plan = setting
    # the wounded of al-Mashhad all left by other means: the ambulances under way carry none of them
    result = replan(plan, scenario, network, 10, live=LiveState(left=(("wounded-mashhad", 120),)))
    assert result.plan.verify(result.problem) == []
    assert all(sid != "wounded-mashhad" for t in result.kept for sid, _ in t.load)


def test_people_received_before_the_replan_count_against_the_reception_capacities(
    setting: tuple[Scenario, Network, ConvoyPlan],
) -> None:
    scenario, network, _ = setting
    first, second = scenario.destinations
    small = scenario.model_copy(
        update={
            "destinations": (
                first.model_copy(update={"capacity": 1500}),
                second.model_copy(update={"capacity": 1500}),
            )
        }
    )
    base, _ = compile_convoy(small, network)
    assert base is not None
    plan = solve_convoy(base, method="greedy", flow_bound=False)
    now = 500
    result = replan(plan, small, network, now)
    assert result.plan.verify(result.problem) == []
    total = _received(result.done) + _received(result.plan.trips)
    assert total[first.id] <= 1500 and total[second.id] <= 1500
    done = _received(result.done)
    caps = dict(zip(result.problem.flow.dest_ids, result.problem.flow.dest_cap.tolist(), strict=True))
    assert caps == {first.id: 1500 - done[first.id], second.id: 1500 - done[second.id]}


def test_a_smaller_fleet_still_counts_the_trips_its_removed_vehicles_made(
    setting: tuple[Scenario, Network, ConvoyPlan],
) -> None:
    scenario, network, plan = setting
    now = 300
    bus, ambulance = scenario.fleet
    gone = f"{bus.id}-{bus.count:02d}"
    made = sum(t.people for t in plan.trips if t.vehicle == gone and t.arrival <= now)
    assert made > 0
    fewer = scenario.model_copy(
        update={"fleet": (bus.model_copy(update={"count": bus.count - 1}), ambulance)}
    )
    result = replan(plan, fewer, network, now)
    assert gone not in result.problem.vehicle_ids
    assert result.plan.verify(result.problem) == []
    assert result.problem.out_already == sum(t.people for t in plan.trips if t.arrival <= now)
    assert any(t.vehicle == gone for t in result.done)
