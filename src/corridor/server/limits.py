"""Request body size limits: every route has one, counted as the body streams in. And no API
answer is cached.

A body is refused with 413 in the one error shape:

* at once, before any of it is read, when its ``Content-Length`` is over the route's limit;
* otherwise as soon as the bytes received pass the limit (a chunked body, or a client that sends
  more than it declared), so that no more than the limit is ever held in memory or spooled to a
  temporary file, and nothing is stored (an evidence file is stored only once whole).

Limits per route (the settings name them): one scan event is small, a batch larger, an evidence
file as large as ``max_evidence_bytes`` allows (plus room for its form fields); imports, published
plans and the pages' incident form take ``max_upload_bytes``; every other route ``max_body_bytes``.

Starlette's own ``RequestBodyLimitMiddleware`` counts the same way but answers in plain text and
knows one limit per mounted app; this one chooses the limit from the path before routing, names
it in the answer, and raises inside the app so that its handlers render the one shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from corridor.server.errors import error_body
from corridor.server.settings import Settings

# Room for the multipart framing and the note field around an evidence file.
FORM_OVERHEAD = 64 * 1024

_OPERATION = r"^/api/operations/[^/]+"
_PAGES_OPERATION = r"^/operations/[^/]+"


def route_limits(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """The routes with their own limit, in order; the first whose pattern matches applies."""
    upload = settings.max_upload_bytes
    rules = [
        (_OPERATION + r"/events/?$", settings.max_event_bytes),
        (_OPERATION + r"/events/batch/?$", settings.max_batch_bytes),
        (_OPERATION + r"/incidents/[^/]+/evidence/?$", settings.max_evidence_bytes + FORM_OVERHEAD),
        (_OPERATION + r"/imports/registrations/?$", upload),
        (_OPERATION + r"/plan/?$", upload),
        (_PAGES_OPERATION + r"/incidents/?$", upload),
    ]
    return [(re.compile(pattern), limit) for pattern, limit in rules]


class BodyTooLargeError(HTTPException):
    """A request body over its route's limit (raised while it is read)."""

    def __init__(self, limit: int, path: str) -> None:
        super().__init__(413, detail=f"the request body is larger than {limit} bytes, the limit of {path}")
        self.where = "body"
        self.hint = "send less in one request (several batches, a smaller file)"


# Renders an error page for a browser (as errors.HtmlErrors), or None for API clients.
HtmlErrors = Callable[[Request, int, str, str | None], Response | None]


class BodyLimits:
    """ASGI middleware that enforces the limits above."""

    def __init__(self, app: ASGIApp, *, settings: Settings, html: HtmlErrors | None = None) -> None:
        self.app = app
        self.default = settings.max_body_bytes
        self.rules = route_limits(settings)
        self.html = html

    def limit_of(self, path: str) -> int:
        for pattern, limit in self.rules:
            if pattern.match(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limit_of(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, BodyTooLargeError(limit, path))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit, path)
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: BodyTooLargeError) -> None:
        request = Request(scope, receive)
        page = self.html(request, 413, str(error.detail), error.hint) if self.html else None
        response = page or JSONResponse(
            error_body(413, "too_large", str(error.detail), where=error.where, hint=error.hint),
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class NoStore:
    """ASGI middleware: API answers (names, counts, evidence) are never kept by a browser or a
    proxy (``Cache-Control: no-store``, unless the route set its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
