"""Security in a real browser: names and descriptions that are markup never run (in English and
Arabic, on the pages, in htmx fragments and in the map's tooltips); the Content-Security-Policy
refuses nothing the pages need; observers see no name on any page of the demo operation."""

from __future__ import annotations

import secrets
from typing import Any

from playwright.sync_api import ConsoleMessage, Dialog, Page, expect

from web.conftest import LiveServer, log_in

SCRIPT = "<script>alert(1)</script>"
EVIL = '"><img src=x onerror=alert(1)>'


class Watch:
    """What a page did that it must not: dialogs opened (script that ran), policy violations,
    uncaught errors."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.refused.append(message.text)


def _api(page: Page, server: LiveServer, tail: str, body: dict[str, Any]) -> Any:
    """POST to the JSON API with the page's session (cookie and CSRF token), as the pages' own
    scripts do."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "corridor_csrf")
    answer = page.request.post(
        f"{server.url}/api/operations/{server.operation_id}{tail}", data=body, headers={"X-CSRF-Token": csrf}
    )
    assert answer.ok, answer.text()
    return answer.json()


def _hover_map(page: Page) -> list[str]:
    """Open each tooltip of the incidents map in turn (Leaflet fills a tooltip as it opens, and
    removes it as it closes); the text of each, after checking that none holds an element."""
    marks = page.locator("#incident-map path.leaflet-interactive")
    texts = []
    for index in range(marks.count()):
        marks.nth(index).hover(force=True)
        tooltip = page.locator(".leaflet-tooltip")
        if tooltip.count():
            assert tooltip.locator("img, script").count() == 0
            texts.extend(tooltip.all_inner_texts())
    return texts


def test_markup_in_names_places_and_descriptions_never_runs(page: Page, live_server: LiveServer) -> None:
    watch = Watch(page)
    tag = secrets.token_hex(3)
    first, second = f"{SCRIPT} Amal {tag}", f"{EVIL} Omar {tag}"
    log_in(page, live_server, "coordinator")
    op = f"{live_server.url}/operations/{live_server.operation_id}"
    _api(
        page,
        live_server,
        "/incidents",
        {
            "kind": "other",
            "occurred_at": "2016-12-15T10:25:00Z",
            "description": f"{SCRIPT}{EVIL} {tag}",
            "place_name": f"{EVIL}{SCRIPT} {tag}",
            "lat": 36.2,
            "lon": 37.13,
        },
    )
    for lang in ("en", "ar"):
        page.goto(f"{op}/register?lang={lang}")
        page.fill("#p-0-name", first)
        page.select_option("#p-0-sex", "female")
        page.select_option("#p-0-age_band", "18-59")
        if lang == "ar":  # registered already (in English): the duplicate warning names them
            expect(page.locator("#p-0-dups")).to_contain_text(f"Amal {tag}")
        page.click("#add-person")
        page.fill("#p-1-name", second)
        page.select_option("#p-1-sex", "male")
        page.select_option("#p-1-age_band", "18-59")
        page.click("#register-submit")
        expect(page.locator(".registered tbody tr")).to_have_count(2)
        expect(page.locator(".registered")).to_contain_text(first)
        expect(page.locator(".registered")).to_contain_text(second)
        href = page.get_attribute("#print-link", "href")
        assert href is not None
        page.goto(f"{live_server.url}{href}?lang={lang}")
        expect(page.locator("li.band")).to_have_count(2)
        expect(page.locator("li.band", has_text=first)).to_be_visible()

        page.goto(f"{op}/incidents?lang={lang}")
        item = page.locator("li.incident", has_text=tag)
        expect(item).to_contain_text(f"{SCRIPT}{EVIL}")
        expect(page.locator("#incident-map")).to_be_visible()
        shown = " ".join(_hover_map(page))
        assert f"{EVIL}{SCRIPT} {tag}" in shown, shown
    assert page.locator("img[src='x']").count() == 0
    assert watch.dialogs == []
    assert watch.errors == []


def test_the_content_security_policy_refuses_nothing_the_pages_need(
    page: Page, live_server: LiveServer
) -> None:
    watch = Watch(page)
    log_in(page, live_server, "coordinator")
    op = f"{live_server.url}/operations/{live_server.operation_id}"
    answer = page.goto(op)
    assert answer is not None
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    pages = (
        "",
        "/register",
        "/manifests",
        "/manifests/BUS-01",
        "/incidents",
        "/sitrep",
        "/scan",
        "/map",
        "/plan",
    )
    for tail in pages:
        for lang in ("en", "ar"):
            page.goto(f"{op}{tail}?lang={lang}")
            page.wait_for_load_state("networkidle")
    # htmx works (its requests carry the CSRF token from the body's hx-headers).
    page.goto(f"{op}/register")
    page.fill("#p-0-name", "Policy Check " + secrets.token_hex(3))
    page.select_option("#p-0-sex", "female")
    page.select_option("#p-0-age_band", "18-59")
    page.click("#register-submit")
    expect(page.locator("#registered-h")).to_be_visible()
    # The print button of a manifest runs from a file, not an inline handler.
    page.goto(f"{op}/manifests/BUS-01")
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.click("#print-manifest")
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
    assert watch.refused == []
    assert watch.errors == []
    assert watch.dialogs == []


def test_an_observer_sees_no_name_on_any_page_of_the_demo_operation(
    page: Page, live_server: LiveServer
) -> None:
    tag = secrets.token_hex(3)
    names = [f"Observer Check {tag}", f"مراقب فحص {tag}"]
    log_in(page, live_server, "registrar")
    made = _api(
        page,
        live_server,
        "/households",
        {
            "gathering_point": "amiriyah",
            "people": [{"name": n, "age_band": "18-59", "sex": "female"} for n in names],
        },
    )
    ids = [p["id"] for p in made["people"]]
    page.context.clear_cookies()
    log_in(page, live_server, "observer")
    op = f"/operations/{live_server.operation_id}"
    paths = [
        "/",
        op,
        f"{op}/live",
        f"{op}/map",
        f"{op}/map.geojson",
        f"{op}/plan",
        f"{op}/sitrep",
        f"{op}/register",
        f"{op}/register/households/{made['id']}/wristbands",
        f"{op}/manifests",
        f"{op}/manifests/BUS-01",
        f"{op}/scan",
        f"{op}/scan/snapshot",
        f"{op}/incidents",
        f"{op}/incidents/new",
    ]
    shown = 0
    for path in paths:
        for lang in ("en", "ar"):
            answer = page.request.get(f"{live_server.url}{path}?lang={lang}", headers={"Accept": "text/html"})
            assert answer.status in (200, 403), (path, answer.status)
            shown += answer.ok
            body = answer.text()
            for secret in [*names, *ids, made["id"], *(i[:8] for i in ids)]:
                assert secret not in body, (path, secret)
    assert shown >= 10
