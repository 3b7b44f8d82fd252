"""The public pages of an operation: no log-in, no cookie read or set, no personal data.

``/public/{slug}``: each gathering point's state and the notices in force (and the void ones),
in Arabic or English; ``/public/{slug}/notices/{id}/poster.pdf``: a notice's poster;
``/public/{slug}/trace``: the family tracing form. A staff session cookie is ignored: these
routes read no credentials, so a coordinator sees what everyone sees.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from corridor.reports.notice_words import Words, words
from corridor.reports.notices import notice_lines, notice_title
from corridor.reports.posters_pdf import SIZES, Size, poster_pdf
from corridor.reports.sitrep_pdf import FontMissingError
from corridor.server.access.login import address_of
from corridor.server.deps import RuntimeDep
from corridor.server.errors import NotFoundError
from corridor.server.public import service, tracing
from corridor.server.public.codes import digest, normal
from corridor.server.public.limits import TracingLimits
from corridor.server.public.tables import Notice as NoticeRow
from corridor.server.runtime import Runtime
from corridor.server.web.render import environment
from corridor.server.web.session import check_origin

router = APIRouter(prefix="/public/{slug}", include_in_schema=False)
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


def _html(template: str, w: Words, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(template).render(w=w, other="en" if w.rtl else "ar", **context)
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Content-Language": w.code, "Vary": "Accept-Language"},
    )


def notice_view(row: NoticeRow, w: Words, url: str) -> dict[str, Any]:
    notice = service.notice_of(row)
    return {
        "id": row.id,
        "key": row.key,
        "version": row.version,
        "title": notice_title(notice, w),
        "lines": notice_lines(notice, w, version=row.version, issued=row.issued_at, url=url),
    }


def _status(runtime: Runtime, slug: str, w: Words, url: str) -> dict[str, Any]:
    with runtime.db.reading() as session:
        operation = service.by_slug(session, slug)
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


@router.get("")
async def status_page(request: Request, slug: str, runtime: RuntimeDep, lang: Lang = None) -> HTMLResponse:
    """Each gathering point's state and the notices in force (at most 30 KB)."""
    w = language(request, lang)
    context = await run_in_threadpool(_status, runtime, slug, w, public_url(request, slug))
    return _html("public_status.html", w, **context)


def _poster(runtime: Runtime, slug: str, notice_id: str) -> tuple[NoticeRow, str]:
    with runtime.db.reading() as session:
        operation = service.by_slug(session, slug)
        row = session.get(NoticeRow, notice_id)
        if row is None or row.operation_id != operation.id:
            raise NotFoundError("no such notice", where="notice", hint="open the notices page again")
        session.expunge(row)
        return row, service.slug_of(operation)


def poster_response(row: NoticeRow, w: Words, size: Size, url: str) -> Response:
    """A notice's poster PDF (503 with the reason when the font is missing)."""
    notice = service.notice_of(row)
    try:
        data = poster_pdf(
            notice_title(notice, w),
            notice_lines(notice, w, version=row.version, issued=row.issued_at, url=url),
            url=url,
            scan=w.text("poster.scan"),
            rtl=w.rtl,
            size=size,
            void=w.text("notice.void") if row.void_at is not None else None,
        )
    except FontMissingError as error:
        return Response(f"{error.message}. {error.hint}", status_code=503, media_type="text/plain")
    name = f"notice-{row.key.replace('/', '-')}-v{row.version}-{size}-{w.code}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/notices/{notice_id}/poster.pdf", response_model=None)
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


@router.get("/trace")
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
    with runtime.db.writing() as session:
        operation = service.by_slug(session, slug)
        if wait:
            tracing.record(
                session, operation.id, consent_id=None, outcome=tracing.LIMITED, address=address, path=path
            )
            return tracing.Answer(tracing.LIMITED)
        answer, consent_id = tracing.ask(session, operation, code)
        tracing.record(
            session, operation.id, consent_id=consent_id, outcome=answer.outcome, address=address, path=path
        )
        return answer


@router.post("/trace")
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
