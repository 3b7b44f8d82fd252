"""Sweep axes: what each value changes in the scenario, and axes that are not sweeps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from convoy_cases import example
from corridor.core.errors import InputError
from corridor.simulate.axes import parse_axis, vary


def test_each_axis_changes_what_it_names() -> None:
    scenario, _ = example()
    fleet = vary(scenario, parse_axis("fleet:bus=7"), 7)
    assert {f.id: f.count for f in fleet.fleet} == {"bus": 7, "ambulance": 13}
    faster = vary(scenario, parse_axis("checkpoint:ramouseh=24"), 24)
    (check,) = faster.checkpoints
    assert check.vehicles_per_hour == 24 and check.inspection_minutes == 2.5
    slower = vary(scenario, parse_axis("checkpoint:ramouseh=6"), 6)
    assert slower.checkpoints[0].inspection_minutes == 5  # no longer than it was
    shorter = vary(scenario, parse_axis("deadline=10"), 10)
    assert shorter.deadline - shorter.start == timedelta(hours=10)
    assert scenario.fleet[0].count == 20 and scenario.checkpoints[0].vehicles_per_hour == 12  # untouched


def test_an_axis_reads_its_values() -> None:
    axis = parse_axis(" deadline = 12, 16.5 ,20")
    assert (axis.kind, axis.target, axis.values) == ("deadline", "", (12.0, 16.5, 20.0))
    assert "deadline" in axis.label


@pytest.mark.parametrize(
    "text",
    [
        "fleet=1,2",
        "deadline:x=1",
        "speed:bus=1",
        "fleet:bus=",
        "fleet:bus=1.5",
        "fleet:bus=a,b",
        "deadline=-1",
        "deadline=nan",
        "deadline=inf",
        "fleet:bus",
    ],
)
def test_what_is_not_a_sweep_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="--sweep"):
        parse_axis(text)
