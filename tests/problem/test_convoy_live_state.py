"""The live state of an operation entering a convoy problem: bad facts are errors naming the vehicle,
source, group or reception point; people already received are taken off the reception capacities."""

from __future__ import annotations

import pytest

from convoy_cases import example
from corridor.core.findings import Severity
from corridor.network.build import load_network
from corridor.problem.convoy import LiveState, VehicleState, compile_convoy


def _errors(state: LiveState) -> list[str]:
    scenario, _ = example()
    problem, findings = compile_convoy(
        scenario, load_network(scenario.network, scenario.base_dir), state=state
    )
    errors = [f.render() for f in findings if f.severity == Severity.ERROR]
    assert (problem is None) == bool(errors)
    return errors


def test_a_sound_live_state_compiles() -> None:
    state = LiveState(
        vehicles=(
            VehicleState("ambulance-01", "mashhad", 10, (("wounded-mashhad", 2),)),
            VehicleState("bus-01", "mashhad", 10, (("general-mashhad", 50),)),
        ),
        left=(("wounded-mashhad", 2), ("general-mashhad", 50)),
        out_by_group=(("general", 0),),
    )
    assert _errors(state) == []


@pytest.mark.parametrize(
    ("state", "named"),
    [
        # five wounded on board an ambulance with two stretcher places
        (
            LiveState(vehicles=(VehicleState("ambulance-01", "mashhad", 10, (("wounded-mashhad", 5),)),)),
            "ambulance-01",
        ),
        # 51 people on board a bus of 50 seats
        (LiveState(vehicles=(VehicleState("bus-03", "mashhad", 10, (("general-mashhad", 51),)),)), "bus-03"),
        (LiveState(left=(("general-mashhad", -5),)), "general-mashhad"),
        (
            LiveState(vehicles=(VehicleState("bus-02", "mashhad", 0), VehicleState("bus-02", "amiriyah", 0))),
            "bus-02",
        ),
        (LiveState(out_by_group=(("nobody-such", 10),)), "nobody-such"),
        (LiveState(received=(("nowhere", 10),)), "nowhere"),
        (LiveState(received=(("rashideen", -1),)), "rashideen"),
    ],
)
def test_a_bad_live_state_is_an_error_naming_the_place(state: LiveState, named: str) -> None:
    errors = _errors(state)
    assert errors and any(named in e for e in errors), errors


def test_people_received_are_taken_off_the_reception_capacities() -> None:
    scenario, base = example()
    network = load_network(scenario.network, scenario.base_dir)
    caps = dict(zip(base.flow.dest_ids, base.flow.dest_cap.tolist(), strict=True))
    first = base.flow.dest_ids[0]
    assert caps[first] > 100
    problem, _ = compile_convoy(scenario, network, state=LiveState(received=((first, 100),)))
    assert problem is not None
    after = dict(zip(problem.flow.dest_ids, problem.flow.dest_cap.tolist(), strict=True))
    assert after == {**caps, first: caps[first] - 100}
