"""Camera scanning where the browser has no barcode detector: chromium's fake camera plays a video
of a person's QR code, the page reads it with the barcode library served from this site (forced by
``?reader=library``), and the scan is recorded; in English and in Arabic (right to left, the answer
in Arabic words and no English label left)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import segno
from playwright.sync_api import Browser, expect

from corridor.server.web.i18n import languages
from web.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, log_in, screenshot
from web.test_web_arabic_text import english_words
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


@pytest.fixture(scope="module", params=["en", "ar"])
def party_and_camera(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Browser, Party, str]]:
    """For each language: this test's party, and a second chromium (of the session's Playwright)
    whose camera plays the first person's QR code."""
    lang: str = request.param
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
    yield camera, party, lang
    camera.close()


def test_the_camera_reads_a_wristband_with_the_library(
    party_and_camera: tuple[Browser, Party, str], live_server: LiveServer, api: httpx.Client
) -> None:
    browser, party, lang = party_and_camera
    words = languages()[lang]
    first = party.family[0]
    context = browser.new_context(viewport={"width": 412, "height": 860}, locale="en-GB")
    context.set_default_timeout(20_000)
    context.grant_permissions(["camera"], origin=live_server.url)
    page = context.new_page()
    try:
        log_in(page, live_server, "checkpoint_marshal", lang=lang)
        page.goto(f"{live_server.url}/operations/{live_server.operation_id}/scan?reader=library")
        expect(page.locator("#scan")).to_have_attribute("data-ready", "yes")
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        page.select_option("#scan-point", "amiriyah")
        page.select_option("#scan-vehicle", party.vehicle)
        camera = page.locator("#scan-camera")
        expect(camera).to_be_visible()
        expect(camera).to_have_text(words.text("scan.camera"))
        camera.click()
        expect(page.locator("#scan")).to_have_attribute("data-camera", "on")
        expect(page.locator("#scan")).to_have_attribute("data-reader", "library")
        expect(camera).to_have_text(words.text("scan.camera_stop"))
        answer_is(page, "expected", first.name)
        expect(page.locator("#scan-answer .answer-head")).to_have_text(
            f"{words.text('scan.expected')} · {first.name}"
        )
        expect(page.locator("#scan-answer .answer-note")).to_have_text(words.text("scan.recorded"))
        # The answer says where it was recorded, and what.
        expect(page.locator("#scan-answer .answer-where")).to_have_text(
            f"{words.text('status.boarded')} · al-Amiriyah crossing ({words.text('scan.kind_departure')})"
        )
        waiting(page, 0)
        screenshot(page, f"scan-camera-{lang}")
        camera.click()  # stop
        expect(camera).to_have_text(words.text("scan.camera"))
        assert status_of(api, live_server, first)["status"] == "boarded"
        # A long code (typed or read) wraps: nothing runs off the phone's screen.
        long_code = "f" * 32 + "e" * 32 + "d" * 30
        page.fill("#scan-code", long_code)
        page.press("#scan-code", "Enter")
        expect(page.locator("#scan-answer")).to_have_attribute("data-outcome", "flagged")
        expect(page.locator("#scan-answer .answer-detail")).to_contain_text(
            words.text("scan.unknown_here", code=long_code)
        )
        expect(page.locator("#scan-answer .answer-where")).to_have_text(
            f"al-Amiriyah crossing ({words.text('scan.kind_departure')})"
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        if lang == "ar":
            expect(page.locator("#scan-answer .answer-head")).to_contain_text("تنبيه")
            expect(page.locator("#scan-answer .answer-detail")).to_contain_text("غير معروف هنا")
            # What the script wrote (the answer, the list of people, the queue, the recent scans)
            # and the camera's button say no English word but data: names, codes and the point.
            said = page.locator("#scan-answer, #scan-snapshot, #scan-queue, #scan-recent, #scan-camera")
            data = [first.name, long_code, party.vehicle, "al-Amiriyah crossing", "UTC+02:00"]
            assert english_words(said.all_inner_texts(), data) == []
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
