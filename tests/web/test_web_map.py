"""The operation's map in a real browser: Leaflet draws the scenario's own layers (no tiles),
the layer list switches them, and the page passes the basic accessibility checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from corridor.ops.ledger import EventType, ScanEvent
from corridor.server.db import Database
from corridor.server.ledger import service as ledger
from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot

SCENARIO_LAYERS = {"roads", "hazards", "routes", "gathering", "checkpoints", "reception", "route_points"}
# Posted with the page's own session and CSRF token, as the page's scripts would.
POST = """async ([url, body]) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const answer = await fetch(url, {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
  return answer.status;
}"""


def _vehicle_arrived_and_an_incident(page: Page, server: LiveServer) -> None:
    """A bus seen arriving (by a scanner of its own, so that no other test's device sequence
    changes) and an incident with coordinates, reported through the API."""
    db = Database(server.settings.database_url)
    event = ScanEvent(
        event_id=f"map-test-{uuid.uuid4()}",
        device_id=f"map-test-{uuid.uuid4()}",
        seq=1,
        device_time=datetime(2016, 12, 15, 13, 40, tzinfo=UTC),
        type=EventType.ARRIVED,
        payload={"vehicle_id": "BUS-07", "point": "rashideen"},
    )
    try:
        with db.writing() as session:
            (stored,) = ledger.append(
                session, operation_id=server.operation_id, events=[event], validate=lambda e: None
            )
        assert stored.outcome is ledger.Outcome.STORED
    finally:
        db.dispose()
    api = f"{server.url}/api/operations/{server.operation_id}"
    incident = {
        "kind": "shelling",
        "occurred_at": "2016-12-15T16:00:00+02:00",
        "place_name": "west of Ramouseh",
        "lon": 37.118,
        "lat": 36.163,
        "description": "shells near the short road",
    }
    assert page.evaluate(POST, [f"{api}/incidents", incident]) == 201


def drawn_layers(page: Page) -> set[str]:
    """The layers the map script drew (it lists them when it is done)."""
    return set((page.locator("#map").get_attribute("data-layers") or "").split())


def _open_map(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/operations/{server.operation_id}/map")
    # The first load solves the scenario (seconds on a busy machine).
    expect(page.locator("#map")).to_have_attribute("data-ready", "yes", timeout=120_000)


def test_the_map_draws_the_scenario_routes_vehicles_and_incidents(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "coordinator")
    _vehicle_arrived_and_an_incident(page, live_server)
    _open_map(page, live_server)
    drawn = drawn_layers(page)
    assert drawn >= SCENARIO_LAYERS | {"vehicles", "incidents"}
    assert page.locator("#map svg path").count() > 50  # roads, routes, points, closures
    interactive = page.locator("#map path.leaflet-interactive").count()
    assert interactive > 40
    expect(page.locator("#map-layers")).to_be_visible()
    expect(page.locator("#map-layers legend")).to_have_text("Layers")
    expect(page.locator("label", has=page.locator("#layer-vehicles"))).to_contain_text("(")
    expect(page.locator("#map-notice")).to_be_hidden()
    assert problems(page) == []
    screenshot(page, "map-en")

    page.uncheck("#layer-routes")
    assert page.locator("#map path.leaflet-interactive").count() < interactive
    page.check("#layer-routes")
    assert page.locator("#map path.leaflet-interactive").count() == interactive

    page.uncheck("#layer-routes")  # routes run over the points; keep them out of the way
    page.locator("#map path.leaflet-interactive[fill='#111']").first.click(force=True)
    expect(page.locator(".leaflet-popup-content")).to_contain_text("BUS-07: Arrived")


def test_a_marker_tells_what_it_is(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    _open_map(page, live_server)
    page.uncheck("#layer-routes")  # routes run over the points; keep them out of the way
    page.uncheck("#layer-hazards")
    page.locator("#map path.leaflet-interactive[fill='#b35300']").first.click(force=True)
    expect(page.locator(".leaflet-popup-content")).to_contain_text("ramouseh")
    expect(page.locator(".leaflet-popup-close-button")).to_have_attribute("aria-label", "Close")


def test_an_observer_sees_the_map_in_arabic(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "observer", lang="ar")
    _open_map(page, live_server)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("#map-layers legend")).to_have_text("الطبقات")
    drawn = drawn_layers(page)
    assert drawn >= SCENARIO_LAYERS and "incidents" not in drawn  # observers see no incidents
    assert page.locator("#map path.leaflet-interactive").count() > 40
    assert page.locator(".leaflet-control-zoom-in").get_attribute("aria-label") == "تكبير"
    assert problems(page) == []
    screenshot(page, "map-ar")
