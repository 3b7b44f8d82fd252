"""The dashboard's incidents panel: the latest incidents, how many of each kind, and a link to
the incidents page; it refreshes by itself, as the live panel does.

It shows kinds, times and places, never descriptions or the people concerned; still, incidents
are personal data, so each read is logged (the permission says so)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.incidents.tables import Incident
from corridor.server.operations import service as operations
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
LATEST = 5


@router.get("/operations/{operation_id}/incidents/panel")
def incidents_panel(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("incidents.read")],
) -> HTMLResponse:
    """The latest incidents and the count of each kind (newest first)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        mine = Incident.operation_id == operation_id
        by_kind = {
            str(kind): int(n)
            for kind, n in session.execute(
                select(Incident.kind, func.count())
                .where(mine)
                .group_by(Incident.kind)
                .order_by(Incident.kind)
            )
        }
        latest = [
            {"kind": row.kind, "at": row.occurred_at, "place": row.place_name or row.pcode}
            for row in session.execute(
                select(Incident.kind, Incident.occurred_at, Incident.place_name, Incident.pcode)
                .where(mine)
                .order_by(Incident.occurred_at.desc(), Incident.created_at.desc())
                .limit(LATEST)
            )
        ]
    return page(
        request,
        "_dashboard_incidents.html",
        actor=actor,
        operation=operation,
        by_kind=by_kind,
        latest=latest,
        total=sum(by_kind.values()),
    )
