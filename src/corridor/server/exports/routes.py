"""HTTP routes for streaming CSV exports of people, events and incidents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from corridor.server.auth import NAME_ROLES, Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.exports import service
from corridor.server.operations import service as operations

router = APIRouter(prefix="/api/operations/{operation_id}/exports", tags=["exports"])
CSV = "text/csv; charset=utf-8"


def _stream(name: str, body: Iterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        body, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _exists(runtime: RuntimeDep, operation_id: str) -> None:
    with runtime.db.reading() as session:
        operations.get(session, operation_id)


@router.get("/people.csv", response_class=StreamingResponse)
def export_people(
    operation_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("exports.people")]
) -> StreamingResponse:
    """Everyone registered, streamed. Names, phones and wristbands only for coordinators and
    registrars; for other roles the export is pseudonymous."""
    _exists(runtime, operation_id)
    names = bool(actor.roles_in(operation_id) & NAME_ROLES)
    header = service.PEOPLE_HEADER + (["name", "phone", "wristband"] if names else [])
    rows = service.people_rows(runtime.db, runtime.sealer, operation_id, names=names)
    return _stream("people.csv", service.csv_lines(header, rows))


@router.get("/events.csv", response_class=StreamingResponse)
def export_events(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("exports.events")]
) -> StreamingResponse:
    """The operation's ledger entries in chain order, streamed."""
    _exists(runtime, operation_id)
    rows = service.event_rows(runtime.db, operation_id)
    return _stream("events.csv", service.csv_lines(service.EVENTS_HEADER, rows))


@router.get("/incidents.csv", response_class=StreamingResponse)
def export_incidents(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("exports.incidents")]
) -> StreamingResponse:
    _exists(runtime, operation_id)
    rows = service.incident_rows(runtime.db, runtime.sealer, operation_id)
    return _stream("incidents.csv", service.csv_lines(service.INCIDENTS_HEADER, rows))
