"""The risk page in a real browser: the demo operation's convoy plan simulated as a job on the cluster,
followed to its result (the chance everyone is out, people left per gathering point, the fan and tornado
charts); an observer sees the result but cannot start a simulation."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot

SIMULATION = 180_000  # ms: a simulation job on a busy 2-core machine


def test_the_risk_of_the_followed_convoy_plan(page: Page, live_server: LiveServer) -> None:
    operation = live_server.operation_id
    log_in(page, live_server, "coordinator")
    page.goto(f"{live_server.url}/operations/{operation}/risk")
    expect(page.locator("#risk-plan")).to_contain_text("Convoy plan version")
    # The example sets its disruptions ([risk] table): the page says so and simulates under them.
    expect(page.locator("#risk-disruptions")).to_contain_text("sets its disruptions")
    expect(page.locator("#risk-scenario")).to_be_checked()
    assert problems(page) == []
    page.select_option("#risk-runs", "500")
    with page.expect_response(lambda r: r.request.method == "POST", timeout=SIMULATION) as started:
        page.locator("#risk-start").click()
    assert started.value.status == 200, started.value.text()
    page.wait_for_selector("#risk-job", timeout=SIMULATION)  # the cluster may be starting
    page.wait_for_selector("#risk-result", timeout=SIMULATION)  # the page reloads itself when done
    expect(page.locator("#risk-job-state")).to_have_text("done")
    expect(page.locator("#risk-result h2")).to_contain_text("500 runs")
    assert page.locator("#risk-points tbody tr").count() >= 1
    assert page.locator("#risk-damage tbody tr").count() == 6  # each of the scenario's six disruptions ranked
    for chart in ("#risk-fan", "#risk-tornado"):
        expect(page.locator(chart)).to_be_visible()
        image = f"document.querySelector('{chart}')"
        loaded = f"() => {image}.complete && {image}.naturalWidth > 0"
        page.wait_for_function(loaded, timeout=60_000)
    assert problems(page) == []
    screenshot(page, "risk-en")

    # The same question asked again shows the same job, not a new one.
    job = page.locator("#risk-fan").get_attribute("src")
    page.select_option("#risk-runs", "500")
    page.locator("#risk-start").click()
    page.wait_for_selector("#risk-result")
    assert page.locator("#risk-fan").get_attribute("src") == job

    # The chart is an SVG image; a chart of no job is a 404.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=live_server.url, timeout=30, cookies=cookies) as client:
        assert client.get(str(job)).headers["content-type"].startswith("image/svg+xml")
        assert client.get(f"/operations/{operation}/risk/jobs/nope/fan.svg").status_code == 404


def test_an_observer_cannot_start_a_simulation(page: Page, live_server: LiveServer) -> None:
    operation = live_server.operation_id
    log_in(page, live_server, "observer")
    page.goto(f"{live_server.url}/operations/{operation}/risk")
    expect(page.locator("#risk-plan")).to_be_visible()
    assert page.locator("#risk-form").count() == 0
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = page.request.post(
        f"{live_server.url}/operations/{operation}/risk",
        form={"runs": "500", "csrf_token": token},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status == 403
