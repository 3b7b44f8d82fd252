"""Convoy checks name the vehicles and gathering points that cannot take part, and nothing else."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corridor.core.findings import Severity
from corridor.network.build import load_network
from corridor.problem.convoy import ConvoyProblem, LiveState, VehicleState, compile_convoy
from corridor.problem.convoy_checks import check_convoy
from corridor.scenario import load_scenario
from corridor.scenario.model import Closure, Scenario, Vehicles
from factories import problem

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


def _compiled(scenario: Scenario) -> tuple[ConvoyProblem | None, list[str]]:
    problem, findings = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    return problem, [f.render() for f in findings]


def test_the_example_has_no_convoy_finding() -> None:
    problem, findings = _compiled(load_scenario(EXAMPLE))
    assert problem is not None and findings == []
    assert check_convoy(problem) == []


def test_a_depot_cut_off_for_the_whole_window_is_named() -> None:
    base = load_scenario(EXAMPLE)
    cut = base.model_copy(
        update={
            "closures": (Closure(id="crossing", node="amiriyah-crossing"),),
            "fleet": (*base.fleet, Vehicles(id="truck", count=2, seats=20, depot="khan-al-assal")),
        }
    )
    problem, _ = _compiled(cut)
    assert problem is not None
    found = check_convoy(problem)
    codes = {f.code for f in found}
    assert {"vehicle-cannot-reach-gathering", "gathering-unreachable"} <= codes
    assert all(f.severity is Severity.WARNING for f in found)
    where = " ".join(f.where for f in found)
    assert "depot khan-al-assal" in where and "depot ramouseh-junction" in where
    assert "gathering point mashhad" in where


def test_a_closure_that_ends_in_the_window_does_not_cut_anything() -> None:
    base = load_scenario(EXAMPLE)
    brief = base.model_copy(
        update={"closures": (Closure(id="c", node="amiriyah-crossing", end=base.deadline.replace(hour=1)),)}
    )
    problem, _ = _compiled(brief)
    assert problem is not None and check_convoy(problem) == []


def test_bad_fleets_are_errors_that_name_the_entry() -> None:
    base = load_scenario(EXAMPLE)
    bad = base.model_copy(
        update={
            "fleet": (
                Vehicles(id="ghost", count=1, seats=0, depot="ramouseh-junction"),
                Vehicles(id="lost", count=1, seats=10, depot="nowhere"),
            )
        }
    )
    problem, findings = _compiled(bad)
    assert problem is None
    text = "\n".join(findings)
    assert "fleet[0] (ghost)" in text and "no seat and no stretcher place" in text
    assert "fleet[1] (lost)" in text and "depot 'nowhere' is not a node" in text
    assert "groups (wounded)" in text and "stretcher" in text


def test_no_fleet_is_an_error() -> None:
    problem, findings = _compiled(load_scenario(EXAMPLE).model_copy(update={"fleet": ()}))
    assert problem is None
    assert any("fleet: the scenario has no vehicles" in f for f in findings)


def test_people_on_board_who_cannot_reach_a_reception_point_by_the_deadline_are_named() -> None:
    scenario = load_scenario(EXAMPLE)
    network = load_network(scenario.network, scenario.base_dir)

    def warned(ready: int) -> list[str]:
        state = LiveState(vehicles=(VehicleState("bus-07", "mashhad", ready, (("general-mashhad", 30),)),))
        problem, _ = compile_convoy(scenario, network, state=state)
        assert problem is not None
        return [f.render() for f in check_convoy(problem) if f.code == "on-board-cannot-reach-reception"]

    horizon = compile_convoy(scenario, network)[0]
    assert horizon is not None
    assert warned(10) == []
    late = warned(horizon.horizon - 1)  # free one step before the deadline: no reception point is that near
    assert len(late) == 1 and "bus-07" in late[0] and "30 people" in late[0]


def _riding(checkpoints: dict[int, int]) -> ConvoyProblem:
    """A road 0-1-2-3 (one step each way), the reception point at 3, one person waiting at 0 and a
    vehicle at 0 with one person on board; checkpoints at the nodes of ``checkpoints``."""
    arcs = [(u, v, 100, 1) for a, b in ((0, 1), (1, 2), (2, 3)) for u, v in ((a, b), (b, a))]
    flow = problem(4, arcs, sources=[(0, 1)], destinations=[3], horizon=10, node_cap=checkpoints)
    n = len(flow.checkpoint_ids)
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
        vehicle_on_board=(((0, 1),),),
        group_stretcher=np.asarray([False]),
        checkpoint_inspection=np.ones(n, dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(n),
        checkpoint_people_rate=np.zeros(n),
    )


def test_people_on_board_behind_two_checkpoints_in_series_are_named() -> None:
    # a haul passes one checkpoint at most: behind two in series the reception point is out of reach
    codes = {f.code for f in check_convoy(_riding({1: 100, 2: 100}))}
    assert "on-board-cannot-reach-reception" in codes
    assert "on-board-cannot-reach-reception" not in {f.code for f in check_convoy(_riding({1: 100}))}
