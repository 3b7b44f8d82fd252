"""Export downloads on SQLite and PostgreSQL: file names carry the operation and the date; HXL
list columns hold ``|``-joined values, not JSON; GeoJSON route points stand where the map puts them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from corridor.reports.hxl import read_hxl
from server.conftest import ROUTE, WINDOWS, World


def test_every_export_is_named_after_its_operation_and_the_day(world: World) -> None:
    today = datetime.now(UTC).date().isoformat()
    for what in ["people.csv", "events.hxl.csv", "incidents.csv", "counts.hxl.csv", "operation.geojson"]:
        answer = world.client.get(world.url(f"/exports/{what}"), headers=world.coordinator)
        assert answer.status_code == 200, answer.text
        stem, _, extension = what.partition(".")
        expected = f'attachment; filename="east-aleppo_{stem}_{today}.{extension}"'
        assert answer.headers["content-disposition"].startswith(expected)


def test_an_arabic_operation_name_is_transliterated_and_kept_exact_in_filename_star(world: World) -> None:
    made = world.client.post(
        "/api/operations",
        json={
            "name": "حلب الشرقية",
            "scenario_name": "east-aleppo-2016",
            "route": ROUTE,
            "windows": WINDOWS,
        },
        headers=world.coordinator,
    )
    assert made.status_code == 201, made.text
    answer = world.client.get(
        f"/api/operations/{made.json()['id']}/exports/people.csv", headers=world.coordinator
    )
    disposition = answer.headers["content-disposition"]
    assert disposition.isascii() and 'filename="hlb-lshrqyh_people_' in disposition
    assert "filename*=UTF-8''%D8%AD%D9%84%D8%A8" in disposition


def test_hxl_list_columns_hold_values_joined_by_bars(world: World) -> None:
    household = world.household(
        {
            "name": "Rana Haddad",
            "age_band": "18-59",
            "sex": "female",
            "vulnerabilities": ["wounded", "stretcher"],
        },
        {"name": "Omar Haddad", "age_band": "5-11", "sex": "male"},
    )
    ids = [p["id"] for p in household["people"]]
    incident = {
        "kind": "shelling",
        "occurred_at": "2016-12-15T10:40:00Z",
        "place_name": "Ramouseh",
        "description": "shells",
        "people": ids,
    }
    answer = world.client.post(world.url("/incidents"), json=incident, headers=world.as_role("monitor"))
    assert answer.status_code == 201, answer.text
    text = world.client.get(world.url("/exports/people.hxl.csv"), headers=world.coordinator).text
    header, tags, rows = read_hxl(text)
    column = header.index("vulnerabilities")
    assert tags[column] == "#x_vulnerability +list"
    assert sorted(row[column] for row in rows) == ["", "stretcher|wounded"]
    text = world.client.get(world.url("/exports/incidents.hxl.csv"), headers=world.coordinator).text
    header, tags, [row] = read_hxl(text)
    assert tags[header.index("people")] == "#x_person +list"
    assert row[header.index("people")].split("|") == ids and "[" not in row[header.index("vehicles")]


def test_geojson_places_route_points_where_the_map_does(world: World) -> None:
    route: list[dict[str, Any]] = [
        {"id": "general-mashhad", "name": "al-Mashhad", "kind": "departure", "expected_minutes": 0},
        {"id": "ramouseh", "name": "Ramouseh", "kind": "checkpoint", "expected_minutes": 20},
        {"id": "nowhere", "name": "Not on the map", "kind": "checkpoint", "expected_minutes": 40},
        {"id": "khan-al-assal", "name": "Khan al-Asal", "kind": "arrival", "expected_minutes": 60},
    ]
    made = world.client.post(
        "/api/operations",
        json={"name": "Placed", "scenario_name": "east-aleppo-2016", "route": route, "windows": WINDOWS},
        headers=world.coordinator,
    )
    assert made.status_code == 201, made.text
    base = f"/api/operations/{made.json()['id']}"
    layers = world.client.get(f"/operations/{made.json()['id']}/map.geojson", headers=world.coordinator)
    assert layers.status_code == 200, layers.text
    on_map = {
        f["properties"]["id"]: f["geometry"]["coordinates"]
        for f in layers.json()["layers"]["route_points"]["features"]
    }
    exported = world.client.get(f"{base}/exports/operation.geojson", headers=world.coordinator).json()
    points = {
        f["properties"]["id"]: f["geometry"]
        for f in exported["features"]
        if f["properties"]["layer"] == "point"
    }
    assert set(on_map) == {"general-mashhad", "ramouseh", "khan-al-assal"}
    for point, coordinates in on_map.items():
        assert points[point] == {"type": "Point", "coordinates": coordinates}
    assert points["nowhere"] is None
