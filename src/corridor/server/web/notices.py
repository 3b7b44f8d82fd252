"""The coordinator's Notices page: the notices in force and their versions, posters to print,
SMS batches to export, the delivery report of an SMS gateway read back, and what went out or
failed, with the access log's entries for them.

Printing a poster here, or exporting an SMS batch (phone numbers: personal data, so it needs
``people.read`` and is in the access log), is recorded as a delivery of each notice concerned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError, InputError
from corridor.reports.notice_words import Words, words
from corridor.reports.notices import Notice, notice_title, sms_text
from corridor.reports.posters_pdf import SIZES, Size
from corridor.reports.sms import Message, batch_csv, length, normal_phone, read_statuses
from corridor.server.access.tables import AccessLogEntry
from corridor.server.auth import Actor, allowed
from corridor.server.columns import utc_now
from corridor.server.convoys import scenario as convoy_scenario
from corridor.server.deps import RuntimeDep, permit
from corridor.server.encryption import Sealer
from corridor.server.errors import NotFoundError
from corridor.server.operations import service as operations
from corridor.server.public import service
from corridor.server.public.routes import poster_response, public_url
from corridor.server.public.tables import Notice as NoticeRow
from corridor.server.public.tables import NoticeDelivery
from corridor.server.registration.tables import Household, Person
from corridor.server.runtime import Runtime
from corridor.server.web.i18n import choose
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
Lang = Annotated[str, Query(pattern="^(ar|en)$")]
# Stretcher needs that put a person under a group that needs a stretcher.
STRETCHER_NEEDS = frozenset({"stretcher", "wounded"})
MAX_STATUS_BYTES = 5 * 1024 * 1024


def _words(request: Request) -> Words:
    return words("ar" if choose(request).code == "ar" else "en")


def _page_data(runtime: Runtime, operation_id: str, w: Words) -> dict[str, Any]:
    service.sync(runtime, operation_id)
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        rows = service.current_notices(session, operation_id)
        void = service.void_notices(session, operation_id, limit=30)
        deliveries = list(
            session.scalars(
                select(NoticeDelivery)
                .where(NoticeDelivery.operation_id == operation_id)
                .order_by(NoticeDelivery.id.desc())
                .limit(50)
            )
        )
        log = list(
            session.scalars(
                select(AccessLogEntry)
                .where(
                    AccessLogEntry.operation_id == operation_id,
                    or_(AccessLogEntry.action == "tracing.query", AccessLogEntry.path.contains("/notices")),
                )
                .order_by(AccessLogEntry.id.desc())
                .limit(30)
            )
        )
        keys = {r.id: f"{r.key} v{r.version}" for r in [*rows, *void]}
        sent: dict[str, dict[str, int]] = {}
        for d in session.scalars(select(NoticeDelivery).where(NoticeDelivery.operation_id == operation_id)):
            if d.notice_id is not None:
                per = sent.setdefault(d.notice_id, {})
                per[f"{d.channel}_{d.status}"] = per.get(f"{d.channel}_{d.status}", 0) + d.count
        return {
            "operation": operation,
            "slug": service.slug_of(operation),
            "notices": [
                {
                    "row": r,
                    "title": notice_title(service.notice_of(r), w),
                    "sent": sent.get(r.id, {}),
                }
                for r in rows
            ],
            "void": [{"row": r, "title": notice_title(service.notice_of(r), w)} for r in void],
            "deliveries": [{"d": d, "notice": keys.get(d.notice_id or "", "–")} for d in deliveries],
            "log": log,
            "sizes": SIZES,
        }


@router.get("/operations/{operation_id}/notices")
async def notices_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
) -> HTMLResponse:
    w = _words(request)
    data = await run_in_threadpool(_page_data, runtime, operation_id, w)
    return page(
        request,
        "notices.html",
        actor=actor,
        nav=menu(actor, operation_id),
        w=w,
        public=public_url(request, data["slug"]),
        can_export=allowed(actor, "people.read", operation_id),
        can_update=allowed(actor, "operation.update", operation_id),
        **data,
    )


def _deliver(
    runtime: Runtime, operation_id: str, rows: Iterable[tuple[str | None, str, str, int, str]], by: str
) -> None:
    """Record deliveries: (notice id, channel, status, count, detail) each."""
    with runtime.db.writing() as session:
        now = utc_now()
        for notice_id, channel, status, count, detail in rows:
            session.add(
                NoticeDelivery(
                    operation_id=operation_id,
                    notice_id=notice_id,
                    channel=channel,
                    status=status,
                    count=count,
                    detail=detail,
                    at=now,
                    by=by,
                )
            )


def _notice_row(runtime: Runtime, operation_id: str, notice_id: str) -> tuple[NoticeRow, str]:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        row = session.get(NoticeRow, notice_id)
        if row is None or row.operation_id != operation_id:
            raise NotFoundError(f"no notice {notice_id} in this operation", where="notice_id")
        session.expunge(row)
        return row, service.slug_of(operation)


@router.get("/operations/{operation_id}/notices/{notice_id}/poster.pdf", response_model=None)
async def staff_poster(
    request: Request,
    operation_id: str,
    notice_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
    size: Annotated[Size, Query()] = "A4",
    lang: Lang = "ar",
) -> Response:
    """A notice's poster, recorded as printed (downloaded) by the caller."""
    row, slug = await run_in_threadpool(_notice_row, runtime, operation_id, notice_id)
    response = poster_response(row, words(lang), size, public_url(request, slug))
    if response.status_code == 200:
        detail = f"poster {size} {lang}"
        await run_in_threadpool(
            _deliver, runtime, operation_id, [(row.id, "poster", "sent", 1, detail)], actor.label
        )
    return response


