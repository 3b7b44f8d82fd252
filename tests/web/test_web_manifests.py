"""The manifests page in a real browser: assigning people to vehicles, the counts per vehicle and
a vehicle's printable manifest, named only for roles that may read names; English and Arabic."""

from __future__ import annotations

import secrets

import httpx
from playwright.sync_api import Page, expect

from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot


def _ok(answer: httpx.Response) -> None:
    assert answer.status_code < 300, answer.text


def test_manifests_page_builds_and_shows_manifests(
    page: Page, live_server: LiveServer, api: httpx.Client
) -> None:
    tag = secrets.token_hex(3)
    base = f"/api/operations/{live_server.operation_id}"
    # Seats for everyone not yet on a manifest (other tests register people too), so that the new
    # person is on this vehicle whoever else is waiting.
    _ok(api.post(f"{base}/vehicles", json={"code": f"0M-{tag}", "kind": "bus", "seats": 60}))
    _ok(
        api.post(
            f"{base}/households",
            json={"people": [{"name": f"Khaled {tag}", "age_band": "60+", "sex": "male"}]},
        )
    )
    log_in(page, live_server, "coordinator")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/manifests")
    page.get_by_role("button", name="Assign everyone not yet on a manifest").click()
    expect(page.locator("#manifests-result")).to_contain_text("People assigned")
    expect(page.locator(f'tr[data-vehicle="0M-{tag}"] [data-assigned]')).not_to_have_text("0")
    assert problems(page) == []
    screenshot(page, "manifests-en")

    page.context.clear_cookies()
    log_in(page, live_server, "checkpoint_marshal")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/manifests")
    expect(page.get_by_role("button", name="Assign everyone not yet on a manifest")).to_have_count(0)
    assert problems(page) == []
    page.get_by_role("link", name=f"Printable manifest of 0M-{tag}").click()
    expect(page.locator("h1")).to_contain_text(f"0M-{tag}")
    expect(page.locator("#manifest-people")).to_contain_text(f"Khaled {tag}")
    assert problems(page) == []
    screenshot(page, "manifest-vehicle-en")


def test_manifests_page_in_arabic_is_right_to_left(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "planner", lang="ar")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/manifests")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("#manifests-vehicles-h")).to_have_text("المركبات")
    expect(page.locator("#manifests-build")).to_be_visible()
    assert problems(page) == []
    screenshot(page, "manifests-ar")
