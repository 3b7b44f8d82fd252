"""Where the web app's files come from: its own (``static/``, in the package) and the front-end
packages installed from the npm registry by ``make setup`` (``frontend/node_modules``), both
served under ``/static`` by this app, never from a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

OWN = Path(__file__).parent / "static"
# Only these packages are served (node_modules may hold more). ``barcode-detector`` reads QR codes
# and barcodes from the camera where the browser has no barcode detector of its own, with the
# WebAssembly build of ZXing-C++ from ``zxing-wasm`` (its ``.wasm`` file is served from here too).
VENDOR_PACKAGES = ("htmx.org", "leaflet", "swagger-ui-dist", "barcode-detector", "zxing-wasm")


def mount(app: FastAPI, vendor_dir: Path) -> None:
    """Serve ``/static/vendor/<package>/...`` from ``vendor_dir`` and ``/static/...`` from the package."""
    for package in VENDOR_PACKAGES:
        folder = vendor_dir / package
        if folder.is_dir():
            app.mount(f"/static/vendor/{package}", StaticFiles(directory=folder), name=f"vendor-{package}")
    app.mount("/static", StaticFiles(directory=OWN), name="static")


class CompressPages:
    """Gzip pages and static files (a 2G link must load them); leave the API as it is, so that
    scanners' small answers cost no compression."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=800)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/api"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