@dataclass(frozen=True)
class Recipient:
    phone: str | None  # None: the number typed is not one
    notice: NoticeRow


def recipients(session: Session, runtime: Runtime, operation_id: str, sealer: Sealer) -> list[Recipient]:
    """Everyone registered with a phone number, with the notice in force for their gathering
    point and group (a stretcher group for the wounded and those on stretchers, where there is one)."""
    rows = service.current_notices(session, operation_id)
    notices = {r.key: r for r in rows}
    kinds = {(n.point, n.group_name): service.notice_of(n) for n in rows}
    operation = operations.get(session, operation_id)
    try:
        sources = convoy_scenario.load(
            runtime.settings.scenarios_dir, operation.scenario_name
        ).scenario.sources
        source_at = {s.id: (s.node or s.id, s.group) for s in sources}
    except CorridorError:  # no scenario: notices are found by point only
        source_at = {}
    found: list[Recipient] = []
    seen: set[tuple[str, str]] = set()
    people = session.execute(
        select(Person.phone_sealed, Person.vulnerabilities, Household.gathering_point)
        .join(Household, Household.id == Person.household_id)
        .where(Person.operation_id == operation_id, Person.phone_sealed.is_not(None))
        .order_by(Person.id)
    )
    for sealed, needs, gathering in people:
        point, group = source_at.get(gathering or "", (gathering or "", ""))
        here = [n for (p, _), n in kinds.items() if p == point]
        chosen: Notice | None = None
        if set(needs or []) & STRETCHER_NEEDS:
            chosen = next((n for n in here if n.stretcher), None)
        if chosen is None:
            chosen = next((n for n in here if n.group == group), None) or next(
                (n for n in here if not n.stretcher), None
            )
        if chosen is None:
            continue
        phone = normal_phone(sealer.open(sealed)) if sealed else None
        key = (phone or "", chosen.key)
        if phone is not None and key in seen:
            continue
        seen.add(key)
        found.append(Recipient(phone, notices[chosen.key]))
    return found


