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
from corridor.server.web.i18n import Language, choose
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
# The latest flagged events shown.
FLAGGED_SHOWN = 50


def offset_text(seconds: float | None, language: Language) -> str:
    """``+3652 d 0 h``, ``−2 h 0 min``, ``+12 s``: a clock offset as staff read it, its units in
    the reader's language (CLDR's narrow units: ``+3652 ي 0 س`` in Arabic)."""
    if seconds is None:
        return language.text("clocks.unknown")
    if abs(seconds) < OFFSET_FLOOR_SECONDS:
        return language.text("clocks.in_sync")
    sign = "+" if seconds > 0 else "−"
    left = round(abs(seconds))
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes, secs = divmod(left, 60)
    if days:
        return language.text("clocks.offset_days", sign=sign, days=days, hours=hours)
    if hours:
        return language.text("clocks.offset_hours", sign=sign, hours=hours, minutes=minutes)
    if minutes:
        return language.text("clocks.offset_minutes", sign=sign, minutes=minutes, seconds=secs)
    return language.text("clocks.offset_seconds", sign=sign, seconds=secs)


def _utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "–"


@router.get("/operations/{operation_id}/clocks")
def clocks_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("reconciliation.read")],
) -> HTMLResponse:
    language = choose(request)
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
                "type_said": language.word("clocks.type_", row.type),
                "subject": row.subject_id or "–",
                "device_time": _utc(row.device_time),
                "received": _utc(row.received_at),
                "flag": language.word("clocks.flag_", flag or ""),
            }
            for row, flag in rows
        ]
    shown = [
        {
            "device": d.device_id,
            "offset": offset_text(d.offset_seconds, language),
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
        devices=shown,
        flagged=flagged,
    )
