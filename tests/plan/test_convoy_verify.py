"""The convoy verifier refuses every kind of bad plan, and accepts the plans the planner makes.

Bad plans are made from a verified plan of the East Aleppo example by one change each; every test
names the rule it breaks and checks that the verifier says so (not only that it says something).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan, Drive, Inspection, Trip
from corridor.problem.convoy import ConvoyProblem, LiveState, VehicleState, compile_convoy
from corridor.scenario import load_scenario
from corridor.scenario.model import Closure, Scenario
from corridor.solve.convoy import solve_convoy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


def _problem(scenario: Scenario, state: LiveState | None = None) -> ConvoyProblem:
    problem, findings = compile_convoy(
        scenario, load_network(scenario.network, scenario.base_dir), state=state
    )
    assert problem is not None, [f.render() for f in findings]
    return problem


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(EXAMPLE)


@pytest.fixture(scope="module")
def problem(scenario: Scenario) -> ConvoyProblem:
    return _problem(scenario)


@pytest.fixture(scope="module")
def plan(problem: ConvoyProblem) -> ConvoyPlan:
    plan = solve_convoy(problem, method="greedy", flow_bound=False)
    assert plan.trips
    return plan


def _with_trip(plan: ConvoyPlan, old: Trip, new: Trip) -> ConvoyPlan:
    trips = tuple(new if t is old else t for t in plan.trips)
    delta = new.people - old.people
    return replace(plan, trips=trips, evacuated=plan.evacuated + delta, bound=plan.bound + max(0, delta))


def _regroup(plan: ConvoyPlan, problem: ConvoyProblem) -> ConvoyPlan:
    """``plan`` with its totals recounted from its trips (so that only the changed rule breaks)."""
    flow = problem.flow
    group_of = {
        s: flow.group_names[int(g)] for s, g in zip(flow.source_ids, flow.source_group.tolist(), strict=True)
    }
    by_group: dict[str, int] = {}
    for t in plan.trips:
        for sid, n in t.load:
            by_group[group_of[sid]] = by_group.get(group_of[sid], 0) + n
    evacuated = sum(t.people for t in plan.trips)
    return replace(
        plan,
        evacuated=evacuated,
        bound=max(plan.bound, evacuated),
        by_group=tuple((g, n) for g, n in by_group.items() if n),
    )


def _first(plan: ConvoyPlan, vehicle: str, number: int = 1) -> Trip:
    return next(t for t in plan.trips if t.vehicle == vehicle and t.number == number)


def _refused(plan: ConvoyPlan, problem: ConvoyProblem, *words: str) -> list[str]:
    violations = plan.verify(problem)
    assert violations, "the verifier accepted a bad plan"
    text = "\n".join(violations)
    for word in words:
        assert word in text, f"{word!r} not in:\n{text}"
    return violations


def _shift(drive: Drive, by: int) -> Drive:
    return Drive(drive.nodes, tuple(d + by for d in drive.departures), drive.arrival + by)


def _shift_trip(trip: Trip, by: int) -> Trip:
    return replace(
        trip,
        approach=_shift(trip.approach, by),
        board_start=trip.board_start + by,
        board_end=trip.board_end + by,
        haul=_shift(trip.haul, by),
        inspections=tuple(Inspection(i.checkpoint, i.start + by, i.end + by) for i in trip.inspections),
        unload_end=trip.unload_end + by,
    )


# -- accepted --------------------------------------------------------------------------------------


def test_the_planners_plan_verifies(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    assert plan.verify(problem) == []
    assert plan.evacuated == sum(t.people for t in plan.trips) <= plan.bound


def test_a_plan_read_back_from_json_verifies_and_keeps_its_hash(
    plan: ConvoyPlan, problem: ConvoyProblem
) -> None:
    again = ConvoyPlan.from_dict(plan.to_dict())
    assert again.verify(problem) == []
    assert again.content_hash() == plan.content_hash()


def test_an_empty_plan_is_feasible(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    assert replace(plan, trips=(), evacuated=0, by_group=()).verify(problem) == []


def test_a_later_trip_of_the_same_vehicle_may_wait(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    """Leaving later than the earliest moment is allowed (if the road is open then)."""
    trip = _first(plan, "bus-01", len(plan.trips_of("bus-01")))
    later = _shift_trip(trip, 1)
    violations = _with_trip(plan, trip, later).verify(problem)
    # one step later may collide with another inspection, never with anything else
    assert all("inspected from step" in v for v in violations), violations


# -- vehicles ----------------------------------------------------------------------------------------


def test_a_vehicle_in_two_places_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    second = _first(plan, "bus-01", 2)
    elsewhere = replace(
        second, approach=replace(second.approach, nodes=("khan-al-assal", *second.approach.nodes[1:]))
    )
    _refused(_with_trip(plan, second, elsewhere), problem, "not where the vehicle is")


def test_a_trip_starting_before_the_last_one_ended_is_refused(
    plan: ConvoyPlan, problem: ConvoyProblem
) -> None:
    first, second = _first(plan, "bus-01", 1), _first(plan, "bus-01", 2)
    early = _shift_trip(second, first.unload_end - second.approach.departures[0] - 1)
    _refused(_with_trip(plan, second, early), problem, "before it is there")


def test_an_unknown_vehicle_and_gaps_in_trip_numbers_are_refused(
    plan: ConvoyPlan, problem: ConvoyProblem
) -> None:
    trip = _first(plan, "bus-01", 2)
    _refused(_with_trip(plan, trip, replace(trip, vehicle="bus-99")), problem, "no such vehicle")
    _refused(_with_trip(plan, trip, replace(trip, number=3)), problem, "not 1..")


# -- places ------------------------------------------------------------------------------------------


def test_too_many_seated_people_are_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    (sid, n), *rest = trip.load
    bad = _regroup(_with_trip(plan, trip, replace(trip, load=((sid, n + 1), *rest))), problem)
    _refused(bad, problem, "seated people > 50 seats")


def test_the_wounded_need_stretcher_places(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    amb = next(t for t in plan.trips if t.vehicle.startswith("ambulance"))
    (sid, n), *rest = amb.load
    bad = _regroup(_with_trip(plan, amb, replace(amb, load=((sid, n + 1), *rest))), problem)
    _refused(bad, problem, "stretchers > 2 stretcher places")
    bus = _first(plan, "bus-01")
    on_bus = replace(bus, gathering=amb.gathering, load=((sid, 1),))
    _refused(_regroup(_with_trip(plan, bus, on_bus), problem), problem, "stretchers > 0 stretcher places")


def test_seated_people_in_an_ambulance_are_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    amb = next(t for t in plan.trips if t.vehicle.startswith("ambulance"))
    general = next(s for s in problem.flow.source_ids if s == f"general-{amb.gathering}")
    bad = _regroup(_with_trip(plan, amb, replace(amb, load=((general, 1),))), problem)
    _refused(bad, problem, "seated people > 0 seats")


def test_boarding_people_who_wait_elsewhere_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    other = next(
        s for s in problem.flow.source_ids if s.startswith("general") and not s.endswith(trip.gathering)
    )
    bad = _regroup(_with_trip(plan, trip, replace(trip, load=((other, 10),))), problem)
    _refused(bad, problem, "who wait elsewhere")


def test_more_people_than_wait_at_a_source_are_refused(scenario: Scenario, plan: ConvoyPlan) -> None:
    """The live state says all but 10 have left al-Amiriyah: the plan's trips from there board more."""
    people = next(s.people for s in scenario.sources if s.id == "general-amiriyah")
    assert sum(n for t in plan.trips for s, n in t.load if s == "general-amiriyah") > 10
    live = _problem(scenario, LiveState(left=(("general-amiriyah", people - 10),)))
    _refused(replace(plan, evacuees=live.people), live, "source general-amiriyah:", "but 10 wait there")


