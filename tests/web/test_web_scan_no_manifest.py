"""The scanning screen recognises a person registered where they gather who is on no manifest
yet: the sighting is recorded (noted "on no manifest") and counted, in English and Arabic; at
another point the same code is unknown there and nothing is recorded."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect

from corridor.server.db import Database
from corridor.server.ledger import service as ledger
from corridor.server.web.i18n import languages
from web.conftest import LiveServer, log_in
from web.test_web_scan import answer_is, open_scan, scan, waiting


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_person_on_no_manifest_is_recognised_where_they_gather_and_recorded(
    page: Page, live_server: LiveServer, api: httpx.Client, lang: str
) -> None:
    t = languages()[lang].text
    tag = secrets.token_hex(3)
    operation = live_server.operation_id
    name, wristband = f"Walker {tag}", f"WB-{tag}-W"
    made = api.post(
        f"/api/operations/{operation}/households",
        json={
            "gathering_point": "amiriyah",
            "people": [{"name": name, "age_band": "18-59", "sex": "female", "wristband": wristband}],
        },
    )
    assert made.status_code == 201, made.text
    person = made.json()["people"][0]["id"]

    log_in(page, live_server, "checkpoint_marshal", lang=lang)
    open_scan(page, live_server)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    # Elsewhere on the route the code is unknown there: nothing recorded.
    _choose_point(page, "ramouseh")
    page.select_option("#scan-vehicle", "")
    scan(page, wristband)
    expect(page.locator("#scan-answer")).to_have_attribute("data-outcome", "flagged")
    expect(page.locator("#scan-answer .answer-note")).to_have_text(t("scan.not_recorded"))
    # Where they gather: recognised by name, recorded with the note.
    _choose_point(page, "amiriyah")
    scan(page, wristband)
    answer_is(page, "not_on_manifest", name)
    expect(page.locator("#scan-answer .answer-head")).to_contain_text(t("scan.not_on_any"))
    expect(page.locator("#scan-answer .answer-detail")).to_contain_text(t("scan.registered_here"))
    expect(page.locator("#scan-answer .answer-note")).to_have_text(t("scan.recorded"))
    waiting(page, 0)

    status = api.get(f"/api/operations/{operation}/status/person/{person}")
    assert status.status_code == 200 and status.json()["status"] == "boarded", status.text
    db = Database(live_server.settings.database_url)
    try:
        with db.reading() as session:
            sightings = [e for e in ledger.events_of(session, operation) if e.subject == ("person", person)]
    finally:
        db.dispose()
    assert [
        (e.type, e.payload.get("point"), e.payload.get("note")) for e in sightings if e.type != "registered"
    ] == [("boarded", "amiriyah", "on no manifest")]


def _choose_point(page: Page, point: str) -> None:
    """Scan at ``point`` once its roster is loaded (another point, another roster)."""
    if page.input_value("#scan-point") == point:
        return
    old = page.get_attribute("#scan", "data-snapshot") or ""
    page.select_option("#scan-point", point)
    expect(page.locator("#scan")).not_to_have_attribute("data-snapshot", old)
