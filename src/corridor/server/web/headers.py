"""Security headers, set in one place for every answer of the service.

Pages hold personal data and the session's CSRF token, so the browser is told to run only this
site's own scripts (no inline script, no ``eval``), never to frame a page, never to guess a
content type, to send no full address to other sites, and to keep no copy of a page in any
cache. The API keeps its own headers, except ``nosniff`` on everything and, on evidence files
(stored with the type their uploader claimed), a sandbox: an "image" that is really HTML can
never run as a page of this site.

Served over HTTPS (``corridor serve --tls``, or a reverse proxy that says so), every answer also
tells the browser to come back over HTTPS only (HSTS); over plain HTTP it does not (a browser
ignores it there, and a laptop serving plain HTTP on ``localhost`` stays reachable so).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Swagger UI and ReDoc load their own inline scripts: they keep FastAPI's defaults.
API_DOCS = ("/docs", "/redoc")
EVIDENCE = re.compile(r"^/api/operations/[^/]+/evidence/")
EVIDENCE_POLICY = "default-src 'none'; sandbox"
# Files that may be kept by the browser (their own Cache-Control, if any, is left alone).
CACHEABLE = ("/static/", "/sw.js")
# HTTPS only, for a year, this host alone (a LAN name or address covers no other site).
HSTS = "max-age=31536000"


def tile_source(tile_url: str | None) -> str | None:
    """The CSP source of a tile URL template (``https://{s}.tile.example.org/{z}/{x}/{y}.png`` ->
    ``https://*.tile.example.org``); None without tiles or for a template that names no host."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d+)?", host):
        return None  # a placeholder inside a name: no valid source; tiles stay blocked
    return f"{parts.scheme}://{host}"


def content_policy(tile_url: str | None) -> str:
    """The pages' Content-Security-Policy.

    Style attributes stay allowed (``style-src-attr``) because the plan page positions its
    time ticks with them; ``<style>`` elements and inline scripts are refused.
    """
    images = " ".join(s for s in ("'self' data: blob:", tile_source(tile_url)) if s)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            f"img-src {images}",
            "connect-src 'self'",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """ASGI middleware that adds the headers above to each HTTP answer."""

    def __init__(self, app: ASGIApp, *, tile_url: str | None = None) -> None:
        self.app = app
        self.policy = content_policy(tile_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if secure:
                    headers["Strict-Transport-Security"] = HSTS
                self.add(headers, path)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def add(self, headers: MutableHeaders, path: str) -> None:
        headers["X-Content-Type-Options"] = "nosniff"
        if path.startswith("/api"):
            if EVIDENCE.match(path):
                headers["Content-Security-Policy"] = EVIDENCE_POLICY
            return
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        if not path.startswith(API_DOCS):
            headers.setdefault("Content-Security-Policy", self.policy)
        if not path.startswith(CACHEABLE) and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"