def test_a_trip_that_carries_nobody_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    _refused(_regroup(_with_trip(plan, trip, replace(trip, load=())), problem), problem, "carries nobody")
    sid = trip.load[0][0]
    _refused(
        _regroup(_with_trip(plan, trip, replace(trip, load=((sid, -5),))), problem), problem, "boards -5"
    )


def test_reception_capacity_is_kept(scenario: Scenario, plan: ConvoyPlan) -> None:
    small = scenario.model_copy(
        update={"destinations": tuple(d.model_copy(update={"capacity": 100}) for d in scenario.destinations)}
    )
    _refused(plan, _problem(small), "receives", "> capacity 100")


# -- roads and times ---------------------------------------------------------------------------------


def test_a_jump_between_nodes_with_no_road_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    nodes = trip.haul.nodes
    jump = Drive((nodes[0], nodes[-1]), (trip.haul.departures[0],), trip.haul.arrival)
    _refused(_with_trip(plan, trip, replace(trip, haul=jump, inspections=())), problem, "no road from")


def test_driving_faster_than_the_road_allows_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    fast = replace(trip.haul, arrival=trip.haul.arrival - 1)
    _refused(_with_trip(plan, trip, replace(trip, haul=fast)), problem, "but the roads give")
    deps = list(trip.haul.departures)
    deps[1] -= 1  # leaves the next node before reaching it
    _refused(
        _with_trip(plan, trip, replace(trip, haul=replace(trip.haul, departures=tuple(deps)))),
        problem,
        "before it is there",
    )


