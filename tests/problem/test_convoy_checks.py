"""Convoy checks name the vehicles and gathering points that cannot take part, and nothing else."""

from __future__ import annotations

from pathlib import Path

from corridor.core.findings import Severity
from corridor.network.build import load_network
from corridor.problem.convoy import ConvoyProblem, LiveState, VehicleState, compile_convoy
from corridor.problem.convoy_checks import check_convoy
from corridor.scenario import load_scenario
from corridor.scenario.model import Closure, Scenario, Vehicles

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
