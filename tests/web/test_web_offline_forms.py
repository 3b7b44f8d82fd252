"""Registration and incident reports without a network, in English and in Arabic: the form is kept
on the phone (with its files), the count of waiting forms shows (in the language's plural form) and
survives a reload without a network, and once online each is sent and stored exactly once (a resend
of the same form stores nothing more)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect

from corridor.server.web.i18n import languages
from web.conftest import SCREENSHOTS, LiveServer, log_in, screenshot
from web.test_web_arabic_text import english_words


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


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_households_registered_offline_are_stored_once_when_online(
    browser: Browser, live_server: LiveServer, api: httpx.Client, lang: str
) -> None:
    said = languages()[lang]
    context = _phone(browser)
    page = context.new_page()
    try:
        log_in(page, live_server, "registrar", lang=lang)
        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/register")
        _ready(page, "#register-form")
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        # Ready to type, and no desktop key hints on a phone.
        expect(page.locator("#p-0-name")).to_be_focused()
        expect(page.locator("#register-keys")).to_be_hidden()
        expect(page.locator("#register-submit kbd")).to_be_hidden()

        tag = secrets.token_hex(3)
        names = {
            "en": [f"Offline {tag}", f"Offline {tag} two"],
            "ar": [f"غياب {tag}", f"غياب {tag} ثان"],
        }[lang]
        count = page.locator("#outbox .outbox-count")
        context.set_offline(True)
        for number, name in enumerate(names, start=1):
            row = page.locator("#people .person").first  # the form's row, made anew for each household
            row.locator(".name").fill(name)
            row.locator("select[name$='-sex']").select_option("female")
            row.locator("select[name$='-age_band']").select_option("18-59")
            page.click("#register-submit")
            _waiting(page, number)
            expect(page.locator("#register-kept")).to_have_text(said.text("offline.saved"))
            expect(page.locator("#people .person .name")).to_have_value("")  # ready for the next household
        # The count in the language's plural form for two (Arabic has a form of its own for two).
        expect(count).to_have_text(said.text("offline.waiting", n=2))
        if lang == "ar":
            expect(count).to_have_text("استمارتان بانتظار الإرسال من هذا الهاتف")
            expect(page.locator("#register-kept")).to_contain_text("حُفظ على هذا الهاتف")
            shown = english_words(page.locator("#outbox, #register-result").all_inner_texts(), [])
            assert shown == [], "\n".join(shown)
        else:
            expect(count).to_have_text("2 forms waiting to be sent from this phone")
        # The viewport as the phone shows it (a full-page capture re-sizes the page as a desktop
        # would, key hints and all).
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#outbox").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"register-offline-kept-{lang}.png"))

        page.reload()  # no network: the kept page, and the forms still waiting
        _waiting(page, 2)
        expect(count).to_have_text(said.text("offline.waiting", n=2))
        assert [_people_named(api, live_server, name) for name in names] == [[], []]

        context.set_offline(False)
        _waiting(page, 0)
        expect(page.locator("#outbox")).to_be_hidden()
        stored = [_people_named(api, live_server, name) for name in names]
        assert [len(found) for found in stored] == [1, 1]  # each stored exactly once

        # The same form sent again (its answer lost): the first send stands, nothing more is stored.
        client_id = "6f0c2a5e-0000-4000-8000-" + secrets.token_hex(6)
        form: dict[str, str | float | bool] = {
            "client_id": client_id,
            "p-0-name": names[0] + " again",
            "p-0-sex": "male",
            "p-0-age_band": "18-59",
        }
        csrf = next(c["value"] for c in context.cookies() if c["name"] == "corridor_csrf")
        url = f"{live_server.url}/operations/{live_server.operation_id}/register"
        first = page.request.post(url, form=form, headers={"X-CSRF-Token": csrf})
        again = page.request.post(url, form=form, headers={"X-CSRF-Token": csrf})
        assert (first.status, again.status) == (201, 200)
        assert len(_people_named(api, live_server, names[0] + " again")) == 1
        assert stored[0][0]["id"] not in again.text()
        # A client id that is not a UUID is refused, naming it.
        bad = page.request.post(url, form=form | {"client_id": "x'1"}, headers={"X-CSRF-Token": csrf})
        assert bad.status == 422 and "client_id" in bad.text()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_incident_with_a_photo_reported_offline_is_stored_once(
    browser: Browser, live_server: LiveServer, api: httpx.Client, lang: str
) -> None:
    said = languages()[lang]
    context = _phone(browser)
    page = context.new_page()
    try:
        log_in(page, live_server, "checkpoint_marshal", lang=lang)
        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/incidents/new")
        _ready(page, "#incident-form")
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
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
        count = page.locator("#outbox .outbox-count")
        expect(page.locator("#incident-kept")).to_have_text(said.text("offline.saved"))
        expect(count).to_have_text(said.text("offline.waiting", n=1))
        if lang == "ar":
            expect(page.locator("#incident-kept")).to_contain_text("حُفظ على هذا الهاتف")
            expect(count).to_have_text("استمارة واحدة بانتظار الإرسال من هذا الهاتف")
        expect(page.locator("#description")).to_have_value("")
        screenshot(page, f"incident-offline-kept-{lang}")

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
