"""Time you can trust, on the staff's device clocks page, in English and in Arabic: a marshal's phone
scans a person offline, its clock is then set ten years ahead, and it sends the scan when back
online. The page shows that phone's clock offset (from the clock it sent) and the scan flagged as
dated before the operation could have begun, in the reader's words; the scan is stored and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, expect

from corridor.server.web.i18n import languages
from web.conftest import LiveServer, log_in, screenshot
from web.test_web_arabic_text import COLLECT, english_words
from web.test_web_scan import answer_is, make_party, open_scan, scan, status_of, waiting

TEN_YEARS = timedelta(days=3652)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_phone_whose_clock_jumped_ten_years_is_shown_and_its_scan_flagged(
    browser: Browser, live_server: LiveServer, api: httpx.Client, lang: str
) -> None:
    said = languages()[lang]
    party = make_party(api, live_server)
    first = party.family[0]
    context = browser.new_context(viewport={"width": 412, "height": 860}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, live_server, "checkpoint_marshal", lang=lang)
        open_scan(page, live_server)
        expect(page.locator("#scan")).to_have_attribute("data-fetched", "yes")
        page.select_option("#scan-point", "amiriyah")
        page.select_option("#scan-vehicle", party.vehicle)
        context.set_offline(True)
        scan(page, first.wristband)
        answer_is(page, "expected", first.name)
        waiting(page, 1)
        # Offline, the phone's clock is set ten years ahead; back online it sends the scan with it.
        page.clock.set_fixed_time(datetime.now(UTC) + TEN_YEARS)
        context.set_offline(False)
        waiting(page, 0)
        assert status_of(api, live_server, first)["status"] == "boarded"  # stored, and it counts

        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/clocks")
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        expect(page.locator("#clocks h1")).to_contain_text(said.text("clocks.title"))
        flagged = page.locator("#clock-flagged tbody tr", has=page.locator(f'td:text-is("{first.id}")'))
        expect(flagged).to_have_count(1)
        expect(flagged.locator(".clock-type")).to_have_text(said.text("clocks.type_boarded"))
        expect(flagged.locator(".clock-flag")).to_have_text(said.text("clocks.flag_behind"))
        device = flagged.get_attribute("data-device")
        assert device is not None and device.startswith("user:demo-checkpoint_marshal/")
        phone = page.locator(f'#clock-devices tr[data-device="{device}"]')
        expect(phone.locator(".clock-offset")).to_have_text(
            said.text("clocks.offset_days", sign="+", days=3652, hours=0)
        )
        expect(phone.locator(".clock-flagged")).to_have_text("1")
        if lang == "ar":
            expect(phone.locator(".clock-offset")).to_have_text("+3652 ي 0 س")
            expect(flagged.locator(".clock-flag")).to_have_text("قبل بدء العملية")
            # No English but data: the operation, devices and people by their ids, times.
            data = [
                api.get(f"/api/operations/{live_server.operation_id}").json()["name"],
                *page.locator("[data-device]").evaluate_all("rows => rows.map(r => r.dataset.device)"),
            ]
            found = english_words(page.evaluate(COLLECT), data)
            assert found == [], "\n".join(found)
        else:
            expect(phone.locator(".clock-offset")).to_have_text("+3652 d 0 h")
            expect(flagged.locator(".clock-flag")).to_have_text("before the operation")
        screenshot(page, f"device-clocks-{lang}")
    finally:
        context.close()
