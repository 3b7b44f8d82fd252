"""The public page, a poster and family tracing in a real browser, in English and Arabic: no
log-in, no personal data, the tracing code from the registration form answering only a status,
and its refusal cases (a wrong code, too many questions)."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader

from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot

SLUG = "east-aleppo-2016-demo"
MAX_PAGE = 30 * 1024


def test_the_public_page_in_english_and_arabic_and_a_poster(page: Page, live_server: LiveServer) -> None:
    answer = page.goto(f"{live_server.url}/public/{SLUG}?lang=en")
    assert answer is not None and answer.status == 200
    assert len(answer.body()) <= MAX_PAGE
    expect(page.locator("h1")).to_have_text("Evacuation: East Aleppo 2016 (demo)")
    points = page.locator("#points li")
    expect(points.first).to_contain_text("(gathering point)")
    assert {s for s in points.evaluate_all("l => l.map(e => e.dataset.state)")} <= {
        "soon",
        "on",
        "paused",
        "over",
    }
    notices = page.locator("article.notice")
    expect(notices.first).to_contain_text("Bring:")
    assert notices.count() >= 6
    assert problems(page) == []
    assert page.context.cookies() == []  # nothing set, nothing kept
    with page.expect_download() as download:
        page.locator("article.notice a.poster", has_text="A4").first.click()
    pdf = PdfReader(download.value.path()).pages[0]
    assert "Evacuation notice" in pdf.extract_text() and round(float(pdf.mediabox.height)) == 842
    page.click("a.lang")
    expect(page.locator("h1")).to_contain_text("الإجلاء")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("#tracing-link")).to_contain_text("البحث عن الأقارب")
    assert problems(page) == []
    screenshot(page, "public-ar")


def test_family_tracing_from_registration_to_the_public_form(
    page: Page, context: BrowserContext, live_server: LiveServer
) -> None:
    log_in(page, live_server, "registrar")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/register?lang=en")
    page.fill("#p-0-name", "Nadia Tracewell")
    page.select_option("#p-0-sex", "female")
    page.select_option("#p-0-age_band", "18-59")
    page.fill("#tracing_relative", "Omar Tracewell")
    page.keyboard.press("Control+Enter")
    code_box = page.locator(".tracing-code .code")
    expect(code_box).to_have_text(re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$"))
    code = code_box.inner_text()
    expect(page.locator("#tracing_relative")).to_have_value("")  # the next household consents anew
    page.context.clear_cookies()  # the relative's phone: no session of anyone's
    public = context.new_page()
    public.goto(f"{live_server.url}/public/{SLUG}/trace?lang=ar")
    assert public.evaluate("document.documentElement.dir") == "rtl"
    public.fill("#code", code.lower())
    public.click("#trace-form button")
    expect(public.locator("#answer")).to_have_text("مسجّل: قريبكم مسجّل ولم يغادر بعد.")
    assert "Nadia" not in public.content() and "Tracewell" not in public.content()
    assert problems(public) == []
    screenshot(public, "tracing-ar")
    # A wrong code: the same page, nothing learnt; past the limit for a code, refused for a while.
    public.goto(f"{live_server.url}/public/{SLUG}/trace?lang=en")
    for _ in range(6):
        public.fill("#code", "WXYZ-WXYZ-WXYZ")
        public.click("#trace-form button")
        expect(public.locator("#answer")).to_have_text(
            "No status can be given for this code. Check the code and try again later."
        )
    public.fill("#code", "WXYZ-WXYZ-WXYZ")
    public.click("#trace-form button")
    expect(public.locator("#answer")).to_contain_text("Too many questions. Try again in")
