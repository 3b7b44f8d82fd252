"""Scanning over HTTPS from a host name other than localhost, as a phone on the LAN does: the
service serves a certificate signed by its local CA; chromium resolves ``field-laptop.lan`` to
this machine and trusts the server's key (which keeps the page a secure context), logs in as a
marshal, scans a valid code and gets a real answer, in English and in Arabic. The session cookie is
Secure and HSTS is sent; the CA is offered to the next phone; the phone's clock shows in time."""

from __future__ import annotations

import shutil
import sqlite3
import ssl
import time
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from corridor.server import tls
from corridor.server.web.i18n import languages
from web.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, log_in, screenshot, serve
from web.test_web_arabic_text import english_words
from web.test_web_scan import answer_is, make_party, open_scan, scan, waiting

HOST = "field-laptop.lan"


@pytest.fixture(scope="module")
def tls_server(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A copy of the demo service (its database and keys, so no second seeding) over HTTPS."""
    folder = tmp_path_factory.mktemp("web-tls")
    copy = folder / "corridor.db"
    original = live_server.settings.database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(original)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    key_file = live_server.settings.key_file
    shutil.copytree(key_file.parent, folder / "keys")
    settings = live_server.settings.model_copy(
        update={
            "database_url": f"sqlite:///{copy}",
            "data_dir": folder / "data",
            "key_file": folder / "keys" / key_file.name,
        }
    )
    made = tls.ensure_local_tls(settings.data_dir, [HOST])
    yield from serve(
        settings,
        live_server.passwords,
        live_server.operation_id,
        tls=(made.cert_file, made.key_file),
        host_name=HOST,
    )


@pytest.fixture(scope="module")
def lan_browser(browser: Browser, tls_server: LiveServer) -> Iterator[Browser]:
    """Chromium as a phone that installed the CA: the host name resolves, the key is trusted."""
    served = tls.load_certificate(tls.folder_of(tls_server.settings.data_dir) / "server.crt")
    args = [
        *CHROMIUM_ARGS,
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
        f"--ignore-certificate-errors-spki-list={tls.spki_sha256(served)}",
    ]
    launched = browser.browser_type.launch(executable_path=CHROMIUM, args=args, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def lan_context(lan_browser: Browser) -> Iterator[BrowserContext]:
    ctx = lan_browser.new_context(viewport={"width": 412, "height": 860}, locale="en-GB")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def tls_api(tls_server: LiveServer) -> Iterator[httpx.Client]:
    """The API as the demo coordinator, over HTTPS checked against the local CA (by address)."""
    port = urlsplit(tls_server.url).port
    ca = tls.ca_file_of(tls_server.settings.data_dir)
    with httpx.Client(
        base_url=f"https://127.0.0.1:{port}", verify=ssl.create_default_context(cafile=str(ca)), timeout=30
    ) as client:
        answer = client.post(
            "/api/auth/token",
            data={"username": "demo-coordinator", "password": tls_server.password("coordinator")},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_marshal_scans_over_https_from_a_lan_host_name(
    lan_context: BrowserContext, tls_server: LiveServer, tls_api: httpx.Client, lang: str
) -> None:
    said = languages()[lang]
    named = "" if lang == "en" else f"-{lang}"  # the screenshots' names
    clocks = f"/api/operations/{tls_server.operation_id}/clocks"
    devices_before = {d["device_id"] for d in tls_api.get(clocks).json()}
    party = make_party(tls_api, tls_server)
    first = party.family[0]
    page = lan_context.new_page()
    visit = page.goto(f"{tls_server.url}/login?lang={lang}")
    assert visit is not None and visit.ok and visit.url.startswith(f"https://{HOST}:")
    assert visit.headers["strict-transport-security"].startswith("max-age=")
    assert page.evaluate("window.isSecureContext") is True
    log_in(page, tls_server, "checkpoint_marshal", lang=lang)
    cookies = {c["name"]: c for c in lan_context.cookies()}
    assert cookies["corridor_session"]["secure"] and cookies["corridor_session"]["httpOnly"]
    assert cookies["corridor_csrf"]["secure"]
    open_scan(page, tls_server)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    expect(page.locator("#scan")).to_have_attribute("data-fetched", "yes")
    page.select_option("#scan-point", "amiriyah")
    page.select_option("#scan-vehicle", party.vehicle)
    scan(page, first.wristband)
    answer_is(page, "expected", first.name)  # a real answer from the roster, not "Unknown code"
    expect(page.locator("#scan-answer .answer-head")).to_have_text(
        f"{said.text('scan.expected')} · {first.name}"
    )
    expect(page.locator("#scan-answer .answer-note")).to_have_text(said.text("scan.recorded"))
    waiting(page, 0)
    expect(page.locator("#scan-queue")).to_have_text(said.text("scan.queue_none"))
    if lang == "ar":
        expect(page.locator("#scan-answer .answer-head")).to_contain_text("متوقَّع")
        shown = page.locator("#scan-answer, #scan-snapshot, #scan-queue").all_inner_texts()
        data = [first.name, party.vehicle, "al-Amiriyah crossing", "UTC+02:00"]
        assert english_words(shown, data) == []
    # The page answers from its roster and queues the scan; the queue's count may read 0 before the
    # scan is queued, so the server is asked until the scan has reached it (at most 15 s).
    path = f"/api/operations/{tls_server.operation_id}/status/person/{first.id}"
    until = time.monotonic() + 15
    status = tls_api.get(path).json()
    while status["status"] != "boarded" and time.monotonic() < until:
        time.sleep(0.1)
        status = tls_api.get(path).json()
    assert status["status"] == "boarded"
    screenshot(page, f"scan-https-lan{named}")
    # The CA offered to the next phone, with its fingerprint, without logging in.
    ca_page = lan_context.new_page()
    ca_page.goto(f"{tls_server.url}/ca?lang={lang}")
    ca_file = tls.ca_file_of(tls_server.settings.data_dir)
    expect(ca_page.locator("#ca-fingerprint")).to_have_text(tls.fingerprint(tls.load_certificate(ca_file)))
    expect(ca_page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    if lang == "ar":
        expect(ca_page.locator("#ca h1")).to_have_text("الوثوق بهذه الخدمة على الهاتف")
    screenshot(ca_page, f"ca-for-phones{named}")
    # The phone sent its clock with the scan: the device clocks page shows it in time.
    [phone] = [
        d["device_id"]
        for d in tls_api.get(clocks).json()
        if d["device_id"] not in devices_before and d["device_id"].startswith("user:demo-checkpoint_marshal/")
    ]
    page.goto(f"{tls_server.url}/operations/{tls_server.operation_id}/clocks")
    expect(page.locator("#clocks h1")).to_contain_text(said.text("clocks.title"))
    row = page.locator(f'#clock-devices tr[data-device="{phone}"]')
    expect(row.locator(".clock-offset")).to_have_text(said.text("clocks.in_sync"))
    expect(row.locator(".clock-flagged")).to_have_text("0")
    if lang == "ar":
        expect(page.locator("#clocks h1")).to_contain_text("ساعات الأجهزة")
        expect(row.locator(".clock-offset")).to_have_text("مضبوطة")
    else:
        expect(row.locator(".clock-offset")).to_have_text("in time")
