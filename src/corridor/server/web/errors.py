"""Errors on pages: a person gets a page (or, for htmx, a fragment) that says what is wrong and
what to do; a missing or expired session goes to the log-in page and back. The API keeps its
JSON shape: this applies only outside ``/api``."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup, escape

from corridor.server.auth import PERMISSIONS
from corridor.server.web.i18n import DEFAULT, Language, choose
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
    back = _back(request)
    if status == 403:
        # What may not be done, in plain words and the reader's language; never the service's
        # internal names of permissions and roles.
        refused = _refused(language, message)
        if refused is not None:
            message, hint = refused, language.text("error.forbidden_hint")
            if "HX-Request" in request.headers:
                return HTMLResponse(
                    f'<p class="alert bad" role="alert">{escape(message)} {escape(hint)}</p>',
                    status_code=status,
                )
            return page(
                request, "error.html", status_code=status, message=message, hint=hint, said=None, back=back
            )
    # The service's own words are English; other languages lead with what happened, in their words.
    said = None if language.code == DEFAULT else language.text(_kind(status))
    if "HX-Request" in request.headers:
        text = escape(message) + (f" — {escape(hint)}" if hint else "")
        if said is not None:
            text = escape(said) + Markup(' <span lang="en" dir="ltr">') + text + Markup("</span>")
        return HTMLResponse(f'<p class="alert bad" role="alert">{text}</p>', status_code=status)
    return page(request, "error.html", status_code=status, message=message, hint=hint, said=said, back=back)


_REFUSED = re.compile(r"may not do ([a-z_]+\.[a-z_]+)")


def _refused(language: Language, message: str) -> str | None:
    """ "You may not ..." for a refusal by the permission matrix (None for other refusals, such as
    a change without the page's CSRF token, whose message is plain already)."""
    found = _REFUSED.search(message)
    if found is None or found.group(1) not in PERMISSIONS:
        return None
    action = found.group(1).replace(".", "_")
    what = language.text(f"forbidden.{action}")
    if what == f"forbidden.{action}":  # a permission with no words yet
        what = language.text("forbidden.other")
    return language.text("error.forbidden", what=what)


def _back(request: Request) -> str | None:
    """The page the reader came from, when it is a page of this site (else None)."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc.lower() != request.headers.get("host", "").lower() or not parts.path.startswith("/"):
        return None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if target == request.url.path or target.startswith("//") or "\\" in target:
        return None
    return target


def _kind(status: int) -> str:
    """The message key that says, in the reader's language, what kind of error this is."""
    return f"error.status.{status}" if status in _KINDS else "error.status.other"


_KINDS = (400, 401, 403, 404, 409, 413, 422)
