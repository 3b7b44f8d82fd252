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
from pydantic import BaseModel
from sqlalchemy.exc import DataError
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
    429: "too_many_requests",
}


class ErrorDetail(BaseModel):
    where: str
    message: str


class ErrorInfo(BaseModel):
    status: int
    code: str
    message: str
    where: str | None
    hint: str | None
    details: list[ErrorDetail]


class ErrorOut(BaseModel):
    """The one shape of every error answer."""

    error: ErrorInfo


_MEANING = {
    400: "The request cannot be done as asked (for example a wrong current password)",
    401: "No valid credentials",
    403: "The caller's role does not allow this",
    404: "Something named in the request does not exist or is not visible to the caller",
    409: "A conflict with what is stored, or the operation is closed",
    413: "The request body or a file is larger than the route accepts",
    422: "A field, parameter or value is invalid (each listed in details)",
    500: "The server failed (logged with the id in the message); nothing was stored",
}
# Every operation of the API lists these answers in the OpenAPI document.
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": meaning} for status, meaning in _MEANING.items()
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


def _refused_value(request: Request, html: HtmlErrors) -> Response:
    message = "a value of the request is out of range or holds a character that cannot be stored"
    hint = "check numbers (64-bit at most), dates (years 1900 to 2200) and text (no NUL characters)"
    page = html(request, 422, message, hint)
    return page or JSONResponse(
        error_body(422, "invalid", message, where="request", hint=hint), status_code=422
    )


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
        status, message = exc.status_code, str(exc.detail)
        where, hint = getattr(exc, "where", None), getattr(exc, "hint", None)
        if status == 400:
            # A body the framework could not parse (bytes that are not UTF-8 JSON, a broken
            # multipart form): invalid input like any other, answered 422.
            status, where = 422, "body"
            hint = "send the body as UTF-8 JSON (or a well-formed multipart form for files)"
        page = html(request, status, message, hint)
        if page is not None:
            return page
        code = _HTTP_CODES.get(status, "error")
        body = error_body(status, code, message, where=where, hint=hint)
        return JSONResponse(body, status_code=status, headers=exc.headers)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        # The database refused a value no schema caught (a NUL character in text on PostgreSQL,
        # a number or date out of its range): the client's input, not a failure of the server.
        log.info("value refused by the database: %s", exc.orig)
        return _refused_value(request, html)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, _exc: OverflowError) -> Response:
        # SQLite refuses integers past 64 bits with OverflowError; dates past year 9999 overflow.
        return _refused_value(request, html)

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
