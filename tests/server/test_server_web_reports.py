"""The sitrep page and PDF, and the HXL and GeoJSON exports, on SQLite and PostgreSQL: figures equal
the reconciliation's counts; observers get counts and never personal data."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from shapely.geometry import shape

from corridor.reports.hxl import hashtag_row, read_hxl
from corridor.server.exports import service
from server.conftest import World

T = "2016-12-15T10:{:02d}:00Z"
HTML = {"Accept": "text/html"}


def scan(n: int, kind: str, minute: int, **payload: str) -> dict[str, Any]:
    return {
        "event_id": f"scanner-1-{n}",
        "device_id": "scanner-1",
        "seq": n,
        "device_time": T.format(minute),
        "type": kind,
        "payload": payload,
    }


def populate(world: World) -> list[str]:
    """Six people at two gathering points, two buses, scans that put them in every status, and
    one incident; returns the person ids."""
    world.vehicle("bus-1")
    world.vehicle("bus-2")
    first = world.household(
        {"name": "Rana Haddad", "age_band": "18-59", "sex": "female", "vulnerabilities": ["wounded"]},
        {"name": "Omar Haddad", "age_band": "5-11", "sex": "male"},
        {"name": "Samir Haddad", "age_band": "60+", "sex": "male"},
        gathering_point="gp-a",
    )
    second = world.household(
        {"name": "Huda Khatib", "age_band": "18-59", "sex": "female"},
        {"name": "Layla Khatib", "age_band": "12-17", "sex": "female"},
        {"name": "Youssef Khatib", "age_band": "0-4", "sex": "male"},
        gathering_point="gp-b",
    )
    people = [p["id"] for p in first["people"] + second["people"]]
    p1, p2, p3, p4, p5, _p6 = people
    events = [
        scan(1, "boarded", 0, person_id=p1, vehicle_id="bus-1", point="start"),
        scan(2, "boarded", 0, person_id=p2, vehicle_id="bus-1", point="start"),
        scan(3, "boarded", 0, person_id=p3, vehicle_id="bus-1", point="start"),
        scan(4, "departed", 1, vehicle_id="bus-1", point="start"),
        scan(5, "checkpoint", 20, person_id=p2, point="cp1"),
        scan(6, "checkpoint", 20, person_id=p3, point="cp1"),
        scan(7, "arrived", 55, person_id=p3, point="end"),
        scan(8, "arrived", 56, person_id=p4, point="end"),
        scan(9, "missing", 30, person_id=p5),
    ]
    for event in events:
        answer = world.client.post(world.url("/events"), json=event, headers=world.device)
        assert answer.status_code == 201, answer.text
    incident = {
        "kind": "shelling",
        "occurred_at": "2016-12-15T10:40:00Z",
        "place_name": "Ramouseh",
        "pcode": "SY020100",
        "admin_level": 3,
        "lon": 37.121,
        "lat": 36.171,
        "description": "Shells near the checkpoint; Rana Haddad was hurt",
        "people": [p1],
    }
    answer = world.client.post(world.url("/incidents"), json=incident, headers=world.as_role("monitor"))
    assert answer.status_code == 201, answer.text
    return people


def figures_on(html: str) -> dict[str, int]:
    """The key figures of a sitrep page: label -> value."""
    found = re.findall(r'data-figure="\d+">(\d+)</span><span class="label">([^<]+)</span>', html)
    return {label: int(value) for value, label in found}


def expected(reconciliation: dict[str, Any], overdue: int, incidents: int) -> dict[str, int]:
    people, vehicles = reconciliation["people"], reconciliation["vehicles"]
    return {
        "People registered": sum(people.values()),
        "Waiting to board": people["registered"],
        "Boarded": people["boarded"],
        "In transit": people["passed_checkpoint"],
        "Arrived": people["arrived"],
        "Returned": people["returned"],
        "Missing": people["missing"],
        "Detained": people["detained"],
        "Vehicles departed": sum(vehicles.values()) - vehicles["registered"],
        "Vehicles arrived": vehicles["arrived"],
        "Vehicles overdue": overdue,
        "Incidents reported": incidents,
    }


def test_sitrep_figures_are_the_reconciliation_counts_on_the_page_and_in_the_pdf(world: World) -> None:
    populate(world)
    result = world.client.get(world.url("/reconciliation"), headers=world.coordinator).json()
    assert result["people"]["arrived"] == 2 and result["people"]["missing"] == 1
    want = expected(result, len(result["overdue_vehicles"]), 1)
    assert want["Vehicles departed"] == 1 and want["People registered"] == 6
    page = world.client.get(
        f"/operations/{world.operation_id}/sitrep?lang=en", headers={**HTML, **world.coordinator}
    )
    assert page.status_code == 200, page.text
    assert figures_on(page.text) == want
    assert "Arrived at reception points: 2 of the 6 registered (33%)." in page.text
    assert f'href="/operations/{world.operation_id}/sitrep.pdf?lang=en"' in page.text
    pdf = world.client.get(f"/operations/{world.operation_id}/sitrep.pdf?lang=en", headers=world.coordinator)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for label, value in want.items():
        assert re.search(rf"\b{value}\s*\n?\s*{label}", text), (label, value)
    arabic = world.client.get(
        f"/operations/{world.operation_id}/sitrep.pdf?lang=ar", headers=world.coordinator
    )
    assert arabic.status_code == 200 and arabic.headers["content-disposition"].endswith('-ar.pdf"')
    assert "تقرير" in PdfReader(io.BytesIO(arabic.content)).pages[0].extract_text()


def test_observers_get_the_sitrep_and_the_counts_but_no_personal_data(world: World) -> None:
    people = populate(world)
    observer = world.as_role("observer")
    page = world.client.get(f"/operations/{world.operation_id}/sitrep", headers={**HTML, **observer})
    assert page.status_code == 200
    for private in ["Rana", "Haddad", "Khatib", *people]:
        assert private not in page.text
    links = re.findall(r'href="/api/operations/[^/]+/exports/([^"]+)"', page.text)
    assert links == ["counts.hxl.csv", "operation.geojson"]
    for name in ["people.hxl.csv", "people.csv", "events.hxl.csv", "incidents.hxl.csv"]:
        assert world.client.get(world.url(f"/exports/{name}"), headers=observer).status_code == 403, name
    counts = world.client.get(world.url("/exports/counts.hxl.csv"), headers=observer)
    assert counts.status_code == 200 and counts.headers["content-type"].startswith("text/csv")
    header, tags, rows = read_hxl(counts.text)
    assert header == service.COUNTS_HEADER and tags[:3] == [
        "#loc +name +gathering",
        "#affected +total",
        "#affected +registered",
    ]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert (
        table["gp-a"]["total"] == "3" and table["gp-a"]["arrived"] == "1" and table["gp-b"]["missing"] == "1"
    )
    geojson = world.client.get(world.url("/exports/operation.geojson"), headers=observer)
    assert geojson.status_code == 200 and geojson.headers["content-type"] == "application/geo+json"
    for private in ["Rana", "Haddad", *people, "Shells"]:
        assert private not in geojson.text


def test_geojson_has_points_with_counts_and_pcodes_incidents_and_vehicles(world: World) -> None:
    populate(world)
    collection = world.client.get(world.url("/exports/operation.geojson"), headers=world.coordinator).json()
    assert collection["type"] == "FeatureCollection"
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        if feature["geometry"] is not None:
            assert shape(feature["geometry"]).is_valid
        by_layer.setdefault(feature["properties"]["layer"], []).append(feature)
    points = {f["properties"]["id"]: f["properties"] for f in by_layer["point"]}
    assert list(points) == ["start", "cp1", "end"]
    assert points["cp1"]["pcode"] == "SY020100" and points["cp1"]["admin_level"] == 3
    assert points["start"]["people"] == {"boarded": 1} and points["cp1"]["people"] == {"passed_checkpoint": 1}
    assert points["end"]["people"] == {"arrived": 2}
    assert points["start"]["vehicles"] == {"boarded": 1}
    [incident] = by_layer["incident"]
    assert incident["geometry"] == {"type": "Point", "coordinates": [37.121, 36.171]}
    assert set(incident["properties"]) == {
        "layer",
        "id",
        "kind",
        "occurred_at",
        "place_name",
        "pcode",
        "admin_level",
    }
    vehicles = {f["properties"]["code"]: f["properties"] for f in by_layer["vehicle"]}
    assert vehicles["bus-1"]["point"] == "start" and vehicles["bus-2"]["status"] == "registered"


def test_hxl_people_are_pseudonymous_unless_the_role_may_see_names(world: World) -> None:
    populate(world)
    planner = world.client.get(world.url("/exports/people.hxl.csv"), headers=world.as_role("planner"))
    header, tags, rows = read_hxl(planner.text)
    assert header == service.PEOPLE_HEADER and len(rows) == 6
    assert "#x_person +name" not in tags and "Rana" not in planner.text
    registrar = world.client.get(world.url("/exports/people.hxl.csv"), headers=world.as_role("registrar"))
    header, tags, rows = read_hxl(registrar.text)
    assert header[-3:] == ["name", "phone", "wristband"] and tags[-3] == "#x_person +name"
    assert {"Rana Haddad", "Youssef Khatib"} <= {row[header.index("name")] for row in rows}


def test_hxl_events_and_incidents_read_back(world: World) -> None:
    people = populate(world)
    monitor = world.as_role("monitor")
    header, tags, rows = read_hxl(
        world.client.get(world.url("/exports/events.hxl.csv"), headers=monitor).text
    )
    assert header == service.EVENTS_HEADER and tags[header.index("type")] == "#event +type"
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    assert sum(r[header.index("type")] == "arrived" for r in rows) == 2
    header, tags, rows = read_hxl(
        world.client.get(world.url("/exports/incidents.hxl.csv"), headers=monitor).text
    )
    [row] = rows
    assert tags[header.index("lat")] == "#geo +lat" and row[header.index("pcode")] == "SY020100"
    assert row[header.index("people")] == people[0]  # an HXL list: values joined by |


def test_every_export_column_has_a_hashtag() -> None:
    for header in (
        [*service.PEOPLE_HEADER, "name", "phone", "wristband"],
        service.EVENTS_HEADER,
        service.INCIDENTS_HEADER,
        service.COUNTS_HEADER,
    ):
        assert len(hashtag_row(header)) == len(header)
