"""Incidents in a real browser: reported from a phone with a photo as evidence, then seen on the
monitors' timeline with the photo's SHA-256, and on the map when it has coordinates."""

from __future__ import annotations

import hashlib
import secrets
import struct
import zlib

from playwright.sync_api import FilePayload, Page, expect

from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot


def tiny_png(seed: bytes) -> bytes:
    """A valid 1x1 PNG whose bytes differ with ``seed`` (so each test has its own SHA-256)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = zlib.compress(b"\x00" + seed[:3].ljust(3, b"\x00"))
    note = chunk(b"tEXt", b"Comment\x00" + seed)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + note + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")


def _open(page: Page, server: LiveServer, role: str = "monitor", lang: str = "en") -> None:
    log_in(page, server, role, lang=lang)
    page.goto(f"{server.url}/operations/{server.operation_id}/incidents")


def _show_form(page: Page) -> None:
    if not page.locator("#incident-form").is_visible():
        page.locator("details.report > summary").click()
    expect(page.locator("#incident-form")).to_be_visible()


def test_a_monitor_reports_an_incident_with_a_photo_and_sees_it_on_the_timeline(
    page: Page, live_server: LiveServer
) -> None:
    _open(page, live_server)
    _show_form(page)
    assert problems(page) == []
    photo = tiny_png(secrets.token_bytes(8))
    digest = hashlib.sha256(photo).hexdigest()
    words = "Convoy stopped " + secrets.token_hex(3)
    page.select_option("#kind", "obstruction")
    page.select_option("#point", "ramouseh")
    page.fill("#lat", "36.1712")
    page.fill("#lon", "37.1190")
    page.fill("#vehicles", "BUS-03, AMB-1")
    page.fill("#description", words)
    page.set_input_files("#files", files=[FilePayload(name="gate.png", mimeType="image/png", buffer=photo)])
    page.click("#incident-submit")

    done = page.locator("#incident-done")
    expect(done).to_contain_text("Recorded: Obstruction")
    expect(done.locator(f'[data-sha256="{digest}"]')).to_contain_text(digest[:12])
    item = page.locator("li.incident", has_text=words)
    expect(item).to_have_count(1)
    expect(item.locator(".badge")).to_have_text("Obstruction")
    expect(item).to_contain_text("Ramouseh checkpoint")
    expect(item).to_contain_text("BUS-03, AMB-1")
    evidence = item.locator(f'.evidence li[data-sha256="{digest}"]')
    expect(evidence).to_contain_text(digest[:12])
    expect(evidence.locator("code")).to_have_attribute("title", f"SHA-256 {digest}")
    # The preview is read only when opened (each read is a custody event); it is the photo.
    preview = evidence.locator("img")
    assert preview.get_attribute("src") is None
    evidence.locator("summary").click()
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("i => i.naturalWidth") == 1
    # The link gives the original file, byte for byte.
    href = evidence.locator("a").get_attribute("href")
    assert href is not None
    fetched = page.request.get(live_server.url + href)
    assert fetched.ok and hashlib.sha256(fetched.body()).hexdigest() == digest
    # On the map: the map shows, with a marker.
    expect(page.locator("#incident-map")).to_be_visible()
    expect(page.locator("#incident-map path.leaflet-interactive").first).to_be_attached()
    # The newest comes first, and the form is ready for the next report.
    first = page.locator("li.incident").first
    expect(first).to_contain_text(words)
    expect(page.locator("#description")).to_have_value("")
    assert problems(page) == []
    screenshot(page, "incidents-en")


def test_the_same_in_arabic_right_to_left(page: Page, live_server: LiveServer) -> None:
    _open(page, live_server, lang="ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("h1")).to_have_text("الحوادث")
    _show_form(page)
    photo = tiny_png(secrets.token_bytes(8))
    digest = hashlib.sha256(photo).hexdigest()
    words = "أُوقفت الحافلة عند الحاجز " + secrets.token_hex(3)
    page.select_option("#kind", "shelling")
    page.fill("#place", "قرب الفرن")
    page.fill("#description", words)
    page.set_input_files("#files", files=[FilePayload(name="صورة.png", mimeType="image/png", buffer=photo)])
    page.click("#incident-submit")
    item = page.locator("li.incident", has_text=words)
    expect(item.locator(".badge")).to_have_text("قصف")
    expect(item).to_contain_text("قرب الفرن")
    expect(item.locator(f'.evidence li[data-sha256="{digest}"]')).to_contain_text(digest[:12])
    assert problems(page) == []
    screenshot(page, "incidents-ar")


def test_a_missing_description_is_shown_next_to_it_and_the_form_keeps_its_values(
    page: Page, live_server: LiveServer
) -> None:
    _open(page, live_server)
    _show_form(page)
    page.select_option("#kind", "looting")
    page.fill("#lat", "north")
    page.fill("#vehicles", "BUS-03")
    page.click("#incident-submit")
    expect(page.get_by_role("alert")).to_contain_text("Nothing was recorded")
    expect(page.locator("#description-error")).to_have_text("Required")
    expect(page.locator("#lat-error")).to_contain_text("Give a number")
    expect(page.locator("#lat")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#vehicles")).to_have_value("BUS-03")
    expect(page.locator("#kind")).to_have_value("looting")
    page.fill("#lat", "")
    page.fill("#vehicles", "BUS-99")
    page.fill("#description", "Shop emptied")
    page.click("#incident-submit")
    expect(page.locator("#vehicles-error")).to_contain_text("no vehicle 'BUS-99'")
    assert problems(page) == []


def test_a_checkpoint_marshal_reports_on_the_form_alone(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "checkpoint_marshal")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/incidents/new")
    expect(page.locator("#incident-form")).to_be_visible()
    expect(page.locator("#files")).to_have_count(1)  # marshals may attach photos too
    expect(page.locator("#timeline")).to_have_count(0)
    words = "Shots near the bus " + secrets.token_hex(3)
    page.select_option("#kind", "shooting")
    page.fill("#description", words)
    page.click("#incident-submit")
    expect(page.locator("#incident-done")).to_contain_text("Shooting at a convoy")
    expect(page.locator("#timeline")).to_have_count(0)
    assert problems(page) == []
