"""Errors on pages: a person gets a page (or, for htmx, a fragment) that says what is wrong and
what to do; a missing or expired session goes to the log-in page and back. The API keeps its
JSON shape: this applies only outside ``/api``."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup, escape

from corridor.server.web.i18n import DEFAULT, choose
from corridor.server.web.render import page


def wants_html(request: Request) -> bool:
    """A browser page or an htmx request, not an API client."""
    if request.url.path.startswith("/api") or request.url.path.startswith("/static"):
        return False
    return "HX-Request" in request.headers or "text/html" in request.headers.get("accept", "")


def html_error(request: Request, status: int, message: str, hint: str | None = None) -> Response | None:
    """The HTML answer to an error, or None when the caller wants the API's JSON."""
    if not wants_html(request):
        return None
    if status == 401 and request.method == "GET" and "HX-Request" not in request.headers:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    language = choose(request)
    # The service's own words are English; other languages lead with what happened, in their words.
    said = None if language.code == DEFAULT else language.text(_kind(status))
    if "HX-Request" in request.headers:
        text = escape(message) + (f" — {escape(hint)}" if hint else "")
        if said is not None:
            text = escape(said) + Markup(' <span lang="en" dir="ltr">') + text + Markup("</span>")
        return HTMLResponse(f'<p class="alert bad" role="alert">{text}</p>', status_code=status)
    return page(request, "error.html", status_code=status, message=message, hint=hint, said=said)


def _kind(status: int) -> str:
    """The message key that says, in the reader's language, what kind of error this is."""
    return f"error.status.{status}" if status in _KINDS else "error.status.other"


_KINDS = (400, 401, 403, 404, 409, 413, 422)
