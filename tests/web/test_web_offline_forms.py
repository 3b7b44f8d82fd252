"""Registration and incident reports without a network: the form is kept on the phone (with its
files), the count of waiting forms shows and survives a reload without a network, and once online
each is sent and stored exactly once (a resend of the same form stores nothing more)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect

from web.conftest import SCREENSHOTS, LiveServer, log_in, screenshot


def _phone(browser: Browser) -> BrowserContext:
    """A phone: touch, no mouse (so no desktop key hints)."""
    context = browser.new_context(
        viewport={"width": 412, "height": 860}, locale="en-GB", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    return context


def _ready(page: Page, form: str) -> None:
    expect(page.locator("body")).to_have_attribute("data-kept", "yes")
    expect(page.locator(form)).to_have_attribute("data-outbox", "ready")


def _waiting(page: Page, n: int) -> None:
    expect(page.locator("#outbox")).to_have_attribute("data-count", str(n))


def _people_named(api: httpx.Client, server: LiveServer, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"after": after} if after else {})
        page = api.get(f"/api/operations/{server.operation_id}/people", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        found += [p for p in body["people"] if p["name"] == name]
        after = body["next_after"]
        if after is None:
            return found


def test_a_household_registered_offline_is_stored_once_when_online(
    browser: Browser, live_server: LiveServer, api: httpx.Client
) -> None:
    context = _phone(browser)
    page = context.new_page()
    try:
        log_in(page, live_server, "registrar")
        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/register")
        _ready(page, "#register-form")
        # Ready to type, and no desktop key hints on a phone.
        expect(page.locator("#p-0-name")).to_be_focused()
        expect(page.locator("#register-keys")).to_be_hidden()
        expect(page.locator("#register-submit kbd")).to_be_hidden()

        name = "Offline " + secrets.token_hex(3)
        context.set_offline(True)
        page.fill("#p-0-name", name)
        page.select_option("#p-0-sex", "female")
        page.select_option("#p-0-age_band", "18-59")
        page.click("#register-submit")
        _waiting(page, 1)
        expect(page.locator("#register-kept")).to_contain_text("kept on this phone")
        expect(page.locator("#outbox")).to_contain_text("Waiting to be sent from this phone: 1")
        expect(page.locator("#people .person .name")).to_have_value("")  # ready for the next household
        # The viewport as the phone shows it (a full-page capture re-sizes the page as a desktop
        # would, key hints and all).
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#outbox").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "register-offline-kept.png"))

        page.reload()  # no network: the kept page, and the form still waiting
        _waiting(page, 1)
        assert _people_named(api, live_server, name) == []

        context.set_offline(False)
        _waiting(page, 0)
        expect(page.locator("#outbox")).to_be_hidden()
        [stored] = _people_named(api, live_server, name)

        # The same form sent again (its answer lost): the first send stands, nothing more is stored.
        client_id = "6f0c2a5e-0000-4000-8000-" + secrets.token_hex(6)
        form: dict[str, str | float | bool] = {
            "client_id": client_id,
            "p-0-name": name + " again",
            "p-0-sex": "male",
            "p-0-age_band": "18-59",
        }
        csrf = next(c["value"] for c in context.cookies() if c["name"] == "corridor_csrf")
        url = f"{live_server.url}/operations/{live_server.operation_id}/register"
        first = page.request.post(url, form=form, headers={"X-CSRF-Token": csrf})
        again = page.request.post(url, form=form, headers={"X-CSRF-Token": csrf})
        assert (first.status, again.status) == (201, 200)
        assert len(_people_named(api, live_server, name + " again")) == 1
        assert stored["id"] not in again.text()
        # A client id that is not a UUID is refused, naming it.
        bad = page.request.post(url, form=form | {"client_id": "x'1"}, headers={"X-CSRF-Token": csrf})
        assert bad.status == 422 and "client_id" in bad.text()
    finally:
        context.close()


def test_an_incident_with_a_photo_reported_offline_is_stored_once_in_arabic(
    browser: Browser, live_server: LiveServer, api: httpx.Client
) -> None:
    context = _phone(browser)
    page = context.new_page()
    try:
        log_in(page, live_server, "checkpoint_marshal", lang="ar")
        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/incidents/new")
        _ready(page, "#incident-form")
        # Camera, gallery and files alike: no input that opens the camera alone.
        assert page.get_attribute("#files", "capture") is None
        assert page.get_attribute("#files", "accept") in (None, "")

        words = "Offline shots " + secrets.token_hex(3)
        photo = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(2000)
        context.set_offline(True)
        page.select_option("#kind", "shooting")
        page.fill("#description", words)
        page.set_input_files(
            "#files", files=[FilePayload(name="shots.png", mimeType="image/png", buffer=photo)]
        )
        page.click("#incident-submit")
        _waiting(page, 1)
        expect(page.locator("#incident-kept")).to_contain_text("حُفظ على هذا الهاتف")
        expect(page.locator("#description")).to_have_value("")
        screenshot(page, "incident-offline-kept-ar")

        page.reload()
        _waiting(page, 1)
        context.set_offline(False)
        _waiting(page, 0)

        listed = api.get(f"/api/operations/{live_server.operation_id}/incidents")
        assert listed.status_code == 200, listed.text
        body = listed.json()
        mine = [
            i for i in (body["incidents"] if isinstance(body, dict) else body) if i["description"] == words
        ]
        assert len(mine) == 1
        [evidence] = mine[0]["evidence"]
        assert evidence["sha256"] == hashlib.sha256(photo).hexdigest()
        assert evidence["filename"] == "shots.png"

        # Log-out leaves nothing of the queue (nor its key) in the browser.
        assert "corridor-outbox" in page.evaluate(
            "async () => (await indexedDB.databases()).map(d => d.name)"
        )
        page.locator("form[data-logout] button").click()
        expect(page.locator("#wipe-status")).to_have_attribute("data-wiped", "yes")
        assert page.evaluate("async () => (await indexedDB.databases()).map(d => d.name)") == []
    finally:
        context.close()


def test_a_household_with_a_tracing_consent_waits_for_the_network(
    browser: Browser, live_server: LiveServer, api: httpx.Client
) -> None:
    """The tracing code is given by the server: offline, a household naming a relative is not kept
    (the relative would never get the code); with the relative's name emptied it is."""
    context = _phone(browser)
    page = context.new_page()
    try:
        log_in(page, live_server, "registrar")
        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/register")
        _ready(page, "#register-form")
        name = "Traced " + secrets.token_hex(3)
        context.set_offline(True)
        page.fill("#p-0-name", name)
        page.select_option("#p-0-sex", "male")
        page.select_option("#p-0-age_band", "18-59")
        page.fill("#tracing_relative", "Huda, his sister")
        page.click("#register-submit")
        expect(page.locator("#register-tracing-offline")).to_contain_text("tracing code is given only online")
        expect(page.locator("#tracing_relative")).to_be_focused()
        expect(page.locator("#outbox")).to_be_hidden()
        expect(page.locator("#p-0-name")).to_have_value(name)  # nothing typed is lost

        page.fill("#tracing_relative", "")
        page.click("#register-submit")
        _waiting(page, 1)
        context.set_offline(False)
        _waiting(page, 0)
        [stored] = _people_named(api, live_server, name)
        assert stored["name"] == name
    finally:
        context.close()
