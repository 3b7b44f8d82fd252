"""HTTP routes for streaming CSV exports of people, events and incidents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from corridor.reports.hxl import hxl_lines
from corridor.server.auth import NAME_ROLES, Actor
from corridor.server.checkpoints import service as checkpoints
from corridor.server.columns import utc_now
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
    header, rows = _people(runtime, actor, operation_id)
    return _stream("people.csv", service.csv_lines(header, rows))


def _people(runtime: RuntimeDep, actor: Actor, operation_id: str) -> tuple[list[str], Iterator[list[object]]]:
    """The people export's header and rows; names, phones and wristbands only for the roles
    that may see them."""
    _exists(runtime, operation_id)
    names = bool(actor.roles_in(operation_id) & NAME_ROLES)
    header = service.PEOPLE_HEADER + (["name", "phone", "wristband"] if names else [])
    return header, service.people_rows(runtime.db, runtime.sealer, operation_id, names=names)


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


# HXL-tagged CSV (a row of #hashtags under the header) and GeoJSON, for humanitarian data tools.


@router.get("/people.hxl.csv", response_class=StreamingResponse)
def export_people_hxl(
    operation_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("exports.people")]
) -> StreamingResponse:
    """people.csv with HXL hashtags; pseudonymous unless the role may see names."""
    header, rows = _people(runtime, actor, operation_id)
    return _stream("people.hxl.csv", hxl_lines(header, rows))


@router.get("/events.hxl.csv", response_class=StreamingResponse)
def export_events_hxl(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("exports.events")]
) -> StreamingResponse:
    _exists(runtime, operation_id)
    rows = service.event_rows(runtime.db, operation_id)
    return _stream("events.hxl.csv", hxl_lines(service.EVENTS_HEADER, rows))


@router.get("/incidents.hxl.csv", response_class=StreamingResponse)
def export_incidents_hxl(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("exports.incidents")]
) -> StreamingResponse:
    _exists(runtime, operation_id)
    rows = service.incident_rows(runtime.db, runtime.sealer, operation_id)
    return _stream("incidents.hxl.csv", hxl_lines(service.INCIDENTS_HEADER, rows))


@router.get("/counts.hxl.csv", response_class=StreamingResponse)
def export_counts_hxl(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("counts.read")]
) -> StreamingResponse:
    """People by gathering point and status, now (counts only: observers may have it)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        result = checkpoints.reconciliation(
            session, operation=operation, now=utc_now(), grace_minutes=runtime.settings.grace_minutes
        )
    rows = list(service.counts_rows(result))
    return _stream("counts.hxl.csv", hxl_lines(service.COUNTS_HEADER, rows))


@router.get("/operation.geojson", response_class=JSONResponse)
def export_geojson(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("counts.read")]
) -> JSONResponse:
    """A GeoJSON FeatureCollection: route points with counts by status and P-codes, incidents
    with their place (no description, no one named), vehicles at their last seen point."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        collection = service.operation_geojson(session, operation=operation, now=utc_now())
    return JSONResponse(
        collection,
        media_type="application/geo+json",
        headers={"Content-Disposition": 'attachment; filename="operation.geojson"'},
    )
