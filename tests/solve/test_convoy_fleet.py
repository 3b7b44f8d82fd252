"""Fleet sweeps: the scenario planned again with other fleets, every point a verified plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor.network.build import load_network
from corridor.network.model import Network
from corridor.scenario.load import load_scenario
from corridor.scenario.model import Scenario
from corridor.solve import solve
from corridor.solve.convoy.fleet import (
    FleetError,
    flow_bound_holds,
    plan_fleet,
    smallest_fleet,
    sweep_counts,
    sweep_seats,
    with_fleet,
)
from corridor.solve.pipeline import check_file

ALEPPO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


@pytest.fixture(scope="module")
def aleppo() -> tuple[Scenario, Network]:
    scenario = load_scenario(ALEPPO)
    return scenario, load_network(scenario.network, scenario.base_dir)


def test_with_fleet_changes_only_what_it_names(aleppo: tuple[Scenario, Network]) -> None:
    scenario, _ = aleppo
    changed = with_fleet(scenario, {"bus": 7}, {"ambulance": 1})
    assert [(p.id, p.count, p.seats, p.stretchers) for p in changed.fleet] == [
        ("bus", 7, 50, 0),
        ("ambulance", 13, 1, 2),
    ]
    assert [(p.id, p.count, p.seats) for p in scenario.fleet] == [("bus", 20, 50), ("ambulance", 13, 0)]
    with pytest.raises(FleetError, match="tram") as caught:
        with_fleet(scenario, {"tram": 3})
    assert "ambulance, bus" in caught.value.render()


def test_flow_bound_holds_only_for_vehicles_no_larger_than_the_occupancy(
    aleppo: tuple[Scenario, Network],
) -> None:
    scenario, _ = aleppo
    assert scenario.occupancy[scenario.mode] == 50
    assert flow_bound_holds(scenario)
    assert not flow_bound_holds(with_fleet(scenario, seats={"bus": 51}))
    assert flow_bound_holds(with_fleet(scenario, {"bus": 0}, {"bus": 99}))  # no such vehicle runs


def test_count_sweep_gives_verified_plans_and_the_flow_optimum(aleppo: tuple[Scenario, Network]) -> None:
    scenario, network = aleppo
    seen: list[tuple[int, int]] = []
    points = sweep_counts(
        scenario,
        network,
        "bus",
        [1, 2, 3],
        others={"ambulance": 2},
        progress=lambda k, n: seen.append((k, n)),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [p.count for p in points] == [1, 2, 3]
    assert [p.vehicles for p in points] == [3, 4, 5]
    checked = check_file(ALEPPO)
    assert checked.problem is not None
    flow_optimum = solve(checked.problem, quickest=False).evacuated  # the flow planner, proved optimal
    for p in points:
        assert p.verified and p.evacuated <= p.bound
        assert p.flow_bound == flow_optimum
        assert p.bound == min(p.fleet_bound, p.checkpoint_bound or p.fleet_bound, flow_optimum, 9000)
        assert sum(n for _, n in p.by_group) == p.evacuated
    fleet_bounds = [p.fleet_bound for p in points]
    assert fleet_bounds == sorted(fleet_bounds)  # a vehicle more never lowers the fleet bound


def test_seat_sweep_drops_the_flow_bound_past_the_occupancy(aleppo: tuple[Scenario, Network]) -> None:
    scenario, network = aleppo
    points = sweep_seats(scenario, network, "bus", [50, 60], counts={"bus": 2, "ambulance": 1})
    assert [dict(p.seats)["bus"] for p in points] == [50, 60]
    assert points[0].flow_bound is not None and points[1].flow_bound is None
    assert points[1].fleet_bound > points[0].fleet_bound


def test_a_fleet_that_cannot_be_planned_is_a_fleet_error(aleppo: tuple[Scenario, Network]) -> None:
    scenario, network = aleppo
    with pytest.raises(FleetError, match="stretcher"):
        plan_fleet(scenario, network, counts={"ambulance": 0})


def test_smallest_fleet_reaches_the_whole_fleet_and_no_fewer_does(aleppo: tuple[Scenario, Network]) -> None:
    scenario, network = aleppo
    small = with_fleet(scenario, {"bus": 3, "ambulance": 2})
    found = smallest_fleet(small, network)
    assert found.smallest.reaches(found.full)
    counts, full = dict(found.smallest.counts), dict(found.full.counts)
    assert all(counts[k] <= full[k] for k in full)
    # The last entry looked at cannot lose one more vehicle with the others as found.
    last = list(full)[-1]
    if counts[last] > 0:
        try:
            fewer = plan_fleet(small, network, counts={**counts, last: counts[last] - 1})
        except FleetError:
            return  # a group would have no vehicle left
        assert not fewer.reaches(found.full)
