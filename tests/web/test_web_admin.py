"""Administration in a real browser, in English and Arabic, by keyboard: an operation created,
its window changed and the operation activated, a plan version chosen, a scanner enrolled by QR
code and revoked (its scans then refused), a vehicle added, changed and removed, a user created,
given a role, their password reset and their account disabled; each change then shown on the
administration's list of changes. A marshal gets the 403 page in plain words with a way back.
The dashboard shows the incidents panel and a clearance curve drawn as lines."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from corridor.reports.curves import Series, clearance_svg
from corridor.server.web.i18n import languages
from server.admin_cases import plan_json
from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot

ROUTE = "start; Gate; departure; 0\ncp1; Bridge; checkpoint; 15\nend; Camp; arrival; 40"


def _type(page: Page, selector: str, text: str) -> None:
    """Focus a field and type into it with the keyboard, as a person would."""
    page.focus(selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def _press(page: Page, button: Any) -> None:
    """Reach a button and press it with the keyboard."""
    button.focus()
    page.keyboard.press("Enter")


def _submit(page: Page, button: Any) -> None:
    """Press a form's button with the keyboard and wait until htmx has swapped the answer in and
    settled it (its new forms are then live): the wait is set up before the press, so that an
    answer quicker than the test is not missed."""
    page.evaluate(
        """() => { window.__settled = new Promise((done) =>
        document.body.addEventListener("htmx:afterSettle", () => done(true), { once: true })); }"""
    )
    _press(page, button)
    assert page.evaluate("() => window.__settled") is True


def _done(page: Page, text: str) -> None:
    """The form's answer is shown and has the focus (a screen reader reads it)."""
    result = page.locator("#admin-result")
    expect(result).to_have_text(text)
    expect(result).to_be_focused()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_admin_pages_make_their_changes_by_keyboard(
    page: Page, live_server: LiveServer, api: httpx.Client, lang: str
) -> None:
    t = languages()[lang].text
    tag = secrets.token_hex(3)
    name = f"ops-{lang}-{tag}"  # a code: pages of every operation list it among their data
    log_in(page, live_server, "coordinator", lang=lang)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")

    # Operations: create one with its route and first window.
    page.goto(f"{live_server.url}/admin/operations")
    _type(page, "#op-name", name)
    page.keyboard.press("Tab")
    page.keyboard.type("east-aleppo-2016")
    _type(page, "#op-route", ROUTE)
    page.fill("#op-start", "2026-12-07T06:00")
    page.fill("#op-end", "2026-12-07T18:00")
    _submit(page, page.get_by_role("button", name=t("admin.create_operation")))
    _done(page, t("admin.done.operation_created", name=name))
    assert problems(page) == []
    if lang == "en":
        screenshot(page, "admin-operations-en")
    operation_id = next(o["id"] for o in api.get("/api/operations").json() if o["name"] == name)
    base = f"{live_server.url}/operations/{operation_id}/admin"

    # The operation: a second window, then active; a plan version chosen.
    for people in (30, 40):
        published = api.post(
            f"/api/operations/{operation_id}/plan", json={"plan": plan_json(people), "nodes": {}}
        )
        assert published.status_code == 200, published.text
    page.goto(base)
    page.fill("#w2-start", "2026-12-08T06:00")
    page.fill("#w2-end", "2026-12-08T12:00")
    _submit(page, page.get_by_role("button", name=t("admin.save_windows")))
    _done(page, t("admin.done.windows", n=2))
    _submit(page, page.get_by_role("button", name=t("admin.to_state.active")))
    _done(page, t("admin.done.state", state=t("state.active")))
    expect(page.locator("#op-state")).to_have_text(t("state.active"))
    _submit(page, page.get_by_role("button", name=t("admin.publish_version", version=1)))
    _done(page, t("admin.done.published", version=1))
    expect(page.locator('tr[data-version="1"]')).to_have_class("current")
    assert problems(page) == []
    screenshot(page, f"admin-operation-{lang}")

    # Scanners: enrolled with a QR code; its scans work until it is revoked.
    page.goto(f"{base}/devices")
    _type(page, "#device-id", f"gate-{tag}")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the hint to the description
    page.focus("#device-label")
    page.keyboard.type("Gate phone")
    page.select_option("#device-point", "cp1")
    _submit(page, page.get_by_role("button", name=t("admin.enrol")))
    _done(page, t("admin.done.device", name=f"gate-{tag}"))
    expect(page.locator(".qr-box svg.qr")).to_be_visible()
    token = page.input_value("#enrolment-token")
    assert problems(page) == []
    screenshot(page, f"admin-devices-{lang}")
    event = {
        "device_id": f"gate-{tag}",
        "device_time": "2026-12-07T07:00:00Z",
        "type": "checkpoint",
        "payload": {"person_id": "nobody", "point": "cp1"},
    }
    scanner = {"Authorization": f"Bearer {token}"}
    first = httpx.post(
        f"{live_server.url}/api/operations/{operation_id}/events",
        json={**event, "event_id": f"{tag}-1", "seq": 1},
        headers=scanner,
    )
    assert first.status_code != 401, first.text  # the token is taken (the unknown person is another matter)
    _submit(page, page.get_by_role("button", name=t("admin.revoke", name=f"gate-{tag}")))
    _done(page, t("admin.done.revoked", name=f"gate-{tag}"))
    expect(page.locator(f'tr[data-device="gate-{tag}"] .device-state')).not_to_have_text(t("admin.active"))
    refused = httpx.post(
        f"{live_server.url}/api/operations/{operation_id}/events",
        json={**event, "event_id": f"{tag}-2", "seq": 2},
        headers=scanner,
    )
    assert refused.status_code == 401

    # Vehicles: added, changed, removed.
    page.goto(f"{base}/vehicles")
    _type(page, "#vehicle-code", f"BUS-{tag}")
    _type(page, "#vehicle-seats", "40")
    _submit(page, page.get_by_role("button", name=t("admin.add_vehicle")))
    _done(page, t("admin.done.vehicle_added", name=f"BUS-{tag}"))
    card = page.locator(f'li[data-vehicle="BUS-{tag}"]')
    _press(page, card.locator("summary"))
    _type(page, "#v-1-seats", "12")
    _submit(page, card.get_by_role("button", name=t("admin.save_vehicle")))
    _done(page, t("admin.done.vehicle_changed", name=f"BUS-{tag}"))
    expect(page.locator(f'li[data-vehicle="BUS-{tag}"] .vehicle-summary')).to_contain_text("12")
    assert problems(page) == []
    screenshot(page, f"admin-vehicles-{lang}")
    card = page.locator(f'li[data-vehicle="BUS-{tag}"]')
    _press(page, card.locator("summary"))
    _submit(page, card.get_by_role("button", name=t("admin.remove_vehicle", name=f"BUS-{tag}")))
    _done(page, t("admin.done.vehicle_removed", name=f"BUS-{tag}"))
    expect(page.locator(f'li[data-vehicle="BUS-{tag}"]')).to_have_count(0)

    # Users: created with a role, password reset, disabled.
    user = f"user-{lang}-{tag}"
    page.goto(f"{live_server.url}/admin/users")
    _type(page, "#new-username", user)
    page.keyboard.press("Tab")
    page.keyboard.type("a long first password")
    page.select_option("#new-user-op", operation_id)
    page.select_option("#new-user-role", "registrar")
    _submit(page, page.get_by_role("button", name=t("admin.create_user")))
    _done(page, t("admin.done.user_created", name=user))
    card = page.locator(f'li[data-user="{user}"]')
    expect(card.locator(".role")).to_have_text(f"{t('role.registrar')} · {name}")
    _press(page, card.locator("summary"))
    _submit(page, card.get_by_role("button", name=t("admin.reset_password")))
    _done(page, t("admin.done.password", name=user))
    new_password = page.input_value("#new-password")
    login = httpx.post(f"{live_server.url}/api/auth/token", data={"username": user, "password": new_password})
    assert login.status_code == 200
    card = page.locator(f'li[data-user="{user}"]')
    _press(page, card.locator("summary"))
    _submit(page, card.get_by_role("button", name=t("admin.disable")))
    _done(page, t("admin.done.disabled", name=user))
    expect(page.locator(f'li[data-user="{user}"] h3')).to_contain_text(t("admin.disabled"))
    assert problems(page) == []
    screenshot(page, f"admin-users-{lang}")

    # Members: a role in this operation given and taken.
    page.goto(f"{base}/members")
    _type(page, "#member-username", "demo-monitor")
    page.select_option("#member-role", "monitor")
    _submit(page, page.get_by_role("button", name=t("admin.set_member")))
    _done(page, t("admin.done.member_set", name="demo-monitor", role=t("role.monitor")))
    expect(page.locator('tr[data-member="demo-monitor"] .member-role')).to_have_text(t("role.monitor"))
    assert problems(page) == []
    screenshot(page, f"admin-members-{lang}")
    _submit(page, page.get_by_role("button", name=t("admin.take_role", name="demo-monitor")))
    _done(page, t("admin.done.member_revoked", name="demo-monitor", role=t("role.monitor")))
    expect(page.locator('tr[data-member="demo-monitor"]')).to_have_count(0)

    # Every change is on the administration's list of changes.
    page.goto(f"{live_server.url}/admin")
    log = page.locator("table.admin-log")
    for action, path in (
        ("operation_created", f"/admin/operations/{operation_id}"),
        ("operation_windows_changed", f"/operations/{operation_id}/admin/windows"),
        ("operation_state_changed", f"/operations/{operation_id}/admin/state/active"),
        ("plan_published", f"/operations/{operation_id}/admin/plans/1/publish"),
        ("device_registered", f"/operations/{operation_id}/admin/devices/gate-{tag}"),
        ("device_revoked", f"/operations/{operation_id}/admin/devices/gate-{tag}/revoke"),
        ("vehicle_added", f"/operations/{operation_id}/admin/vehicles/BUS-{tag}"),
        ("vehicle_changed", f"/operations/{operation_id}/admin/vehicles/BUS-{tag}"),
        ("vehicle_removed", f"/operations/{operation_id}/admin/vehicles/BUS-{tag}/remove"),
        ("user_created", f"/admin/users/{user}"),
        ("member_granted", f"/admin/users/{user}/registrar"),
        ("user_password_reset", f"/admin/users/{user}/password"),
        ("user_disabled", f"/admin/users/{user}/disable"),
        ("member_granted", f"/operations/{operation_id}/admin/members/demo-monitor/monitor"),
        ("member_revoked", f"/operations/{operation_id}/admin/members/demo-monitor/monitor/revoke"),
    ):
        rows = log.locator("tr", has=page.locator(f'code:text-is("{path}")'))
        expect(rows.filter(has_text=t(f"admin.action.{action}"))).to_have_count(1)
    assert problems(page) == []
    screenshot(page, f"admin-home-{lang}")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_marshal_is_refused_in_plain_words_and_the_dashboard_shows_incidents(
    page: Page, live_server: LiveServer, api: httpx.Client, lang: str
) -> None:
    t = languages()[lang].text
    operation = f"{live_server.url}/operations/{live_server.operation_id}"
    # Incidents in an operation of this test's own, so that the demo operation's pages stay as
    # other tests expect them.
    made = api.post(
        "/api/operations",
        json={
            "name": f"incidents-{lang}-{secrets.token_hex(3)}",
            "scenario_name": "no-scenario",
            "route": [
                {"id": "start", "name": "Gate", "kind": "departure", "expected_minutes": 0},
                {"id": "end", "name": "Camp", "kind": "arrival", "expected_minutes": 30},
            ],
            "windows": [{"start": "2026-12-07T06:00:00Z", "end": "2026-12-07T18:00:00Z"}],
        },
    )
    assert made.status_code == 201, made.text
    own = made.json()["id"]
    for kind, minute in (("obstruction", 10), ("obstruction", 20), ("shelling", 30)):
        reported = api.post(
            f"/api/operations/{own}/incidents",
            json={"kind": kind, "occurred_at": f"2026-12-07T06:{minute}:00Z", "description": "seen"},
        )
        assert reported.status_code == 201, reported.text

    log_in(page, live_server, "checkpoint_marshal", lang=lang)
    # Follow a link to the administration from the list of operations (as a shared link would).
    with page.expect_navigation():
        page.evaluate("url => { location.href = url; }", f"{operation}/admin")
    expect(page.locator("p.alert.bad")).to_have_text(
        t("error.forbidden", what=t("forbidden.operation_update"))
    )
    expect(page.locator("main")).not_to_contain_text("operation.update")
    assert problems(page) == []
    screenshot(page, f"forbidden-{lang}")
    expect(page.get_by_role("link", name=t("error.home"))).to_have_attribute("href", "/")
    _press(page, page.get_by_role("link", name=t("error.back")))
    page.wait_for_url(f"{live_server.url}/")

    page.context.clear_cookies()
    log_in(page, live_server, "coordinator", lang=lang)
    page.goto(f"{live_server.url}/operations/{own}")
    panel = page.locator("#incidents-panel")
    # The panel loads after the page (the first visit of a dashboard may be busy planning).
    expect(panel.locator('li[data-kind="obstruction"]')).to_contain_text(
        t("incidents.kind_obstruction"), timeout=30_000
    )
    expect(panel.locator('li[data-kind="obstruction"] b')).to_have_text("2")
    expect(panel.locator('li[data-kind="shelling"] b')).to_have_text("1")
    expect(panel.locator("ol.incident-latest li").first).to_contain_text(t("incidents.kind_shelling"))
    total = sum(int(n) for n in panel.locator("li[data-kind] b").all_inner_texts())
    expect(panel.get_by_role("link", name=t("dashboard.incidents_all", n=total))).to_have_attribute(
        "href", f"/operations/{own}/incidents"
    )
    # The clearance curve: lines, never filled areas.
    fills = page.evaluate(
        "() => [...document.querySelectorAll('svg.curve polyline')].map(e => getComputedStyle(e).fill)"
    )
    assert fills and set(fills) == {"none"}, fills
    icon = page.evaluate("() => document.querySelector('link[rel=icon]').href")
    assert icon.endswith("/favicon.ico")
    assert problems(page) == []
    screenshot(page, f"dashboard-incidents-{lang}")
    # With a planned line too (the demo's plan may still be solving): the page's stylesheet over
    # the curve as the service draws it.
    start = datetime(2026, 12, 7, 6, tzinfo=UTC)
    planned = [(start + timedelta(hours=h), h * 10) for h in range(1, 11)]
    svg = clearance_svg(
        [Series("arrived", planned[:3], "reality"), Series("planned", planned, "plan")],
        start=start,
        end=start + timedelta(hours=12),
        total=100,
        title="curve",
    )
    fills = page.evaluate(
        """svg => { const box = document.createElement('div'); box.innerHTML = svg;
        document.querySelector('main').append(box);
        return [...box.querySelectorAll('polyline')].map(e => getComputedStyle(e).fill); }""",
        svg,
    )
    assert fills == ["none", "none"], fills
