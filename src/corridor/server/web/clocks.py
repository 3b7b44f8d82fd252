"""Device clocks, for the staff: each device's clock offset from the server's and the events
flagged as dated past belief (:mod:`corridor.ops.clock`). Names no person: subjects by id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from corridor.ops.clock import OFFSET_FLOOR_SECONDS
from corridor.server.auth import Actor
from corridor.server.checkpoints import clock
from corridor.server.checkpoints.clock_tables import EventClock
from corridor.server.deps import RuntimeDep, permit
from corridor.server.ledger.tables import LedgerRow
from corridor.server.operations import service as operations
from corridor.server.web.i18n import choose
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
# The latest flagged events shown.
FLAGGED_SHOWN = 50

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Device clocks",
        "intro": "Each device's clock against the server's, as its last syncs showed it. Times of "
        "its events are corrected by it; an event still dated past belief is kept and flagged, "
        "and can never hide an alarm.",
        "device": "Device",
        "offset": "Clock offset",
        "synced": "Last sent its clock (UTC)",
        "flagged": "Flagged events",
        "none": "No device has sent its clock or a flagged event yet.",
        "unknown": "not sent",
        "events": "Latest flagged events",
        "no_events": "No flagged events.",
        "type": "Event",
        "subject": "Person or vehicle",
        "device_time": "Device time (UTC)",
        "received": "Received (UTC)",
        "flag": "Flag",
        "ahead": "ahead of its receipt",
        "behind": "before the operation",
        "in_sync": "in time",
    },
    "ar": {
        "title": "ساعات الأجهزة",
        "intro": "ساعة كل جهاز مقارنة بساعة الخادم، كما أظهرتها آخر مزامناته. تُصحَّح بها أوقات "
        "أحداثه؛ والحدث الذي يبقى تاريخه غير معقول يُحفظ ويُعلَّم، ولا يمكن أن يخفي إنذاراً.",
        "device": "الجهاز",
        "offset": "فرق الساعة",
        "synced": "آخر إرسال لساعته (UTC)",
        "flagged": "أحداث معلَّمة",
        "none": "لم يرسل أي جهاز ساعته ولا حدثاً معلَّماً بعد.",
        "unknown": "لم تُرسَل",
        "events": "أحدث الأحداث المعلَّمة",
        "no_events": "لا أحداث معلَّمة.",
        "type": "الحدث",
        "subject": "الشخص أو المركبة",
        "device_time": "وقت الجهاز (UTC)",
        "received": "وقت الاستلام (UTC)",
        "flag": "العلامة",
        "ahead": "بعد وقت استلامه",
        "behind": "قبل بدء العملية",
        "in_sync": "مضبوطة",
    },
}


def texts(request: Request) -> dict[str, str]:
    return {**TEXTS["en"], **TEXTS.get(choose(request).code, {})}


def offset_text(seconds: float | None, words: dict[str, str]) -> str:
    """``+3652 d 0 h``, ``−2 h 0 min``, ``+12 s``: a clock offset as staff read it."""
    if seconds is None:
        return words["unknown"]
    if abs(seconds) < OFFSET_FLOOR_SECONDS:
        return words["in_sync"]
    sign = "+" if seconds > 0 else "−"
    left = round(abs(seconds))
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes, secs = divmod(left, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes} min"
    if minutes:
        return f"{sign}{minutes} min {secs} s"
    return f"{sign}{secs} s"


def _utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "–"


@router.get("/operations/{operation_id}/clocks")
def clocks_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("reconciliation.read")],
) -> HTMLResponse:
    words = texts(request)
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        devices = clock.device_clocks(session, operation_id)
        rows = session.execute(
            select(LedgerRow, EventClock.flag)
            .join(EventClock, EventClock.position == LedgerRow.position)
            .where(EventClock.operation_id == operation_id, EventClock.flag.is_not(None))
            .order_by(LedgerRow.position.desc())
            .limit(FLAGGED_SHOWN)
        ).all()
        flagged: list[dict[str, Any]] = [
            {
                "device": row.device_id,
                "type": row.type,
                "subject": row.subject_id or "–",
                "device_time": _utc(row.device_time),
                "received": _utc(row.received_at),
                "flag": words.get(flag or "", flag or ""),
            }
            for row, flag in rows
        ]
    shown = [
        {
            "device": d.device_id,
            "offset": offset_text(d.offset_seconds, words),
            "synced": _utc(d.synced_at),
            "flagged": d.flagged,
        }
        for d in devices
    ]
    return page(
        request,
        "clocks.html",
        actor=actor,
        operation=operation,
        nav=menu(actor, operation_id),
        words=words,
        devices=shown,
        flagged=flagged,
    )
