"""The public pages of an operation: no log-in, no cookie read or set, no personal data.

``/public/{slug}``: each gathering point's state and the notices in force (and the void ones),
in Arabic or English; ``/public/{slug}/notices/{id}/poster.pdf``: a notice's poster;
``/public/{slug}/trace``: the family tracing form. A staff session cookie is ignored: these
routes read no credentials, so a coordinator sees what everyone sees.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from corridor.reports.notice_words import Words, words
from corridor.reports.notices import notice_lines, notice_title
from corridor.reports.posters_pdf import SIZES, Size, poster_pdf
from corridor.reports.sitrep_pdf import FontMissingError
from corridor.server.access.login import address_of
from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.public import consent, service, tracing
from corridor.server.public.codes import digest, normal
from corridor.server.public.limits import TracingLimits
from corridor.server.public.tables import Notice as NoticeRow
from corridor.server.registration import service as registration
from corridor.server.runtime import Runtime
from corridor.server.web.render import environment
from corridor.server.web.session import check_origin

router = APIRouter()  # the app includes this one: the public pages and the consents' API route
pages = APIRouter(prefix="/public/{slug}", include_in_schema=False)
api = APIRouter(prefix="/api/operations/{operation_id}", tags=["registration"])
Lang = Annotated[str | None, Query(pattern="^(ar|en)$")]


def language(request: Request, lang: str | None) -> Words:
    """``?lang=`` (ar or en), else the browser's first of the two, else Arabic."""
    if lang:
        return words(lang)
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in ("ar", "en"):
            return words(code)
    return words("ar")


def public_url(request: Request, slug: str) -> str:
    return str(request.base_url).rstrip("/") + f"/public/{slug}"


_HEADERS = {"Cache-Control": "no-store", "Vary": "Accept-Language"}


def _html(template: str, w: Words, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(template).render(w=w, other="en" if w.rtl else "ar", **context)
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS | {"Content-Language": w.code})


def notice_view(row: NoticeRow, w: Words, url: str) -> dict[str, Any]:
    notice = service.notice_of(row)
    return {
        "id": row.id,
        "key": row.key,
        "version": row.version,
        "title": notice_title(notice, w),
        "lines": notice_lines(notice, w, version=row.version, issued=row.issued_at, url=url),
    }


# Rendered public pages, kept a few seconds: a crowd refreshing the page costs one rendering per
# operation, language and address; a new plan or convoy version or a change of state shows at once.
PAGE_SECONDS = 15.0
_pages: dict[tuple[Any, ...], tuple[float, str]] = {}
_pages_guard = threading.Lock()


def _status_html(runtime: Runtime, slug: str, w: Words, url: str) -> str:
    with runtime.db.reading() as session:
        operation = service.by_slug(session, slug)
        key = (id(runtime), operation.id, operation.state, service.basis_of(session, operation), w.code, url)
    now = time.monotonic()
    with _pages_guard:
        kept = _pages.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    context = _status(runtime, operation.id, w, url)
    html = (
        environment().get_template("public_status.html").render(w=w, other="en" if w.rtl else "ar", **context)
    )
    with _pages_guard:
        if len(_pages) > 256:
            _pages.clear()
        _pages[key] = (now + PAGE_SECONDS, html)
    return html


def _status(runtime: Runtime, operation_id: str, w: Words, url: str) -> dict[str, Any]:
    with runtime.db.reading() as session:
        operation = service.by_slug(session, operation_id)
    service.sync(runtime, operation.id)
    with runtime.db.reading() as session:
        rows = service.current_notices(session, operation.id)
        void = service.void_notices(session, operation.id, limit=20)
        notices = [service.notice_of(r) for r in rows]
        points = service.point_states(runtime, session, operation, notices)
        return {
            "operation_name": operation.name,
            "slug": service.slug_of(operation),
            "points": points,
            "notices": [notice_view(r, w, url) for r in rows],
            "void": [
                {"key": r.key, "version": r.version, "title": notice_title(service.notice_of(r), w)}
                for r in void
            ],
            "sizes": SIZES,
        }


@pages.get("")
async def status_page(request: Request, slug: str, runtime: RuntimeDep, lang: Lang = None) -> HTMLResponse:
    """Each gathering point's state and the notices in force (at most 30 KB)."""
    w = language(request, lang)
    html = await run_in_threadpool(_status_html, runtime, slug, w, public_url(request, slug))
    return HTMLResponse(html, headers=_HEADERS | {"Content-Language": w.code})


def _poster(runtime: Runtime, slug: str, notice_id: str) -> tuple[NoticeRow, str]:
    with runtime.db.reading() as session:
        operation = service.by_slug(session, slug)
        row = session.get(NoticeRow, notice_id)
        if row is None or row.operation_id != operation.id:
            raise NotFoundError("no such notice", where="notice", hint="open the notices page again")
        session.expunge(row)
        return row, service.slug_of(operation)


