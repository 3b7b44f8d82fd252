"""GeoJSON road reader: named points, line ends as nodes, properties, errors naming the feature."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from corridor.core.errors import InputError, NetworkError
from corridor.io.geojson import coordinate_id, read_feature_collection, read_points, read_roads


def point(node_id: Any, x: float, y: float) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"id": node_id},
        "geometry": {"type": "Point", "coordinates": [x, y]},
    }


def line(coords: list[list[Any]], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def write(tmp_path: Path, features: list[dict[str, Any]], name: str = "roads.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, indent=1))
    return path


def tiny(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        [
            point("A", 36.0, 36.0),
            point(7, 36.01, 36.0),
            line([[36.0, 36.0], [36.01, 36.0]], id="r1", oneway=True, capacity=1200, travel_time=2),
            line([[36.01 + 5e-8, 36.0], [36.015, 36.004], [36.02, 36.01]], name="Main St"),
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": []},
            },
            line([[36.02, 36.01], [36.0, 36.0]], oneway="-1", speed_kmh=50, length=2400),
            {"type": "Feature", "properties": {"id": "no-geometry"}, "geometry": None},
        ],
    )


def test_tiny_file_nodes_and_ends(tmp_path: Path) -> None:
    roads = read_roads(tiny(tmp_path))
    assert roads.node_ids == ["A", "7", "36.020000,36.010000"]
    assert roads.node_x.tolist() == [36.0, 36.01, 36.02]  # named points keep their position
    assert roads.from_node.tolist() == [0, 1, 2]
    assert roads.to_node.tolist() == [1, 2, 0]
    assert roads.feature.tolist() == [2, 3, 5]
    assert roads.n_roads == 3


def test_tiny_file_properties(tmp_path: Path) -> None:
    roads = read_roads(tiny(tmp_path))
    assert roads.road_id == ["r1", None, None]
    assert roads.name == [None, "Main St", None]
    assert roads.oneway == [1, None, -1]
    assert roads.capacity[0] == 1200 and math.isnan(roads.capacity[1])
    assert roads.travel_time[0] == 2 and math.isnan(roads.travel_time[2])
    assert roads.speed_kmh[2] == 50 and roads.length[2] == 2400
    assert roads.geometry[1] == ((36.01 + 5e-8, 36.0), (36.015, 36.004), (36.02, 36.01))


def test_point_snap_tolerance(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [point("P", 1.0, 1.0), line([[1.0 + 2e-7, 1.0], [2.0, 2.0]]), line([[2, 2], [1, 1]])],
    )
    roads = read_roads(path)
    assert roads.node_ids == ["1.000000,1.000000", "2.000000,2.000000", "P"]


def test_from_to_override_and_multilinestring(tmp_path: Path) -> None:
    multi = {
        "type": "Feature",
        "properties": {"capacity": 600},
        "geometry": {
            "type": "MultiLineString",
            "coordinates": [[[0, 0], [1, 0]], [[1, 0], [1, 1]]],
        },
    }
    path = write(tmp_path, [line([[5, 5], [6, 6]], **{"from": "X", "to": 9}), multi])
    roads = read_roads(path)
    assert roads.node_ids[:2] == ["X", "9"]
    assert roads.n_roads == 3
    assert roads.feature.tolist() == [0, 1, 1]
    assert roads.capacity.tolist() == [pytest.approx(math.nan, nan_ok=True), 600, 600]


def test_oneway_spellings(tmp_path: Path) -> None:
    values = [True, False, "yes", "no", "-1", -1, "1", "0", None]
    path = write(tmp_path, [line([[0, i], [1, i]], oneway=v) for i, v in enumerate(values)])
    assert read_roads(path).oneway == [1, 0, 1, 0, -1, -1, 1, 0, None]


def test_coordinate_id_rounds_to_six_decimals() -> None:
    assert coordinate_id(36.16214049, 36.2) == "36.162140,36.200000"
    assert coordinate_id(-1e-9, 1.0000004) == "0.000000,1.000000"


def test_points_reader(tmp_path: Path) -> None:
    points = read_points(tiny(tmp_path))
    assert points.ids == ["A", "7"]
    assert points.feature.tolist() == [0, 1]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="file not found"):
        read_roads(tmp_path / "absent.geojson")


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature",,}\n]}')
    with pytest.raises(NetworkError, match="not valid JSON") as info:
        read_roads(path)
    assert info.value.where == f"{path}:3"
    with pytest.raises(InputError) as generic:
        read_feature_collection(path)
    assert type(generic.value) is InputError


def test_not_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "geom.geojson"
    path.write_text('{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}')
    with pytest.raises(NetworkError, match="not a GeoJSON FeatureCollection"):
        read_roads(path)


@pytest.mark.parametrize(
    ("props", "field", "message"),
    [
        ({"capacity": "lots"}, "capacity", "capacity must be a number more than zero"),
        ({"capacity": "1800"}, "capacity", "capacity must be a number"),
        ({"travel_time": 0}, "travel_time", "more than zero"),
        ({"speed_kmh": True}, "speed_kmh", "speed_kmh must be a number"),
        ({"length": -5}, "length", "zero or more"),
        ({"oneway": "maybe"}, "oneway", "oneway must be"),
        ({"name": 12}, "name", "name must be a string"),
        ({"id": 1.5}, "id", "an id must be"),
        ({"from": ""}, "from", "an id must be"),
    ],
)
def test_bad_property_names_feature_and_field(
    tmp_path: Path, props: dict[str, Any], field: str, message: str
) -> None:
    path = write(tmp_path, [line([[0, 0], [1, 1]]), line([[1, 1], [2, 2]], **props)])
    with pytest.raises(NetworkError, match=message) as info:
        read_roads(path)
    assert info.value.where == f"{path}: features[1].properties.{field}"
    assert info.value.hint


def test_bad_geometry(tmp_path: Path) -> None:
    path = write(tmp_path, [line([[0, 0], ["a", 1]])])
    with pytest.raises(NetworkError, match=r"\[x, y\] number pairs") as info:
        read_roads(path)
    assert info.value.where == f"{path}: features[0].geometry.coordinates"
    short = write(tmp_path, [line([[0, 0]])], name="short.geojson")
    with pytest.raises(NetworkError, match="at least two points"):
        read_roads(short)


def test_from_on_multi_part_line_is_ambiguous(tmp_path: Path) -> None:
    multi = {
        "type": "Feature",
        "properties": {"from": "A"},
        "geometry": {
            "type": "MultiLineString",
            "coordinates": [[[0, 0], [1, 0]], [[2, 0], [3, 0]]],
        },
    }
    with pytest.raises(NetworkError, match="several parts") as info:
        read_roads(write(tmp_path, [multi]))
    assert info.value.where and info.value.where.endswith("features[0].properties")


def test_duplicate_point_id_and_no_roads(tmp_path: Path) -> None:
    dup = write(tmp_path, [point("A", 0, 0), point("A", 1, 1), line([[0, 0], [1, 1]])])
    with pytest.raises(NetworkError, match="used twice") as info:
        read_roads(dup)
    assert info.value.where == f"{dup}: features[1].properties.id"
    empty = write(tmp_path, [point("A", 0, 0)], name="empty.geojson")
    with pytest.raises(NetworkError, match="no LineString"):
        read_roads(empty)
