"""The plan view in a real browser: departures for every gathering point of the scenario, the
headline figures, and the comparison with a re-plan for a shorter window."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from corridor.scenario.load import load_scenario
from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


def gathering_points() -> set[str]:
    """The nodes where the demo scenario's people wait."""
    return {s.node for s in load_scenario(SCENARIO).sources if s.node}


def _open_plan(page: Page, server: LiveServer, tail: str = "") -> None:
    # The first view solves the scenario (seconds on a busy machine).
    page.set_default_timeout(120_000)
    page.goto(f"{server.url}/operations/{server.operation_id}/plan{tail}")
    page.set_default_timeout(15_000)


def test_the_plan_shows_departures_for_each_gathering_point(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    _open_plan(page, live_server)
    expect(page.locator("#plan-label")).to_contain_text("Not published")
    assert int(page.locator("#plan-evacuated").inner_text()) > 0
    rows = page.locator("table.timeline tbody tr")
    assert {rows.nth(i).get_attribute("data-point") for i in range(rows.count())} == gathering_points()
    for point in gathering_points():
        assert page.locator(f'tr[data-point="{point}"] rect').count() > 0, point
    assert problems(page) == []
    screenshot(page, "plan-en")


def test_a_shorter_window_shows_what_changes(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "planner")
    _open_plan(page, live_server)
    page.fill("#deadline", "2016-12-16T02:00")
    page.set_default_timeout(120_000)
    page.get_by_role("button", name="Plan again and compare").click()
    expect(page.locator("#changes")).to_be_visible()
    page.set_default_timeout(15_000)
    totals = page.locator("#changes tfoot td")
    now, shorter = int(totals.nth(0).inner_text()), int(totals.nth(1).inner_text())
    assert shorter < now  # fewer people get out in a shorter window
    assert page.locator("#changes tbody tr").count() == len(gathering_points())
    assert problems(page) == []
    screenshot(page, "plan-compare-en")


def test_the_plan_in_arabic(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "observer", lang="ar")
    _open_plan(page, live_server)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("#timeline-h")).to_have_text("المغادرات حسب نقطة التجمع")
    assert page.locator("table.timeline tbody tr").count() == len(gathering_points())
    assert problems(page) == []
    screenshot(page, "plan-ar")
