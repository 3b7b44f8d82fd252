"""Log-in, dashboard, language and log-out in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from corridor.server.web.i18n import languages
from web.a11y import problems, tab_order
from web.conftest import LiveServer, log_in, screenshot


def time_left_shows(page: Page, lang: str) -> None:
    """The demo's ceasefire window runs now: the dashboard says the time left in it, in minutes in
    one of the language's plural forms (Arabic has six), not a dash."""
    said = languages()[lang]
    forms = said.forms("dashboard.minutes")
    assert isinstance(forms, dict)
    minutes = re.compile(
        "^(" + "|".join(re.escape(f).replace(re.escape("{n}"), r"[\d,]+") for f in forms.values()) + ")$"
    )
    figure = page.locator("#live .figures .figure").first
    expect(figure.locator(".label")).to_have_text(said.text("dashboard.time_left"))
    expect(figure.locator(".value")).to_have_text(minutes)


def test_wrong_password_says_so_and_stays_on_the_form(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/login")
    page.fill("#username", "demo-coordinator")
    page.fill("#password", "not the password")
    page.press("#password", "Enter")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    expect(page.locator("#username")).to_have_value("demo-coordinator")


def test_a_page_without_session_goes_to_log_in_and_back(page: Page, live_server: LiveServer) -> None:
    target = f"/operations/{live_server.operation_id}"
    page.goto(live_server.url + target)
    assert "/login" in page.url
    page.fill("#username", "demo-coordinator")
    page.fill("#password", live_server.password("coordinator"))
    page.press("#password", "Enter")
    page.wait_for_url(live_server.url + target)
    expect(page.locator("h1")).to_have_text("East Aleppo 2016 (demo)")


def test_dashboard_shows_counts_and_passes_basic_accessibility(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    page.click("text=East Aleppo 2016 (demo)")
    registered = page.locator('[data-status="registered"]')
    expect(registered).not_to_have_text("0")
    assert int(registered.inner_text()) > 0
    expect(page.locator("svg.curve")).to_be_visible()
    time_left_shows(page, "en")
    assert problems(page) == []
    visited = tab_order(page, 4)
    assert visited[0] == "a:Skip to content"
    screenshot(page, "dashboard-en")


def test_arabic_is_right_to_left_everywhere(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator", lang="ar")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    expect(page.locator("h2#overdue-h")).to_have_text("مركبات متأخرة")
    time_left_shows(page, "ar")
    assert problems(page) == []
    screenshot(page, "dashboard-ar")


def test_observer_sees_counts_but_no_alerts_or_names(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "observer")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}")
    expect(page.locator('[data-status="registered"]')).to_be_visible()
    expect(page.locator("#overdue-h")).to_have_count(0)
    expect(page.locator("#points-h")).to_have_count(0)


def test_log_out_ends_the_session_and_wipes_browser_storage(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    page.evaluate(
        """() => new Promise(done => { const r = indexedDB.open('corridor-test', 1);
        r.onupgradeneeded = () => r.result.createObjectStore('x');
        r.onsuccess = () => { r.result.close(); done(); }; })"""
    )
    page.evaluate("localStorage.setItem('corridor-key', 'secret')")
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#wipe-status")).to_have_attribute("data-wiped", "yes")
    names = page.evaluate("async () => (await indexedDB.databases()).map(d => d.name)")
    assert "corridor-test" not in names
    assert page.evaluate("localStorage.length") == 0
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}")
    assert "/login" in page.url


def test_dashboard_curve_shows_the_plan_beside_reality(page: Page, live_server: LiveServer) -> None:
    """The first visit starts solving the operation's scenario; a later refresh draws the plan."""
    log_in(page, live_server, "coordinator")
    url = f"{live_server.url}/operations/{live_server.operation_id}"
    page.goto(url)
    planned = page.locator("svg.curve polyline.plan")
    for _ in range(60):
        if planned.count():
            break
        page.wait_for_timeout(1000)
        page.goto(url)
    expect(planned).to_have_count(1)
    legend = page.locator("svg.curve text.legend.s1").text_content() or ""
    assert legend.startswith("Planned: ")
    assert int(legend.split(": ")[1]) > 0
