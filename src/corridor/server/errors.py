"""The one JSON error shape of the API, and the errors only the service raises.

Every error response is::

    {"error": {"status": 409, "code": "conflict", "message": "...", "where": "...",
               "hint": "...", "details": [{"where": "...", "message": "..."}]}}

``where`` names the field or thing at fault, ``hint`` says what to do; ``details`` lists every
problem when there are several (e.g. each invalid field of a request).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from corridor.core.errors import ConflictError, CorridorError, InputError

log = logging.getLogger("corridor.server")


class NotFoundError(CorridorError):
    """Something named in the request does not exist (or is not visible to the caller)."""


class AuthRequiredError(CorridorError):
    """No valid credentials: log in, or send a valid bearer token."""


class AccessDeniedError(CorridorError):
    """The caller's role does not allow this."""


class TooLargeError(InputError):
    """A request body or file is larger than the service accepts."""


_STATUS: list[tuple[type[CorridorError], int, str]] = [
    (ConflictError, 409, "conflict"),
    (NotFoundError, 404, "not_found"),
    (AuthRequiredError, 401, "unauthenticated"),
    (AccessDeniedError, 403, "forbidden"),
    (TooLargeError, 413, "too_large"),
    (InputError, 422, "invalid"),
]
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


def error_body(
    status: int,
    code: str,
    message: str,
    *,
    where: str | None = None,
    hint: str | None = None,
    details: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": code,
            "message": message,
            "where": where,
            "hint": hint,
            "details": details or [],
        }
    }


def status_of(error: CorridorError) -> tuple[int, str]:
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            return status, code
    return 400, "bad_request"


def render(error: CorridorError) -> JSONResponse:
    status, code = status_of(error)
    details = getattr(error, "details", None)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = error_body(status, code, error.message, where=error.where, hint=error.hint, details=details)
    return JSONResponse(body, status_code=status, headers=headers)


class InputProblemsError(InputError):
    """Several problems with one input, each with its own place."""

    def __init__(self, message: str, details: list[dict[str, str]], *, hint: str | None = None):
        self.details = details
        super().__init__(message, hint=hint)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    details = []
    for problem in exc.errors():
        message = str(problem.get("msg", "invalid value"))
        details.append({"where": _field(problem.get("loc", ())), "message": message})
    return details


# Renders an error for a person in a browser (status, message, hint), or None for API clients.
HtmlErrors = Callable[[Request, int, str, str | None], Response | None]


def _no_html(_request: Request, _status: int, _message: str, _hint: str | None) -> Response | None:
    return None


def install(app: FastAPI, html: HtmlErrors = _no_html) -> None:
    """Render every error, expected or not, in the one shape; never send a traceback.

    ``html`` may answer browsers with a page instead (outside the API).
    """

    @app.exception_handler(CorridorError)
    async def _corridor(request: Request, exc: CorridorError) -> Response:
        status, _code = status_of(exc)
        return html(request, status, exc.message, exc.hint) or render(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = _validation_details(exc)
        first = details[0] if details else {"where": "request", "message": "invalid"}
        page = html(request, 422, "; ".join(f"{d['where']}: {d['message']}" for d in details), None)
        if page is not None:
            return page
        body = error_body(
            422,
            "invalid",
            f"{first['where']}: {first['message']}"
            + (f" (and {len(details) - 1} more)" if len(details) > 1 else ""),
            where=first["where"],
            hint="correct the fields listed in details and send the request again",
            details=details,
        )
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        page = html(request, exc.status_code, str(exc.detail), None)
        if page is not None:
            return page
        code = _HTTP_CODES.get(exc.status_code, "error")
        body = error_body(exc.status_code, code, str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.error("unexpected error %s", incident, exc_info=exc)
        body = error_body(
            500,
            "internal",
            f"the server failed on this request (logged as {incident})",
            hint="nothing was stored by this request; try again, and report the id if it repeats",
        )
        return JSONResponse(body, status_code=500)
