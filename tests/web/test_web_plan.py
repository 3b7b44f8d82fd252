"""The plan view in a real browser: departures for every gathering point of the scenario, the
headline figures, the comparison with a re-plan for a shorter window, and the comparison of two
published plan versions."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from corridor.problem.build import compile_problem
from corridor.scenario.load import load_scenario
from corridor.server.seed import DEMO_PLAN
from corridor.solve import solve
from corridor.solve.pipeline import check_file
from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


def gathering_points() -> set[str]:
    """The nodes where the demo scenario's people wait."""
    return {s.node for s in load_scenario(SCENARIO).sources if s.node}


def _open_plan(page: Page, server: LiveServer, tail: str = "") -> None:
    # The first view starts the job that plans the scenario on the cluster and follows it; the
    # page reloads itself with the plan when it is made (seconds on a busy machine).
    page.goto(f"{server.url}/operations/{server.operation_id}/plan{tail}")
    page.wait_for_selector("#plan-label", timeout=180_000)


def test_the_plan_shows_departures_for_each_gathering_point(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    _open_plan(page, live_server)
    # The demo operation has the example's plan as version 1 when `make run` had written it.
    expect(page.locator("#plan-label")).to_contain_text(
        "version 1" if DEMO_PLAN.is_file() else "Not published"
    )
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
    page.get_by_role("button", name="Plan again and compare").click()
    page.wait_for_selector("#changes", timeout=180_000)  # the re-plan is a job too
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


ROUTE = [
    {"id": "amiriyah", "name": "al-Amiriyah crossing", "kind": "departure", "expected_minutes": 0},
    {"id": "ramouseh", "name": "Ramouseh checkpoint", "kind": "checkpoint", "expected_minutes": 25},
    {"id": "rashideen", "name": "al-Rashideen", "kind": "arrival", "expected_minutes": 55},
]
NODES = {"amiriyah": "amiriyah-crossing", "ramouseh": "ramouseh-checkpoint"}


@pytest.fixture(scope="module")
def versioned(live_server: LiveServer) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An operation of its own with two published plans: the example to its deadline, then to
    02:00 (solved here, once for the module); its id and the plans as published."""
    checked = check_file(SCENARIO)
    earlier = checked.scenario.model_copy(
        update={"deadline": datetime.fromisoformat("2016-12-16T02:00+02:00")}
    )
    shorter, _ = compile_problem(earlier, checked.network)
    assert checked.problem is not None and shorter is not None
    plans = [solve(p, quickest=False).to_dict() for p in (checked.problem, shorter)]
    with httpx.Client(base_url=live_server.url, timeout=60) as api:
        token = api.post(
            "/api/auth/token",
            data={"username": "demo-coordinator", "password": live_server.password("coordinator")},
        )
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        made = api.post(
            "/api/operations",
            json={
                "name": f"Versions {secrets.token_hex(3)}",
                "scenario_name": "east-aleppo-2016",
                "route": ROUTE,
            },
        )
        assert made.status_code == 201, made.text
        operation_id = made.json()["id"]
        member = {"username": "demo-planner", "role": "planner"}
        assert api.post(f"/api/operations/{operation_id}/members", json=member).status_code == 204
        for plan in plans:
            published = api.post(f"/api/operations/{operation_id}/plan", json={"plan": plan, "nodes": NODES})
            assert published.status_code == 200, published.text
    yield operation_id, plans


def _totals(page: Page) -> list[str]:
    return [c.inner_text() for c in page.locator("#changes tfoot td").all()[:3]]


def test_two_published_versions_show_what_changed(
    page: Page, live_server: LiveServer, versioned: tuple[str, list[dict[str, Any]]]
) -> None:
    operation_id, (full, earlier) = versioned
    log_in(page, live_server, "planner")
    page.goto(f"{live_server.url}/operations/{operation_id}/plan")
    expect(page.locator("#plan-label")).to_contain_text("published plan, version 2")
    assert page.locator("#plan-evacuated").inner_text() == str(earlier["evacuated"])
    expect(page.locator("#version-a")).to_have_value("1")
    expect(page.locator("#version-b")).to_have_value("2")
    a, b = full["evacuated"], earlier["evacuated"]
    assert _totals(page) == [str(a), str(b), f"{b - a:+d}"]
    assert page.locator("#changes tbody tr").count() == len(gathering_points())
    expect(page.locator("#changes thead")).to_contain_text("Version 1")
    assert page.locator("#deadline").count() == 0  # versions, not a re-plan
    assert problems(page) == []
    screenshot(page, "plan-versions-en")

    page.select_option("#version-a", "2")
    page.select_option("#version-b", "1")
    page.get_by_role("button", name="Compare versions").click()
    page.wait_for_url("**a=2&b=1**")
    assert _totals(page) == [str(b), str(a), f"{a - b:+d}"]


def test_two_published_versions_in_arabic(
    page: Page, live_server: LiveServer, versioned: tuple[str, list[dict[str, Any]]]
) -> None:
    operation_id, (full, earlier) = versioned
    log_in(page, live_server, "coordinator", lang="ar")
    page.goto(f"{live_server.url}/operations/{operation_id}/plan")
    expect(page.locator("#versions-h")).to_have_text("ما الذي تغيّر بين الإصدارات المنشورة")
    expect(page.locator("#plan-label")).to_contain_text("الإصدار 2")
    assert _totals(page)[:2] == [str(full["evacuated"]), str(earlier["evacuated"])]
    assert problems(page) == []
    screenshot(page, "plan-versions-ar")
