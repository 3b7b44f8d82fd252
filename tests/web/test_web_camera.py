"""Camera scanning where the browser has no barcode detector: chromium's fake camera plays a video
of a person's QR code, the page reads it with the barcode library served from this site (forced by
``?reader=library``), and the scan is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import segno
from playwright.sync_api import Browser, expect

from web.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, log_in, screenshot
from web.test_web_scan import Party, answer_is, make_party, status_of, waiting

WIDTH, HEIGHT = 640, 480


def qr_video(code: str, path: Path, frames: int = 5) -> Path:
    """A few frames of ``code``'s QR code, black on white, as a YUV4MPEG2 (.y4m) file: the luma
    plane carries the picture, both chroma planes are neutral grey."""
    qr = segno.make_qr(code, error="m")
    modules = np.array(list(qr.matrix_iter(scale=1, border=4)), dtype=np.uint8)
    scale = min(WIDTH, HEIGHT) * 3 // 4 // modules.shape[0]
    picture = np.kron(1 - modules, np.ones((scale, scale), dtype=np.uint8)) * 255
    luma = np.full((HEIGHT, WIDTH), 255, dtype=np.uint8)
    top, left = (HEIGHT - picture.shape[0]) // 2, (WIDTH - picture.shape[1]) // 2
    luma[top : top + picture.shape[0], left : left + picture.shape[1]] = picture
    chroma = np.full((HEIGHT // 2) * (WIDTH // 2), 128, dtype=np.uint8).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma.tobytes() + chroma + chroma)
    return path


@pytest.fixture(scope="module")
def party_and_camera(
    browser: Browser, live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Browser, Party]]:
    """This test's party, and a second chromium (of the session's Playwright) whose camera plays
    the first person's QR code."""
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        token = api.post(
            "/api/auth/token",
            data={"username": "demo-coordinator", "password": live_server.password("coordinator")},
        ).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        party = make_party(api, live_server)
    video = qr_video(party.family[0].wristband, tmp_path_factory.mktemp("camera") / "qr.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    camera = browser.browser_type.launch(executable_path=CHROMIUM, args=args, headless=True)
    yield camera, party
    camera.close()


def test_the_camera_reads_a_wristband_with_the_library(
    party_and_camera: tuple[Browser, Party], live_server: LiveServer, api: httpx.Client
) -> None:
    browser, party = party_and_camera
    first = party.family[0]
    context = browser.new_context(viewport={"width": 412, "height": 860}, locale="en-GB")
    context.set_default_timeout(20_000)
    context.grant_permissions(["camera"], origin=live_server.url)
    page = context.new_page()
    try:
        log_in(page, live_server, "checkpoint_marshal")
        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/scan?reader=library")
        expect(page.locator("#scan")).to_have_attribute("data-ready", "yes")
        page.select_option("#scan-point", "amiriyah")
        page.select_option("#scan-vehicle", party.vehicle)
        expect(page.locator("#scan-camera")).to_be_visible()
        page.click("#scan-camera")
        expect(page.locator("#scan")).to_have_attribute("data-camera", "on")
        expect(page.locator("#scan")).to_have_attribute("data-reader", "library")
        answer_is(page, "expected", first.name)
        expect(page.locator("#scan-answer .answer-note")).to_contain_text("Recorded")
        # The answer says where it was recorded, and what.
        expect(page.locator("#scan-answer .answer-where")).to_have_text(
            "Boarded · al-Amiriyah crossing (departure)"
        )
        waiting(page, 0)
        screenshot(page, "scan-camera")
        page.click("#scan-camera")  # stop
        assert status_of(api, live_server, first)["status"] == "boarded"
        # A long code (typed or read) wraps: nothing runs off the phone's screen.
        long_code = "f" * 32 + "e" * 32 + "d" * 30
        page.fill("#scan-code", long_code)
        page.press("#scan-code", "Enter")
        expect(page.locator("#scan-answer")).to_have_attribute("data-outcome", "flagged")
        expect(page.locator("#scan-answer .answer-detail")).to_contain_text("Unknown here")
        expect(page.locator("#scan-answer .answer-where")).to_have_text("al-Amiriyah crossing (departure)")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # In Arabic: the answer names the point and what was recorded there too.
        second = party.family[1]
        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/scan?lang=ar")
        expect(page.locator("#scan")).to_have_attribute("data-fetched", "yes")
        page.fill("#scan-code", second.wristband)
        page.press("#scan-code", "Enter")
        answer_is(page, "expected", second.name)
        expect(page.locator("#scan-answer .answer-where")).to_contain_text("صعد إلى المركبة · ")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "scan-answer-ar")
    finally:
        context.close()


def test_the_scan_page_alone_may_compile_webassembly(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        wasm = client.get("/static/vendor/zxing-wasm/dist/reader/zxing_reader.wasm")
        assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
        assert wasm.content[:4] == b"\0asm"
        library = client.get("/static/vendor/barcode-detector/dist/iife/ponyfill.js")
        assert library.status_code == 200 and "prepareZXingModule" in library.text
        login = client.get("/login")
        assert "wasm-unsafe-eval" not in login.headers["content-security-policy"]