def _batch(runtime: Runtime, operation_id: str, lang: str, url: str, by: str) -> tuple[str, int]:
    service.sync(runtime, operation_id)
    w = words(lang)
    with runtime.db.reading() as session:
        found = recipients(session, runtime, operation_id, runtime.sealer)
    messages = []
    sent: dict[str, int] = {}
    bad: dict[str, int] = {}
    for r in found:
        if r.phone is None:
            bad[r.notice.id] = bad.get(r.notice.id, 0) + 1
            continue
        text = sms_text(service.notice_of(r.notice), w, version=r.notice.version, url=url)
        messages.append(Message(r.phone, text, lang, r.notice.key, r.notice.version))
        sent[r.notice.id] = sent.get(r.notice.id, 0) + 1
    parts = sum(length(m.text).parts for m in messages)
    rows: list[tuple[str | None, str, str, int, str]] = [
        (nid, "sms", "sent", n, f"SMS batch ({lang}) exported for the gateway") for nid, n in sent.items()
    ]
    rows += [
        (nid, "sms", "failed", n, "phone number not usable as typed at registration")
        for nid, n in bad.items()
    ]
    if rows:
        _deliver(runtime, operation_id, rows, by)
    return batch_csv(messages), parts


@router.get("/operations/{operation_id}/notices/sms.csv", response_model=None)
async def sms_batch(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("people.read")],
    lang: Lang = "ar",
) -> Response:
    """Every registered phone number with its notice as a text message: CSV for SMS gateways
    and RapidPro (urn, phone, message, language, encoding, characters, parts, notice, version)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        slug = service.slug_of(operation)
    csv_text, parts = await run_in_threadpool(
        _batch, runtime, operation_id, lang, public_url(request, slug), actor.label
    )
    return Response(
        csv_text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="sms-{slug}-{lang}.csv"',
            "Cache-Control": "no-store",
            "X-SMS-Parts": str(parts),
        },
    )


def _statuses(runtime: Runtime, operation_id: str, text: str, by: str) -> int:
    """Record the failures of a gateway's delivery report against the notices of their numbers."""
    statuses = read_statuses(text)
    failed = {normal_phone(s.phone) or s.phone: s.detail for s in statuses if s.failed}
    with runtime.db.reading() as session:
        found = recipients(session, runtime, operation_id, runtime.sealer)
    per: dict[str, int] = {}
    details: dict[str, set[str]] = {}
    matched: set[str] = set()
    for r in found:
        if r.phone is not None and r.phone in failed:
            per[r.notice.id] = per.get(r.notice.id, 0) + 1
            details.setdefault(r.notice.id, set()).add(failed[r.phone])
            matched.add(r.phone)
    rows: list[tuple[str | None, str, str, int, str]] = [
        (nid, "sms", "failed", n, "gateway: " + ", ".join(sorted(details[nid]))) for nid, n in per.items()
    ]
    strangers = len(set(failed) - matched)
    if strangers:
        rows.append((None, "sms", "failed", strangers, "gateway: numbers not registered in this operation"))
    if rows:
        _deliver(runtime, operation_id, rows, by)
    return sum(per.values()) + strangers


@router.post("/operations/{operation_id}/notices/sms-status", response_model=None)
async def sms_status(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
    file: UploadFile,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Read back an SMS gateway's delivery report (CSV: phone or urn, status); its failures
    are recorded against the notices of those numbers. A bad file: 422 naming the line. Posted
    by the browser itself (no htmx), the answer is the notices page again, or the error page."""
    del csrf_token  # checked with the session cookie by permit (a bearer token needs none)
    data = await file.read(MAX_STATUS_BYTES + 1)
    w = _words(request)
    # Posted by the browser itself (no htmx, no script with a bearer token): whole pages answer.
    plain = "HX-Request" not in request.headers and "authorization" not in request.headers
    try:
        if len(data) > MAX_STATUS_BYTES:
            raise ValueError(f"the file is larger than {MAX_STATUS_BYTES} bytes")
        failed = await run_in_threadpool(
            _statuses, runtime, operation_id, data.decode("utf-8-sig"), actor.label
        )
    except (ValueError, UnicodeDecodeError) as error:
        message = f"{file.filename or 'upload'}: {error}"
        if plain:  # the error page
            raise InputError(message, where="file", hint="send the gateway's CSV report") from error
        return HTMLResponse(
            f'<p class="alert bad" id="sms-status-result">{_escape(message)}</p>', status_code=422
        )
    if plain:  # back to the page, its deliveries
        return RedirectResponse(f"/operations/{operation_id}/notices#deliveries", status_code=303)
    text = w.text("staff.failures_recorded", n=failed)
    return HTMLResponse(f'<p class="alert ok" id="sms-status-result">{_escape(text)}</p>')


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
