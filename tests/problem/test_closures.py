"""Nothing in a scenario vanishes when it is compiled: every area closes what it covers (all its
polygons), an area that cannot be read is an error naming the closure, the file and what to do, and
every reference to something missing is an error finding.

The network: a row of nodes a, b, c, d at x = 0, 1, 2, 3 (y = 0), roads both ways between
neighbours; the areas are boxes around single nodes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.core.errors import ScenarioError
from corridor.core.findings import Finding, Severity
from corridor.network.model import Network, network_from_arrays
from corridor.problem.build import build_problem, compile_problem
from corridor.problem.model import Problem
from corridor.scenario.model import Scenario
from fuzz_inputs import changed_structure, edited_text


def _network() -> Network:
    pairs = [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]
    return network_from_arrays(
        "row",
        ["a", "b", "c", "d"],
        [u for u, _ in pairs],
        [v for _, v in pairs],
        [600.0] * len(pairs),
        [1.0] * len(pairs),
        x=[0.0, 1.0, 2.0, 3.0],
        y=[0.0] * 4,
    )


def _box(x: float, size: float = 0.2) -> list[list[list[float]]]:
    lo, hi = x - size, x + size
    return [[[lo, -size], [hi, -size], [hi, size], [lo, size], [lo, -size]]]


def _polygon(x: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": _box(x)}


def _scenario(tmp_path: Path, closures: list[dict[str, Any]], **extra: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "row",
        "network": {"format": "geojson", "path": "unused.geojson"},
        "start": "2016-12-15T12:00:00+02:00",
        "deadline": "2016-12-15T13:00:00+02:00",
        "sources": [{"id": "s", "node": "a", "people": 10}],
        "destinations": [{"id": "t", "node": "d"}],
        "closures": closures,
        "base_dir": tmp_path,
        **extra,
    }
    return Scenario.model_validate(data)


def _area_file(tmp_path: Path, content: object, name: str = "area.geojson") -> dict[str, Any]:
    text = content if isinstance(content, str) else json.dumps(content)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return {"id": "fire", "area_file": name}


def _compiled(scenario: Scenario) -> tuple[Problem | None, list[Finding]]:
    return compile_problem(scenario, _network())


def _closed_nodes(p: Problem) -> list[str]:
    return sorted({p.network.node_ids[v] for v in p.node_closed.item.tolist()})


def _errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def test_every_polygon_of_a_collection_is_closed(tmp_path: Path) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": _polygon(1.0)},
            {"type": "Feature", "properties": {}, "geometry": _polygon(3.0)},
        ],
    }
    p, findings = _compiled(_scenario(tmp_path, [_area_file(tmp_path, collection)]))
    assert p is not None and _errors(findings) == []
    assert _closed_nodes(p) == ["b", "d"]
    # Every road touching b or d is closed (a-b, b-c, c-d both ways), none other.
    assert len(p.arc_closed) == 6


def test_every_polygon_of_a_multipolygon_is_closed(tmp_path: Path) -> None:
    multi = {"type": "MultiPolygon", "coordinates": [_box(0.0), _box(2.0)]}
    p, _ = _compiled(_scenario(tmp_path, [{"id": "fire", "area": multi}]))
    assert p is not None
    assert _closed_nodes(p) == ["a", "c"]


def test_a_feature_and_a_bare_geometry_in_a_file(tmp_path: Path) -> None:
    feature = {"type": "Feature", "properties": {}, "geometry": _polygon(2.0)}
    p, _ = _compiled(_scenario(tmp_path, [_area_file(tmp_path, feature)]))
    assert p is not None and _closed_nodes(p) == ["c"]
    p, _ = _compiled(_scenario(tmp_path, [_area_file(tmp_path, _polygon(1.0))]))
    assert p is not None and _closed_nodes(p) == ["b"]


def test_overlapping_polygons_are_united(tmp_path: Path) -> None:
    wide = {"type": "Polygon", "coordinates": _box(1.5, 0.7)}
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in (wide, _polygon(1.0))],
    }
    p, _ = _compiled(_scenario(tmp_path, [_area_file(tmp_path, collection)]))
    assert p is not None and _closed_nodes(p) == ["b", "c"]


BAD_FILES: dict[str, tuple[object, str]] = {
    "empty collection": ({"type": "FeatureCollection", "features": []}, "FeatureCollection with no features"),
    "collection without features": ({"type": "FeatureCollection"}, "no features"),
    "feature without geometry": (
        {"type": "Feature", "properties": {}, "geometry": None},
        "Feature without a geometry",
    ),
    "one bad feature of two": (
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {}, "geometry": _polygon(1.0)},
                {"type": "Feature", "properties": {}, "geometry": None},
            ],
        },
        "feature 1 is a Feature without a geometry",
    ),
    "a list": ([_polygon(1.0)], "is a JSON list, not a GeoJSON object"),
    "a number": (3, "is a JSON int, not a GeoJSON object"),
    "null": (None, "is a JSON NoneType, not a GeoJSON object"),
    "a point": ({"type": "Point", "coordinates": [1.0, 0.0]}, "'Point' geometry, not an area"),
    "a line": (
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 0]]}},
        "'LineString' geometry, not an area",
    ),
    "no type": ({"coordinates": _box(1.0)}, "None geometry, not an area"),
    "polygon without coordinates": ({"type": "Polygon", "coordinates": []}, "Polygon with no coordinates"),
    "bad coordinates": ({"type": "Polygon", "coordinates": [[[0, 0], [1]]]}, "cannot read the area"),
    "not JSON": ("{not json", "cannot read area file"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_an_area_file_with_no_area_is_an_error(tmp_path: Path, name: str) -> None:
    content, expected = BAD_FILES[name]
    p, findings = _compiled(_scenario(tmp_path, [_area_file(tmp_path, content)]))
    assert p is None
    (error,) = _errors(findings)
    assert error.code == "bad-area"
    assert error.where == "closures[0] (fire)"
    assert expected in error.message
    if name not in ("bad coordinates", "not JSON"):
        assert str(tmp_path / "area.geojson") in error.message
    assert error.hint  # says what to do
    with pytest.raises(ScenarioError, match=r"closures\[0\] \(fire\)"):
        build_problem(_scenario(tmp_path, [_area_file(tmp_path, content)]), _network())


def test_a_missing_area_file_is_an_error(tmp_path: Path) -> None:
    _, findings = _compiled(_scenario(tmp_path, [{"id": "fire", "area_file": "gone.geojson"}]))
    (error,) = _errors(findings)
    assert error.where == "closures[0] (fire)" and "gone.geojson" in error.message


def test_an_inline_point_is_an_error(tmp_path: Path) -> None:
    point = {"type": "Point", "coordinates": [1.0, 0.0]}
    p, findings = _compiled(_scenario(tmp_path, [{"id": "fire", "area": point}]))
    assert p is None
    (error,) = _errors(findings)
    assert "the area is a 'Point' geometry" in error.message


def test_an_area_off_the_network_is_a_warning(tmp_path: Path) -> None:
    far = {"type": "Polygon", "coordinates": _box(50.0)}
    p, findings = _compiled(_scenario(tmp_path, [{"id": "fire", "area": far}]))
    assert p is not None and len(p.node_closed) == 0
    (warning,) = findings
    assert warning.severity is Severity.WARNING and warning.code == "area-closes-nothing"
    assert warning.where == "closures[0] (fire)"


def test_a_closure_outside_the_plans_time_is_a_warning(tmp_path: Path) -> None:
    closure = {
        "id": "bridge",
        "node": "b",
        "start": "2015-12-15T12:00+02:00",
        "end": "2015-12-16T12:00+02:00",
    }
    p, findings = _compiled(_scenario(tmp_path, [closure]))
    assert p is not None
    (warning,) = findings
    assert warning.code == "closure-outside-plan" and warning.where == "closures[0] (bridge)"
    # The same closure a year later is inside the plan: no finding.
    inside = {**closure, "start": "2016-12-15T12:00+02:00", "end": "2016-12-16T12:00+02:00"}
    p, findings = _compiled(_scenario(tmp_path, [inside]))
    assert p is not None and findings == [] and _closed_nodes(p) == ["b"]


MISSING: dict[str, tuple[dict[str, Any], str, str]] = {
    "source node": ({"sources": [{"id": "s", "node": "zz", "people": 1}]}, "sources[0] (s)", "unknown-node"),
    "source group": (
        {"sources": [{"id": "s", "node": "a", "people": 1, "group": "elderly"}]},
        "sources[0] (s)",
        "unknown-group",
    ),
    "destination node": (
        {"destinations": [{"id": "t", "node": "zz"}]},
        "destinations[0] (t)",
        "unknown-node",
    ),
    "checkpoint node": (
        {"checkpoints": [{"id": "k", "node": "zz", "people_per_hour": 60}]},
        "checkpoints[0] (k)",
        "unknown-node",
    ),
    "closed node": ({"closures": [{"id": "x", "node": "zz"}]}, "closures[0] (x)", "unknown-node"),
    "closed road": ({"closures": [{"id": "x", "arc": ["a", "c"]}]}, "closures[0] (x)", "unknown-arc"),
    "no sources": ({"sources": []}, "sources", "no-sources"),
    "no destinations": ({"destinations": []}, "destinations", "no-destinations"),
}


@pytest.mark.parametrize("name", list(MISSING))
def test_every_reference_to_something_missing_is_an_error(tmp_path: Path, name: str) -> None:
    change, where, code = MISSING[name]
    closures = change.pop("closures", [])
    p, findings = _compiled(_scenario(tmp_path, closures, **change))
    assert p is None
    assert [(f.where, f.code) for f in _errors(findings)] == [(where, code)]


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


EXAMPLES = int(os.environ.get("CORRIDOR_FUZZ_EXAMPLES", "150"))
AREA = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {}, "geometry": _polygon(1.0)},
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "MultiPolygon", "coordinates": [_box(3.0)]},
        },
    ],
}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=changed_structure(AREA) | st.builds(json.loads, edited_text(json.dumps(AREA)).filter(_is_json)))
def test_any_area_file_is_used_or_an_error_finding(tmp_path: Path, data: Any) -> None:
    """Random changes of an area file: the closure closes something, or there is an error finding
    naming it; compiling never raises."""
    scenario = _scenario(tmp_path, [_area_file(tmp_path, json.dumps(data, default=str))])
    problem, findings = _compiled(scenario)
    errors = _errors(findings)
    if problem is None:
        assert errors and all(e.where == "closures[0] (fire)" for e in errors)
    else:
        assert errors == []
        closed = len(problem.node_closed) + len(problem.arc_closed)
        nothing = [f for f in findings if f.code == "area-closes-nothing"]
        assert closed > 0 or nothing  # closes something, or says it closes nothing
