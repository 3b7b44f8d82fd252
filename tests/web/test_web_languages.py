"""Points of the staff's screens in English and in Arabic, in a real browser: the scanning phone's
roster of its route point (the list of people it holds, an unknown code), and the Notices page (its
labels, the notices' titles, a poster, what went out). In Arabic the page is right to left, says
Arabic words and leaves no English label: only data (names, codes, places) stays as written."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from babel import Locale
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from corridor.reports.notice_words import words as notice_words
from corridor.server.web.i18n import languages
from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot
from web.test_web_arabic_text import COLLECT, english_words
from web.test_web_scan import Party, answer_is, make_party, open_scan, scan, waiting

ARABIC = re.compile("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]")
POINT, POINT_NAME = "amiriyah", "al-Amiriyah crossing"


@pytest.fixture(scope="module")
def party(live_server: LiveServer) -> Party:
    """People of this module on their own vehicles: one scanned in each language."""
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        token = api.post(
            "/api/auth/token",
            data={"username": "demo-coordinator", "password": live_server.password("coordinator")},
        ).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        return make_party(api, live_server)


def _roster_size(api: httpx.Client, server: LiveServer, point: str) -> int:
    answer = api.get(f"/api/operations/{server.operation_id}/roster", params={"point": point})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["full"] is True
    return len(body["people"])


def _said_with_count(lang: str, key: str, n: int) -> re.Pattern[str]:
    """The message ``key`` in the plural form of ``n`` (CLDR's, as the page's script picks it),
    with any other value free."""
    forms = languages()[lang].forms(key)
    assert isinstance(forms, dict), key
    template = forms.get(Locale.parse(lang).plural_form(n), forms["other"])
    pattern = re.escape(template).replace(re.escape("{n}"), str(n))
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", ".+", pattern) + "$")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_phone_roster_in_each_language(
    page: Page, live_server: LiveServer, api: httpx.Client, party: Party, lang: str
) -> None:
    """The phone holds the roster of the point it scans at, says how many people that is in the
    page's language (Arabic has six plural forms), judges a code on it, and says "unknown here" of
    a code that is not."""
    said = languages()[lang]
    person = party.family[0 if lang == "en" else 1]
    log_in(page, live_server, "checkpoint_marshal", lang=lang)
    open_scan(page, live_server)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.select_option("#scan-point", POINT)
    page.select_option("#scan-vehicle", party.vehicle)
    expect(page.locator("#scan")).to_have_attribute("data-fetched", "yes")
    size = _roster_size(api, live_server, POINT)
    assert size >= len(party.family)
    expect(page.locator("#scan-snapshot")).to_have_text(_said_with_count(lang, "scan.snapshot", size))
    scan(page, person.wristband)
    answer_is(page, "expected", person.name)
    expect(page.locator("#scan-answer .answer-head")).to_have_text(
        f"{said.text('scan.expected')} · {person.name}"
    )
    expect(page.locator("#scan-answer .answer-note")).to_have_text(said.text("scan.recorded"))
    waiting(page, 0)
    expect(page.locator("#scan-queue")).to_have_text(said.text("scan.queue_none"))
    code = f"NOT-HERE-{lang.upper()}"
    scan(page, code)
    expect(page.locator("#scan-answer")).to_have_attribute("data-outcome", "flagged")
    expect(page.locator("#scan-answer .answer-detail")).to_contain_text(
        said.text("scan.unknown_here", code=code)
    )
    if lang == "ar":
        expect(page.locator("#scan-snapshot")).to_contain_text("قائمة الأشخاص من")
        expect(page.locator("#scan-answer .answer-detail")).to_contain_text("غير معروف هنا")
        texts = page.evaluate(COLLECT)
        data = [person.name, code, party.vehicle, POINT_NAME, _operation_name(api, live_server)]
        found = english_words(texts, [*data, *_vehicles_and_points(api, live_server)])
        assert found == [], "\n".join(found)
    else:
        expect(page.locator("#scan-snapshot")).to_contain_text("List of people from")
        expect(page.locator("#scan-answer .answer-detail")).to_contain_text("Unknown here")
    assert problems(page) == []
    screenshot(page, f"scan-roster-{lang}")


def _operation_name(api: httpx.Client, server: LiveServer) -> str:
    answer = api.get(f"/api/operations/{server.operation_id}")
    assert answer.status_code == 200, answer.text
    name: str = answer.json()["name"]
    return name


def _vehicles_and_points(api: httpx.Client, server: LiveServer) -> list[str]:
    """What the scan screen lists as data: the vehicles' codes and the route's points' names."""
    base = f"/api/operations/{server.operation_id}"
    vehicles = api.get(f"{base}/vehicles").json()
    route = api.get(base).json().get("route") or []
    return [*(v["code"] for v in vehicles), *(p["name"] for p in route)]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_notices_page_in_each_language(
    page: Page, live_server: LiveServer, api: httpx.Client, lang: str
) -> None:
    w = notice_words(lang)
    log_in(page, live_server, "coordinator", lang=lang)
    url = f"{live_server.url}/operations/{live_server.operation_id}/notices"
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    title = {"en": "Notices", "ar": "الإعلانات"}[lang]
    assert w.text("staff.title") == title
    expect(page.locator("h1")).to_contain_text(f"{title}: ")
    expect(page.locator("#current-h")).to_have_text(w.text("staff.current"))
    headings = ["staff.notice", "staff.version", "staff.issued", "staff.basis", "staff.sent", "staff.posters"]
    assert page.locator("#notices thead th").all_inner_texts() == [w.text(k) for k in headings]
    rows = page.locator("#notices tbody tr")
    assert rows.count() >= 6  # the demo's notices, one per gathering point and group
    opening = {"en": "Evacuation notice: ", "ar": "إعلان الإجلاء: "}[lang]
    for text in rows.locator("td:first-child bdi").all_inner_texts():
        assert text.startswith(opening), text
    # Languages by their names in the page's language, not by their codes.
    names = {"en": ("Arabic", "English"), "ar": ("العربية", "الإنجليزية")}[lang]
    expect(rows.first.locator("a.poster[data-lang=ar]", has_text="A4")).to_have_text(f"A4 {names[0]}")
    expect(page.locator("#sms-en")).to_have_text(w.text("staff.sms_export", lang=names[1]))
    # A poster in the page's language, recorded as gone out.
    with page.expect_download() as download:
        rows.first.locator(f"a.poster[data-lang={lang}]", has_text="A4").click()
    assert download.value.suggested_filename.endswith(f"-A4-{lang}.pdf")
    printed = PdfReader(download.value.path()).pages[0].extract_text()
    assert ("Evacuation notice" in printed) == (lang == "en")
    assert bool(ARABIC.search(printed)) == (lang == "ar")
    page.goto(url)
    printed_row = page.locator("#deliveries tbody tr").first  # the newest: the poster just printed
    expect(printed_row.locator("td").nth(2)).to_have_text(w.text("staff.channel_poster"))
    expect(printed_row.locator("td").nth(3)).to_have_text(w.text("staff.status_sent"))
    assert w.text("staff.status_sent") == {"en": "sent", "ar": "أُرسل"}[lang]
    if lang == "ar":
        texts = page.evaluate(COLLECT)
        # data: the operation, the user, and the names of a product and of a CSV column that the
        # SMS help names as they are written
        data = [_operation_name(api, live_server), "demo-coordinator", "RapidPro", "urn"]
        found = english_words(texts, data)
        assert found == [], "\n".join(found)
    assert problems(page) == []
    screenshot(page, f"notices-{lang}")
