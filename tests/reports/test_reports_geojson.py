"""The operation as GeoJSON: a FeatureCollection with valid geometry or none, counts, no names."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape

from corridor.reports.geojson_export import (
    IncidentPlace,
    PointCounts,
    VehiclePlace,
    feature_collection,
    point_geometry,
)

AT = datetime(2016, 12, 15, 16, 0, tzinfo=UTC)


def check_collection(collection: dict[str, Any]) -> None:
    """RFC 7946: a FeatureCollection of Features, each geometry a valid geometry or null."""
    assert collection["type"] == "FeatureCollection"
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["properties"], dict)
        if feature["geometry"] is not None:
            geometry = shape(feature["geometry"])
            assert geometry.is_valid and not geometry.is_empty
            lon, lat = feature["geometry"]["coordinates"]
            assert -180 <= lon <= 180 and -90 <= lat <= 90


def test_points_incidents_and_vehicles_in_one_collection() -> None:
    points = [
        PointCounts("start", "al-Amiriyah", "departure", lon=37.13, lat=36.18, people={"boarded": 3}),
        PointCounts("cp", "Ramouseh", "checkpoint", pcode="SY0200", admin_level=1, lon=37.12, lat=36.17),
        PointCounts("end", "al-Rashideen", "arrival", people={"arrived": 9}, vehicles={"arrived": 1}),
    ]
    incidents = [IncidentPlace("i1", "shelling", AT, "Ramouseh", "SY0200", 1, 37.121, 36.171)]
    vehicles = [
        VehiclePlace("BUS-01", "boarded", "start", AT),
        VehiclePlace("BUS-02", "registered", None, None),
    ]
    collection = json.loads(
        json.dumps(feature_collection(points, incidents, vehicles, at=AT, operation="Op"))
    )
    check_collection(collection)
    layers = [f["properties"]["layer"] for f in collection["features"]]
    assert layers == ["point", "point", "point", "incident", "vehicle", "vehicle"]
    cp = collection["features"][1]["properties"]
    assert cp["pcode"] == "SY0200" and cp["admin_level"] == 1
    end = collection["features"][2]
    assert end["geometry"] is None and end["properties"]["people_total"] == 9  # unlocated, counted
    bus = collection["features"][4]
    assert bus["geometry"] == {"type": "Point", "coordinates": [37.13, 36.18]}  # at its last point
    assert collection["features"][5]["geometry"] is None


def test_coordinates_out_of_range_give_no_geometry() -> None:
    assert point_geometry(200.0, 10.0) is None
    assert point_geometry(10.0, float("nan")) is None
    assert point_geometry(None, 10.0) is None
    assert point_geometry(-0.5, 51.5) == {"type": "Point", "coordinates": [-0.5, 51.5]}