@lru_cache(maxsize=64)
def _poster_bytes(title: str, lines: tuple[str, ...], url: str, lang: str, size: Size, void: bool) -> bytes:
    """A poster, made once per content (a second or so of work each: kept for the next reader)."""
    w = words(lang)
    return poster_pdf(
        title,
        lines,
        url=url,
        scan=w.text("poster.scan"),
        rtl=w.rtl,
        size=size,
        void=w.text("notice.void") if void else None,
    )


def poster_response(row: NoticeRow, w: Words, size: Size, url: str) -> Response:
    """A notice's poster PDF (503 with the reason when the font is missing)."""
    notice = service.notice_of(row)
    try:
        data = _poster_bytes(
            notice_title(notice, w),
            tuple(notice_lines(notice, w, version=row.version, issued=row.issued_at, url=url)),
            url,
            w.code,
            size,
            row.void_at is not None,
        )
    except FontMissingError as error:
        return Response(f"{error.message}. {error.hint}", status_code=503, media_type="text/plain")
    name = f"notice-{row.key.replace('/', '-')}-v{row.version}-{size}-{w.code}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@pages.get("/notices/{notice_id}/poster.pdf", response_model=None)
async def poster(
    request: Request,
    slug: str,
    notice_id: str,
    runtime: RuntimeDep,
    size: Annotated[Size, Query()] = "A4",
    lang: Lang = None,
) -> Response:
    """A notice as a poster to print (A4 or A3), with the QR code of this page."""
    w = language(request, lang)
    row, canonical = await run_in_threadpool(_poster, runtime, slug, notice_id)
    return poster_response(row, w, size, public_url(request, canonical))


@pages.get("/trace")
def trace_form(request: Request, slug: str, runtime: RuntimeDep, lang: Lang = None) -> HTMLResponse:
    w = language(request, lang)
    with runtime.db.reading() as session:
        operation = service.by_slug(session, slug)
    return _html("public_trace.html", w, slug=service.slug_of(operation), answer=None, answer_text="")


def limits_of(request: Request) -> TracingLimits:
    """The app's tracing limits (made on first use)."""
    state = request.app.state
    found = getattr(state, "tracing_limits", None)
    if found is None:
        found = TracingLimits()
        state.tracing_limits = found
    return found


def _ask(runtime: Runtime, slug: str, code: str, address: str, path: str, wait: int) -> tracing.Answer:
    answer, consent_id = tracing.Answer(tracing.LIMITED), None
    if not wait:  # before the write transaction: bringing the kept fold up to date must not hold it
        with runtime.db.reading() as session:
            operation = service.by_slug(session, slug)
            answer, consent_id = tracing.ask(session, runtime.counts, operation, code)
    with runtime.db.writing() as session:
        operation = service.by_slug(session, slug)
        tracing.record(
            session, operation.id, consent_id=consent_id, outcome=answer.outcome, address=address, path=path
        )
        return answer


@pages.post("/trace")
async def trace(
    request: Request,
    slug: str,
    runtime: RuntimeDep,
    code: Annotated[str, Form(max_length=40)] = "",
    lang: Lang = None,
) -> HTMLResponse:
    """The status the code allows (registered, left, arrived at a reception point), or the same
    ``unknown`` answer for any code that allows none; 429 past the limits."""
    check_origin(request)
    w = language(request, lang)
    address = address_of(request)
    wait = limits_of(request).take(digest(code), address)
    answer = await run_in_threadpool(_ask, runtime, slug, normal(code), address, request.url.path, wait)
    if answer.outcome == tracing.LIMITED:
        text = w.text("trace.limited", minutes=max(1, -(-wait // 60)))
        response = _html(
            "public_trace.html", w, status_code=429, slug=slug, answer=answer.outcome, answer_text=text
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if answer.outcome == tracing.ARRIVED:
        text = w.text("trace.arrived", point=answer.point or "")
    else:
        text = w.text(f"trace.{answer.outcome}")
    return _html("public_trace.html", w, slug=slug, answer=answer.outcome, answer_text=text)


@api.delete("/people/{person_id}/tracing", status_code=204)
def withdraw_tracing(
    operation_id: str,
    person_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("households.write")],
) -> Response:
    """Withdraw the person's consents to family tracing: their codes answer nothing from now on
    (the same answer as a wrong code)."""
    with runtime.db.writing() as session:
        registration.get_person(session, operation_id, person_id)
        consent.withdraw(session, operation_id=operation_id, person_id=person_id)
    return Response(status_code=204)


router.include_router(pages)
router.include_router(api)
