"""Counts and sizes beyond anything real, found by fuzzing the scenario: each is an error finding
naming the field (before, they crashed the compile step with OverflowError or MemoryError, or
turned into negative capacities), and rates beyond any evacuation are the same as no limit.

The network: a -> b -> c, roads of 60 vehicles an hour taking 1 minute; people at a, reception at c.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from corridor.core.findings import Severity
from corridor.network.model import Network, network_from_arrays
from corridor.problem.build import MAX_PEOPLE, compile_problem
from corridor.scenario.model import Scenario
from corridor.solve.exact import solve_exact


def _network(travel_time: float = 1.0) -> Network:
    return network_from_arrays(
        "line",
        ["a", "b", "c"],
        [0, 1],
        [1, 2],
        [60.0, 60.0],
        [travel_time, 1.0],
        x=[0.0, 1.0, 2.0],
        y=[0.0] * 3,
    )


def _scenario(**change: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "line",
        "network": {"format": "geojson", "path": "unused.geojson"},
        "start": "2016-12-15T12:00:00+02:00",
        "deadline": "2016-12-15T12:30:00+02:00",
        "sources": [{"id": "s", "node": "a", "people": 10}],
        "destinations": [{"id": "t", "node": "c"}],
        "base_dir": Path(),
    }
    return Scenario.model_validate({**data, **change})


CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "people beyond int64": (
        {"sources": [{"id": "s", "node": "a", "people": 10**20}]},
        "sources[0] (s)",
        "too-many-people",
    ),
    "people beyond any evacuation": (
        {"sources": [{"id": "s", "node": "a", "people": 2**62}]},
        "sources[0] (s)",
        "too-many-people",
    ),
    "reception beyond int64": (
        {"destinations": [{"id": "t", "node": "c", "capacity": 10**20}]},
        "destinations[0] (t)",
        "bad-capacity",
    ),
    "checkpoint rate infinite": (
        {"checkpoints": [{"id": "k", "node": "b", "vehicles_per_hour": float("inf")}]},
        "checkpoints[0] (k)",
        "bad-rate",
    ),
    "priority beyond int64": (
        {"groups": [{"name": "general", "priority": 10**20}]},
        "groups[0] (general)",
        "bad-priority",
    ),
    "occupancy infinite": ({"occupancy": {"car": float("inf")}}, "occupancy.car", "bad-occupancy"),
    "deadline in year 9999": ({"deadline": "9999-12-15T12:30:00+02:00"}, "deadline", "too-many-steps"),
    "start in year 1": ({"start": "0001-01-01T12:00:00+02:00"}, "deadline", "too-many-steps"),
    "steps too short": ({"time_step": "0.00001 min"}, "deadline", "too-many-steps"),
    "source at lon nan": (
        {"sources": [{"id": "s", "lon": float("nan"), "lat": 0.0, "people": 10}]},
        "sources[0] (s)",
        "bad-position",
    ),
    "source off the globe": (
        {"sources": [{"id": "s", "lon": 0.0, "lat": 500.0, "people": 10}]},
        "sources[0] (s)",
        "bad-position",
    ),
    "reception at lat inf": (
        {"destinations": [{"id": "t", "lon": 2.0, "lat": float("inf")}]},
        "destinations[0] (t)",
        "bad-position",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_beyond_anything_real_is_an_error_naming_the_field(name: str) -> None:
    change, where, code = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no cast of inf or nan to an integer on the way
        problem, findings = compile_problem(_scenario(**change), _network())
    assert problem is None
    assert [(f.where, f.code) for f in findings if f.severity is Severity.ERROR] == [(where, code)]


def test_a_position_is_snapped_and_a_far_one_said() -> None:
    """Snapped to the nearest node as before; 11 km from it (0.1 degrees at the equator) is a
    warning naming the source, 1.1 km is not."""
    far = _scenario(sources=[{"id": "s", "lon": 0.1, "lat": 0.0, "people": 10}])
    problem, findings = compile_problem(far, _network())
    assert problem is not None and problem.source_node.tolist() == [0]
    assert [(f.severity, f.code, f.where) for f in findings] == [
        (Severity.WARNING, "far-from-network", "sources[0] (s)")
    ]
    assert "11.1 km from the nearest node (a)" in findings[0].message
    near = _scenario(sources=[{"id": "s", "lon": 0.01, "lat": 0.0, "people": 10}])
    problem, findings = compile_problem(near, _network())
    assert problem is not None and problem.source_node.tolist() == [0] and findings == []


def test_a_rate_beyond_any_evacuation_is_no_limit() -> None:
    """A checkpoint of 1e300 vehicles an hour, and buses of 1e300 people: capacities at the
    cap (never negative), and the same plan as with no checkpoint."""
    huge = _scenario(checkpoints=[{"id": "k", "node": "b", "vehicles_per_hour": 1e300}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problem, findings = compile_problem(huge, _network())
        crowded, _ = compile_problem(_scenario(occupancy={"car": 1e300}), _network())
    assert problem is not None and crowded is not None and findings == []
    assert problem.node_cap[1] == MAX_PEOPLE
    assert (crowded.arc_cap == MAX_PEOPLE).all()
    plain, _ = compile_problem(_scenario(), _network())
    assert plain is not None
    assert solve_exact(problem).evacuated == solve_exact(plain).evacuated == 10


def test_a_road_longer_than_anything_is_never_used() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problem, _ = compile_problem(_scenario(), _network(travel_time=1e300))
    assert problem is not None and problem.tau[0] > problem.horizon
    assert solve_exact(problem).evacuated == 0
