"""Plan jobs in a real browser: the plan page starts the job that makes the operation's plan and
follows its progress; a reload finds the same job; the plan appears when it is done. A re-plan for
a shorter window is a job too, and a job can be cancelled (a reload does not start it again). The
convoy page follows its own plan job the same way, and a convoy re-plan is a job (in Arabic)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import Page, expect

from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot
from web.convoy_job import publish_convoy

ROUTE = [
    {"id": "amiriyah", "name": "al-Amiriyah crossing", "kind": "departure", "expected_minutes": 0},
    {"id": "rashideen", "name": "al-Rashideen", "kind": "arrival", "expected_minutes": 55},
]
PLAN = 180_000  # ms: a plan on a busy 2-core machine


@contextmanager
def _operation(live_server: LiveServer, convoy: bool = False) -> Iterator[str]:
    """An operation of its own on the example's scenario, with no plan published (or its convoy
    plan published when ``convoy``); its jobs cancelled at the end."""
    with httpx.Client(base_url=live_server.url, timeout=120) as api:
        token = api.post(
            "/api/auth/token",
            data={"username": "demo-coordinator", "password": live_server.password("coordinator")},
        )
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        made = api.post(
            "/api/operations",
            json={
                "name": f"Jobs {secrets.token_hex(3)}",
                "scenario_name": "east-aleppo-2016",
                "route": ROUTE,
            },
        )
        assert made.status_code == 201, made.text
        operation_id: str = made.json()["id"]
        member = {"username": "demo-planner", "role": "planner"}
        assert api.post(f"/api/operations/{operation_id}/members", json=member).status_code == 204
        if convoy:
            publish_convoy(api, operation_id)
        yield operation_id
        for job in api.get(f"/api/operations/{operation_id}/jobs").json():  # leave the workers free
            api.post(f"/api/operations/{operation_id}/jobs/{job['id']}/cancel")


@pytest.fixture(scope="module")
def operation(live_server: LiveServer) -> Iterator[str]:
    """An operation of its own on the example's scenario, with no plan published."""
    with _operation(live_server) as operation_id:
        yield operation_id


@pytest.fixture(scope="module")
def convoy_operation(live_server: LiveServer) -> Iterator[str]:
    """An operation of its own with the example's convoy plan published."""
    with _operation(live_server, convoy=True) as operation_id:
        yield operation_id


def _job_url(page: Page) -> str:
    return page.locator("#job").get_attribute("hx-get") or ""


def test_the_plan_page_follows_the_job_across_a_reload(
    page: Page, live_server: LiveServer, operation: str
) -> None:
    log_in(page, live_server, "planner")
    page.goto(f"{live_server.url}/operations/{operation}/plan")
    # The first visit starts the job on the cluster; the page shows it at once.
    expect(page.locator("#job")).to_be_visible()
    expect(page.locator("#job-state")).to_have_text(re.compile("waiting for a worker|running|done"))
    assert problems(page) == []
    screenshot(page, "plan-job-en")
    page.wait_for_selector("#plan-label", timeout=PLAN)  # the page reloads itself when the plan is made
    expect(page.locator("#plan-label")).to_contain_text("Not published")
    assert int(page.locator("#plan-evacuated").inner_text()) > 0
    page.reload()
    expect(page.locator("#plan-label")).to_contain_text("Not published")
    assert page.locator("#job").count() == 0  # the plan is kept: no job, no planning again

    # A re-plan for a shorter window (a deadline asked of no worker before): progress, a reload
    # that finds the same job, then the comparison.
    page.fill("#deadline", "2016-12-16T06:17")
    page.get_by_role("button", name="Plan again and compare").click()
    expect(page.locator("#job")).to_be_visible()
    first = _job_url(page)
    expect(page.locator("#job-progress")).to_be_attached()
    page.reload()
    if page.locator("#job").count():
        assert _job_url(page) == first  # the same job, followed again
    page.wait_for_selector("#changes", timeout=PLAN)
    totals = page.locator("#changes tfoot td")
    assert int(totals.nth(1).inner_text()) <= int(totals.nth(0).inner_text())


def test_a_job_can_be_cancelled(page: Page, live_server: LiveServer, operation: str) -> None:
    log_in(page, live_server, "planner")
    page.goto(f"{live_server.url}/operations/{operation}/plan")
    page.wait_for_selector("#plan-label", timeout=PLAN)
    page.fill("#deadline", "2016-12-16T06:53")
    page.get_by_role("button", name="Plan again and compare").click()
    expect(page.locator("#job-cancel")).to_be_visible()
    page.locator("#job-cancel").click()
    expect(page.locator("#job-state")).to_have_text("cancelled")
    expect(page.locator("#job-cancelled")).to_be_visible()
    assert page.locator("#job-progress").count() == 0
    page.reload()  # a cancelled job stays cancelled: reading the page does not start it again
    expect(page.locator("#job-state")).to_have_text("cancelled")
    assert page.locator("#changes").count() == 0
    expect(page.locator("#job-again")).to_be_visible()
    screenshot(page, "plan-job-cancelled-en")


def test_the_convoy_page_follows_its_plan_job_across_a_reload(
    page: Page, live_server: LiveServer, operation: str
) -> None:
    log_in(page, live_server, "planner")
    page.goto(f"{live_server.url}/operations/{operation}/convoy")
    # No convoy plan yet: planning it is a job on the cluster, which the page follows.
    page.locator("#convoy-plan").click()
    expect(page.locator("#job")).to_be_visible()
    expect(page.locator("#job")).to_contain_text("The convoy plan is being made on the cluster")
    job = page.locator("#job").get_attribute("data-job")
    assert problems(page) == []
    page.reload()
    # The same job, followed again; or none, if it ended meanwhile (read at once: the page swaps the
    # card for the plan when the job ends, between two separate looks).
    followed = page.evaluate("document.querySelector('#job')?.dataset.job ?? null")
    assert followed in (job, None)
    # Made and published: the page reloads itself and shows it as the operation's convoy plan.
    page.wait_for_selector("#convoy-evacuated", timeout=PLAN)
    expect(page.locator("#convoy-label")).to_contain_text("version 1")
    assert page.locator("#job").count() == 0
    screenshot(page, "convoy-job-en")


def test_the_convoy_job_card_in_arabic(page: Page, live_server: LiveServer, convoy_operation: str) -> None:
    log_in(page, live_server, "planner", lang="ar")
    page.goto(f"{live_server.url}/operations/{convoy_operation}/convoy/replan")
    page.select_option("#closed", "checkpoint:ramouseh")
    page.locator("#replan-run").click()
    # The re-plan is a job: its card in the reader's language, then what it changes.
    expect(page.locator("#job")).to_contain_text("إعادة تخطيط القافلة")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert problems(page) == []
    page.wait_for_selector("#diff", timeout=PLAN)
    page.reload()  # the re-plan is kept with its job: a reload shows it again, ready to publish
    expect(page.locator("#replan-publish")).to_be_visible()