def test_nodes_and_departures_must_match(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    broken = replace(trip.haul, departures=trip.haul.departures[:-1])
    _refused(_with_trip(plan, trip, replace(trip, haul=broken)), problem, "departures")
    unknown = replace(trip.haul, nodes=(*trip.haul.nodes[:-1], "nowhere"))
    _refused(_with_trip(plan, trip, replace(trip, haul=unknown)), problem, "'nowhere' is not in the network")


def test_a_haul_must_end_at_its_reception_point(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    other = next(d for d in problem.flow.dest_ids if d != trip.reception)
    _refused(_with_trip(plan, trip, replace(trip, reception=other)), problem, f"not at {other}")
    _refused(_with_trip(plan, trip, replace(trip, reception="nowhere")), problem, "unknown reception point")


def test_arriving_after_the_deadline_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trips = plan.trips_of("bus-01")
    last = trips[-1]
    late = _shift_trip(last, problem.horizon - last.arrival + 1)
    _refused(_with_trip(plan, last, late), problem, "after the deadline")


def test_boarding_and_unloading_take_their_time(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    _refused(
        _with_trip(plan, trip, replace(trip, board_end=trip.board_start + 3)), problem, "boards in 3 steps"
    )
    _refused(
        _with_trip(plan, trip, replace(trip, unload_end=trip.haul.arrival + 1)), problem, "unloads in 1 steps"
    )
    early = replace(trip, board_start=trip.approach.arrival - 1)
    _refused(_with_trip(plan, trip, early), problem, "before arriving")


# -- closures ----------------------------------------------------------------------------------------


def test_a_road_used_while_closed_is_refused(scenario: Scenario, plan: ConvoyPlan) -> None:
    """Close the short road west for the whole window: every haul that takes it is refused."""
    closed = scenario.model_copy(
        update={
            "closures": (Closure(id="shelled", arc=("ramouseh-junction", "corridor-west-1"), reason="test"),)
        }
    )
    _refused(plan, _problem(closed), "road ramouseh-junction->corridor-west-1 used at step", "while closed")


def test_a_closed_node_is_neither_entered_nor_left(scenario: Scenario, plan: ConvoyPlan) -> None:
    closed = scenario.model_copy(update={"closures": (Closure(id="x", node="amiriyah-crossing"),)})
    _refused(plan, _problem(closed), "amiriyah-crossing", "while closed")


# -- checkpoints -------------------------------------------------------------------------------------


def test_a_missing_inspection_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    _refused(_with_trip(plan, trip, replace(trip, inspections=())), problem, "passes 1 checkpoints but has 0")


def test_a_short_inspection_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    (insp,) = trip.inspections
    short = Inspection(insp.checkpoint, insp.start, insp.start + 2)
    _refused(_with_trip(plan, trip, replace(trip, inspections=(short,))), problem, "takes 2 steps, needs 5")


def test_an_inspection_before_arriving_or_after_leaving_is_refused(
    plan: ConvoyPlan, problem: ConvoyProblem
) -> None:
    trip = _first(plan, "bus-01")
    (insp,) = trip.inspections
    early = Inspection(insp.checkpoint, insp.start - 20, insp.end - 20)
    _refused(_with_trip(plan, trip, replace(trip, inspections=(early,))), problem, "before arriving")
    late = Inspection(insp.checkpoint, insp.start + 5, insp.end + 5)
    _refused(
        _with_trip(plan, trip, replace(trip, inspections=(late,))), problem, "before its inspection ends"
    )
    wrong = Inspection("elsewhere", insp.start, insp.end)
    _refused(
        _with_trip(plan, trip, replace(trip, inspections=(wrong,))), problem, "inspection at 'elsewhere'"
    )


def test_two_vehicles_inspected_at_once_are_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    """Take a vehicle that queued behind another and start its inspection one step early."""
    by_start = sorted((t.inspections[0].start, t.inspections[0].end, t) for t in plan.trips if t.inspections)
    queued = [
        (a, b)
        for (_, a_end, a), (b_start, _, b) in itertools.pairwise(by_start)
        if b_start == a_end and b.haul.departures[b.haul.nodes.index("ramouseh-checkpoint") - 1] < b_start - 5
    ]
    assert queued, "the example's plan has vehicles queueing at the checkpoint"
    a, b = queued[0]
    (ib,) = b.inspections
    early = replace(b, inspections=(Inspection(ib.checkpoint, ib.start - 1, ib.end - 1),))
    violations = _refused(_with_trip(plan, b, early), problem, "checkpoint ramouseh:", f"while {a.vehicle}")
    assert len(violations) == 1, violations


def test_an_inspection_during_the_hold_is_refused(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    """The example holds the checkpoint 04:00-06:00 (steps 810-930)."""
    trip = _first(plan, "bus-01")
    (insp,) = trip.inspections
    by = 815 - insp.start
    held = _shift_trip(trip, by)
    violations = _refused(_with_trip(plan, trip, held), problem, "while it is closed")
    assert any("ramouseh-checkpoint" in v or "ramouseh" in v for v in violations)


# -- totals and the live state -----------------------------------------------------------------------


def test_totals_must_agree_with_the_trips(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    _refused(replace(plan, evacuated=plan.evacuated + 1), problem, "its trips carry")
    _refused(replace(plan, bound=plan.evacuated - 1), problem, "more than its bound")
    _refused(replace(plan, evacuees=plan.evacuees + 1), problem, "people to move")
    _refused(replace(plan, by_group=(("general", 1),)), problem, "by group")
    _refused(replace(plan, vehicles=plan.vehicles[:-1]), problem, "vehicles differ")
    _refused(replace(plan, horizon=plan.horizon + 1), problem, "differs from the problem")


def test_people_on_board_must_be_delivered(scenario: Scenario, plan: ConvoyPlan) -> None:
    state = LiveState(
        vehicles=(VehicleState("bus-01", "ramouseh-junction", 0, (("general-amiriyah", 30),)),),
        left=(("general-amiriyah", 30),),
    )
    live = _problem(scenario, state)
    violations = _refused(replace(plan, evacuees=live.people), live, "on board at the start")
    assert any("bus-01" in v for v in violations)


def test_a_plan_from_the_live_state_verifies(scenario: Scenario) -> None:
    """A vehicle already loaded near the checkpoint delivers first; the plan verifies."""
    state = LiveState(
        vehicles=(VehicleState("bus-01", "ramouseh-checkpoint", 5, (("general-amiriyah", 40),)),),
        left=(("general-amiriyah", 40),),
    )
    live = _problem(scenario, state)
    replanned = solve_convoy(live, method="greedy", flow_bound=False)
    assert replanned.verify(live) == []
    first = replanned.trips_of("bus-01")[0]
    assert first.load == (("general-amiriyah", 40),)
    assert first.gathering == "ramouseh-checkpoint"


# -- found in review ---------------------------------------------------------------------------------


def test_a_haul_through_two_checkpoints_is_refused(scenario: Scenario, plan: ConvoyPlan) -> None:
    """A haul passes one checkpoint at most: a second one on the road makes every haul through it wrong."""
    two = scenario.model_copy(
        update={
            "checkpoints": (
                *scenario.checkpoints,
                scenario.checkpoints[0].model_copy(update={"id": "crossing", "node": "amiriyah-crossing"}),
            )
        }
    )
    _refused(plan, _problem(two), "the haul passes 2 checkpoints (crossing, ramouseh)", "one at most")


def test_people_on_board_are_not_driven_before_their_haul(scenario: Scenario) -> None:
    """A loaded vehicle's drive is its haul (inspected at checkpoints), never an approach."""
    state = LiveState(
        vehicles=(VehicleState("bus-01", "ramouseh-junction", 0, (("general-amiriyah", 30),)),),
        left=(("general-amiriyah", 30),),
    )
    live = _problem(scenario, state)
    good = solve_convoy(live, method="greedy", flow_bound=False)
    assert good.verify(live) == []
    first = good.trips_of("bus-01")[0]
    # drive the loaded bus back into the enclave as an "approach", then haul from there
    sneaky = replace(
        first,
        gathering="amiriyah-crossing",
        approach=Drive(("ramouseh-junction", "ramouseh-checkpoint", "amiriyah-crossing"), (0, 8), 13),
        board_start=13,
        board_end=13,
    )
    _refused(_with_trip(good, first, sneaky), live, "drives with people on board before its haul")


def test_an_endless_inspection_is_answered_not_allocated(plan: ConvoyPlan, problem: ConvoyProblem) -> None:
    trip = _first(plan, "bus-01")
    (insp,) = trip.inspections
    endless = Inspection(insp.checkpoint, insp.start, 10**12)
    violations = _refused(
        _with_trip(plan, trip, replace(trip, inspections=(endless,))), problem, "before its inspection ends"
    )
    assert any(
        "while it is closed" in v for v in violations
    )  # it overlaps the hold, found without a step array


def test_numbers_out_of_range_in_a_plan_file_are_value_errors(plan: ConvoyPlan) -> None:
    data = plan.to_dict()
    data["horizon"] = float("1e400")
    with pytest.raises(ValueError, match="out of range"):
        ConvoyPlan.from_dict(data)


def test_reaching_the_bound_is_not_a_proof_of_optimality(scenario: Scenario) -> None:
    """Greedy that gets everyone out has the most people out, not the earliest completion: feasible."""
    few = scenario.model_copy(update={"sources": (scenario.sources[0].model_copy(update={"people": 20}),)})
    problem = _problem(few)
    greedy = solve_convoy(problem, method="greedy")
    assert greedy.verify(problem) == []
    assert greedy.evacuated == greedy.bound == 20
    assert greedy.status == "feasible"
