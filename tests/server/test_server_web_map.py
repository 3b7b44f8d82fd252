"""The map and plan pages and the map's GeoJSON, without a browser: who may see them, what they
hold with the operation's scenario (planned by a job on the cluster), the notice when the
scenario file is not found, and the re-plan for a shorter window."""

from __future__ import annotations

import time
from typing import Any

from server.conftest import ROUTE, WINDOWS, World


def map_data(world: World, role: str, operation_id: str | None = None) -> dict[str, Any]:
    answer = world.client.get(
        f"/operations/{operation_id or world.operation_id}/map.geojson", headers=world.as_role(role)
    )
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def plan_made(world: World, query: str = "") -> None:
    """Open the plan page (which starts the job making its plan on the cluster) and wait until the
    operation's jobs have ended."""
    world.client.get(f"/operations/{world.operation_id}/plan{query}", headers=world.coordinator)
    for _ in range(900):
        jobs = world.client.get(world.url("/jobs"), headers=world.coordinator).json()
        if all(j["state"] in ("done", "failed", "cancelled") for j in jobs):
            assert [j["error"] for j in jobs if j["state"] != "done"] == []
            return
        time.sleep(0.2)
    raise AssertionError("the plan job did not end")


def test_without_a_session_the_map_goes_to_log_in(world: World) -> None:
    answer = world.client.get(
        f"/operations/{world.operation_id}/map", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next=/operations/{world.operation_id}/map"
    assert world.client.get(f"/operations/{world.operation_id}/map.geojson").status_code == 401


def test_an_observer_sees_the_map_of_the_scenario_without_vehicles_or_incidents(world: World) -> None:
    page = world.client.get(f"/operations/{world.operation_id}/map", headers=world.as_role("observer"))
    assert page.status_code == 200
    assert 'id="map"' in page.text and "/static/vendor/leaflet/dist/leaflet.js" in page.text
    assert 'id="map-notice" class="alert warn" role="status" hidden' in page.text

    data = map_data(world, "observer")
    assert data["notice"] is None and data["crs"] == "EPSG:4326"
    found = data["layers"]
    assert len(found["gathering"]["features"]) == 6  # the six gathering points of East Aleppo
    assert sum(f["properties"]["people"] for f in found["gathering"]["features"]) == 9000
    assert len(found["reception"]["features"]) == 2 and len(found["checkpoints"]["features"]) == 1
    assert {f["properties"]["id"] for f in found["hazards"]["features"]} == {
        "checkpoint-hold-16dec",
        "shelling-short-road",
    }
    assert sum(f["properties"]["people"] for f in found["routes"]["features"]) == data["plan"]["evacuated"]
    assert data["plan"]["published"] is False  # the world's operation has published no plan
    assert found["vehicles"]["features"] == [] and "incidents" not in found


def test_without_its_scenario_file_the_map_says_what_was_looked_for(world: World) -> None:
    made = world.client.post(
        "/api/operations",
        json={"name": "Elsewhere", "scenario_name": "atlantis-2030", "route": ROUTE, "windows": WINDOWS},
        headers=world.coordinator,
    )
    assert made.status_code == 201, made.text
    operation_id = made.json()["id"]
    incident = {
        "kind": "shelling",
        "occurred_at": "2016-12-15T10:25:00+02:00",
        "place_name": "near the crossing",
        "lon": 37.13,
        "lat": 36.17,
        "description": "shells fell near the road",
    }
    reported = world.client.post(
        f"/api/operations/{operation_id}/incidents", json=incident, headers=world.coordinator
    )
    assert reported.status_code == 201, reported.text

    page = world.client.get(f"/operations/{operation_id}/map", headers=world.coordinator)
    assert page.status_code == 200
    assert "atlantis-2030" in page.text and str(world.settings.scenarios_dir) in page.text

    data = map_data(world, "coordinator", operation_id)
    assert "atlantis-2030" in data["notice"] and data["plan"] is None
    assert set(data["layers"]) == {"route_points", "vehicles", "incidents"}
    (mark,) = data["layers"]["incidents"]["features"]
    assert mark["geometry"] == {"type": "Point", "coordinates": [37.13, 36.17]}
    assert mark["properties"]["kind"] == "shelling" and "description" not in mark["properties"]
    # The world's route points name no node and carry no coordinates: nothing to place.
    assert data["layers"]["route_points"]["features"] == []


def test_the_notice_speaks_the_readers_language(world: World) -> None:
    made = world.client.post(
        "/api/operations",
        json={"name": "Elsewhere", "scenario_name": "atlantis-2030", "route": ROUTE},
        headers=world.coordinator,
    )
    operation_id = made.json()["id"]
    answer = world.client.get(f"/operations/{operation_id}/map.geojson?lang=ar", headers=world.coordinator)
    assert "لم يوجد ملف سيناريو" in answer.json()["notice"]


def test_the_plan_page_shows_departures_for_each_gathering_point(world: World) -> None:
    plan_made(world)
    answer = world.client.get(f"/operations/{world.operation_id}/plan", headers=world.as_role("observer"))
    assert answer.status_code == 200, answer.text
    for point in ("mashhad", "ansari", "sukkari", "zebdiye", "saif-al-dawla", "amiriyah"):
        assert f'<tr data-point="{point}">' in answer.text
    assert 'id="plan-label"' in answer.text and "Not published" in answer.text


def test_a_shorter_window_is_compared_with_the_plan(world: World) -> None:
    url = f"/operations/{world.operation_id}/plan?deadline=2016-12-16T03:00"
    plan_made(world)
    plan_made(world, "?deadline=2016-12-16T03:00")  # the re-plan is a job of its own
    answer = world.client.get(url, headers=world.coordinator)
    assert answer.status_code == 200, answer.text
    assert 'id="changes"' in answer.text and 'id="compare-summary"' in answer.text


def test_a_deadline_outside_the_window_is_refused_with_the_reason(world: World) -> None:
    plan_made(world)
    for bad in ("2016-12-17T03:00", "tomorrow"):
        answer = world.client.get(
            f"/operations/{world.operation_id}/plan?deadline={bad}", headers=world.coordinator
        )
        assert answer.status_code == 400
        assert 'class="alert bad" role="alert"' in answer.text
        assert 'id="changes"' not in answer.text


def test_only_those_who_may_change_the_operation_ask_for_a_re_plan(world: World) -> None:
    url = f"/operations/{world.operation_id}/plan"
    plan_made(world)
    assert 'id="deadline"' not in world.client.get(url, headers=world.as_role("observer")).text
    refused = world.client.get(f"{url}?deadline=2016-12-16T03:00", headers=world.as_role("observer"))
    assert refused.status_code == 403
    assert 'id="changes"' not in refused.text
    assert 'id="deadline"' in world.client.get(url, headers=world.as_role("planner")).text
