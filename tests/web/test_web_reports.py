"""The situation report in a real browser, in English and Arabic: figures equal the live counts,
the page passes the accessibility basics, "Download PDF" gives a PDF with the same figures."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot

# Key figure label -> how to read it from GET /counts (the reconciliation's counts).
FROM_COUNTS: dict[str, Callable[[dict[str, Any]], int]] = {
    "People registered": lambda c: sum(c["people"].values()),
    "Arrived": lambda c: c["people"]["arrived"],
    "Missing": lambda c: c["people"]["missing"],
    "Detained": lambda c: c["people"]["detained"],
    "In transit": lambda c: c["people"]["passed_checkpoint"],
}


def _csrf(page: Page) -> str:
    token: str = page.evaluate("document.querySelector('meta[name=csrf-token]').content")
    return token


def _record_an_arrival(page: Page, server: LiveServer) -> None:
    """One demo person seen at the arrival point, from a device of this test's own."""
    api = f"{server.url}/api/operations/{server.operation_id}"
    people = page.request.get(f"{api}/people").json()["people"]
    device = f"user:demo-coordinator/sitrep-{secrets.token_hex(4)}"
    event = {
        "event_id": f"{device}-1",
        "device_id": device,
        "seq": 1,
        "device_time": "2016-12-15T15:10:00+02:00",
        "type": "arrived",
        "payload": {"person_id": people[0]["id"], "point": "rashideen"},
    }
    answer = page.request.post(f"{api}/events", data=event, headers={"X-CSRF-Token": _csrf(page)})
    assert answer.status in (200, 201), answer.text()


def _figures(page: Page) -> dict[str, int]:
    labels = page.locator(".figure .label").all_inner_texts()
    values = page.locator(".figure .value").all_inner_texts()
    return {label: int(value) for label, value in zip(labels, values, strict=True)}


def _download_pdf(page: Page, name: str, tmp_path: Path) -> str:
    with page.expect_download() as caught:
        page.get_by_role("link", name=name).click()
    path = tmp_path / caught.value.suggested_filename
    caught.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_sitrep_in_english_matches_the_counts_and_downloads_as_pdf(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    log_in(page, live_server, "coordinator")
    _record_an_arrival(page, live_server)
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/sitrep?lang=en")
    expect(page.locator("h1")).to_contain_text("Situation report")
    counts = page.request.get(f"{live_server.url}/api/operations/{live_server.operation_id}/counts").json()
    figures = _figures(page)
    for label, read in FROM_COUNTS.items():
        assert figures[label] == read(counts), label
    assert figures["Arrived"] >= 1
    expect(page.locator("svg.curve")).to_be_visible()
    expect(page.get_by_role("link", name="People by gathering point and status (HXL CSV)")).to_be_visible()
    assert problems(page) == []
    screenshot(page, "sitrep-en")
    text = _download_pdf(page, "Download PDF", tmp_path)
    assert "Key figures" in text
    for label, value in figures.items():
        assert label in text and str(value) in text


def test_sitrep_in_arabic_is_right_to_left_and_its_pdf_is_arabic(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    log_in(page, live_server, "observer", lang="ar")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/sitrep?lang=ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("h2#kf-h")).to_have_text("الأرقام الرئيسية")
    counts = page.request.get(f"{live_server.url}/api/operations/{live_server.operation_id}/counts").json()
    assert _figures(page)["الأشخاص المسجلون"] == sum(counts["people"].values())
    # An observer is offered the counts and the map data only.
    expect(page.locator('a[href*="/exports/"]')).to_have_count(2)
    assert problems(page) == []
    screenshot(page, "sitrep-ar")
    text = _download_pdf(page, "تنزيل ملف PDF", tmp_path)
    assert "الأرقام" in text and str(sum(counts["people"].values())) in text
