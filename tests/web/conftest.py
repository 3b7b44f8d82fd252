"""Browser tests: a real server on a free loopback port and Debian's chromium driven by Playwright.

Playwright cannot download its own browser here; the project's setup (``make setup-browser``)
installs Debian's ``chromium`` and the tests point Playwright at it. Screenshots of the main
screens go to ``out/screenshots/`` for a reviewer to look at.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import select

from corridor.server.app import create_app
from corridor.server.db import upgrade
from corridor.server.operations.tables import Operation
from corridor.server.runtime import Runtime
from corridor.server.seed import DEMO_NAME, demo_convoy_job, seed_example
from corridor.server.settings import Settings

CHROMIUM = os.environ.get("CORRIDOR_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    """A running corridor web app with the demo operation and one demo user per role."""

    url: str
    settings: Settings
    passwords: dict[str, str]
    operation_id: str

    def password(self, role: str) -> str:
        return self.passwords[f"demo-{role}"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    database_url: str, folder: Path, *, tls: tuple[Path, Path] | None = None, host_name: str = "127.0.0.1"
) -> Iterator[LiveServer]:
    """The web app on a free loopback port: over HTTPS with ``tls`` (certificate, key), its URL
    naming ``host_name`` (which the browser must resolve to 127.0.0.1)."""
    settings = Settings(
        database_url=database_url,
        data_dir=folder / "data",
        key_file=folder / "keys" / "corridor.key",
        argon2_time_cost=1,
        argon2_memory_kib=64,
    )
    upgrade(database_url)
    runtime = Runtime.start(settings)
    try:
        passwords = seed_example(runtime, households=12)
        planning = demo_convoy_job(runtime)  # without the convoy file, the demo's plan is a job
        if planning is not None:
            assert runtime.jobs.wait(planning.id, 600).state == "done"
        with runtime.db.reading() as session:
            operation_id = session.scalars(select(Operation.id).where(Operation.name == DEMO_NAME)).one()
    finally:
        runtime.db.dispose()
    yield from serve(settings, passwords, operation_id, tls=tls, host_name=host_name)


def serve(
    settings: Settings,
    passwords: dict[str, str],
    operation_id: str,
    *,
    tls: tuple[Path, Path] | None = None,
    host_name: str = "127.0.0.1",
) -> Iterator[LiveServer]:
    """The web app of ``settings`` (a seeded database) on a free loopback port."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        scheme = "https" if tls else "http"
        yield LiveServer(f"{scheme}://{host_name}:{port}", settings, passwords, operation_id)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The web app on SQLite (the embedded default)."""
    folder = tmp_path_factory.mktemp("web")
    yield from start_server(f"sqlite:///{folder / 'corridor.db'}", folder)


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The JSON API as the demo coordinator, with a bearer token."""
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        answer = client.post(
            "/api/auth/token",
            data={"username": "demo-coordinator", "password": live_server.password("coordinator")},
        )
        assert answer.status_code == 200, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup-browser` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies, no storage) for each test."""
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="en-GB")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def log_in(page: Page, server: LiveServer, role: str, *, lang: str = "en") -> None:
    """Log in as the demo user of ``role`` through the log-in form."""
    page.goto(f"{server.url}/login?lang={lang}")
    page.fill("#username", f"demo-{role}")
    page.fill("#password", server.password(role))
    page.press("#password", "Enter")
    page.wait_for_url(f"{server.url}/")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot for review; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
