"""The browser's session: the API token in an HttpOnly cookie, and a CSRF token beside it.

A browser sends the session cookie with every request, so a request that changes something and is
authenticated by the cookie must also carry the CSRF token that only pages of this site can read:
in the header ``X-CSRF-Token`` (htmx and the scripts send it) or in the hidden form field
``csrf_token`` every staff form carries, so that a form posted by the browser itself (no script
yet, or none at all) is taken too. Requests with a bearer token need none.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from fastapi import Request, Response

from corridor.server.errors import AccessDeniedError

SESSION_COOKIE = "corridor_session"
CSRF_COOKIE = "corridor_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_token(request: Request) -> str | None:
    """The API token of the browser's session, if any."""
    return request.cookies.get(SESSION_COOKIE) or None


def check_csrf(request: Request, form_value: str | None = None) -> None:
    """Refuse a cookie-authenticated change that does not carry the page's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER) or form_value or ""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise AccessDeniedError(
            "this change did not come from a page of this site: it carries no valid CSRF token "
            f"(header {CSRF_HEADER} or form field {CSRF_FIELD})",
            where=CSRF_HEADER,
            hint="reload the page and send the form again",
        )


async def form_token(request: Request) -> str | None:
    """The ``csrf_token`` field of a posted form (None for another body or none).

    The form is read once and kept by the request, so the route's own form fields read it again
    at no cost; a body that is not a form is left alone."""
    if request.method in SAFE_METHODS or CSRF_HEADER in request.headers:
        return None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in FORM_TYPES:
        return None
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def check_origin(request: Request) -> None:
    """Refuse a form posted by a page of another site (the browser names its origin).

    For the log-in form, which has no session and so no CSRF token yet: without this, another
    site could log a browser into an account of its choosing and read what is typed into it."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser's cross-site form (browsers name the origin of every POST)
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        raise AccessDeniedError(
            "this form was not sent by a page of this site",
            where="Origin",
            hint="open the log-in page of this site and log in there",
        )


def open_session(response: Response, request: Request, token: str, expires: datetime) -> None:
    """Set the session and CSRF cookies after a log-in."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(24), expires=expires, samesite="strict", secure=secure, path="/"
    )


def close_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
