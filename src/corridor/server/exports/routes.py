"""HTTP routes for streaming CSV exports of people, events and incidents.

Every download is named after its operation and the day (UTC) it was made, so files from
several operations and days do not overwrite each other: ``aleppo-east_people_2026-12-07.csv``
(an Arabic operation name is transliterated; the exact name is in ``filename*``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, get_args
from urllib.parse import quote

from anyascii import anyascii
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse

from corridor.core.errors import CorridorError
from corridor.reports import layers
from corridor.reports.hxl import hxl_lines
from corridor.reports.xlsform import Codes, xlsform_bytes
from corridor.server.auth import NAME_ROLES, Actor
from corridor.server.columns import utc_now
from corridor.server.deps import RuntimeDep, permit
from corridor.server.exports import service
from corridor.server.ledger import counts
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.registration.schemas import AGE_BANDS, VULNERABILITIES, Sex
from corridor.server.web import plan_cache

router = APIRouter(prefix="/api/operations/{operation_id}/exports", tags=["exports"])
CSV = "text/csv; charset=utf-8"


def download_name(operation: Operation, what: str) -> str:
    """``<operation>_<what>`` with today's UTC date before the extension: the operation's name
    in ASCII letters, digits and dashes (its id if nothing is left)."""
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(operation.name).lower()).strip("-")[:60] or operation.id
    stem, dot, extension = what.partition(".")
    return f"{slug}_{stem}_{utc_now().date().isoformat()}{dot}{extension}"


def disposition(operation: Operation, what: str) -> str:
    """A Content-Disposition naming the download after its operation and date (RFC 6266)."""
    name = download_name(operation, what)
    exact = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", operation.name).strip() or operation.id
    stem, dot, extension = what.partition(".")
    full = f"{exact}_{stem}_{utc_now().date().isoformat()}{dot}{extension}"
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(full, safe='')}"


def _stream(operation: Operation, what: str, body: Iterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        body, media_type=CSV, headers={"Content-Disposition": disposition(operation, what)}
    )


def _exists(runtime: RuntimeDep, operation_id: str) -> Operation:
    with runtime.db.reading() as session:
        return operations.get(session, operation_id)


@router.get("/people.csv", response_class=StreamingResponse)
def export_people(
    operation_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("exports.people")]
) -> StreamingResponse:
    """Everyone registered, streamed. Names, phones and wristbands only for coordinators and
    registrars; for other roles the export is pseudonymous."""
    operation, header, rows = _people(runtime, actor, operation_id)
    return _stream(operation, "people.csv", service.csv_lines(header, rows))


def _people(
    runtime: RuntimeDep, actor: Actor, operation_id: str
) -> tuple[Operation, list[str], Iterator[list[object]]]:
    """The people export's header and rows; names, phones and wristbands only for the roles
    that may see them."""
    operation = _exists(runtime, operation_id)
    names = bool(actor.roles_in(operation_id) & NAME_ROLES)
    header = service.PEOPLE_HEADER + (["name", "phone", "wristband"] if names else [])
    return operation, header, service.people_rows(runtime.db, runtime.sealer, operation_id, names=names)


@router.get("/events.csv", response_class=StreamingResponse)
def export_events(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("exports.events")]
) -> StreamingResponse:
    """The operation's ledger entries in chain order, streamed."""
    operation = _exists(runtime, operation_id)
    rows = service.event_rows(runtime.db, operation_id)
    return _stream(operation, "events.csv", service.csv_lines(service.EVENTS_HEADER, rows))


@router.get("/incidents.csv", response_class=StreamingResponse)
def export_incidents(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("exports.incidents")]
) -> StreamingResponse:
    operation = _exists(runtime, operation_id)
    rows = service.incident_rows(runtime.db, runtime.sealer, operation_id)
    return _stream(operation, "incidents.csv", service.csv_lines(service.INCIDENTS_HEADER, rows))


# HXL-tagged CSV (a row of #hashtags under the header) and GeoJSON, for humanitarian data tools.


@router.get("/people.hxl.csv", response_class=StreamingResponse)
def export_people_hxl(
    operation_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("exports.people")]
) -> StreamingResponse:
    """people.csv with HXL hashtags; pseudonymous unless the role may see names."""
    operation, header, rows = _people(runtime, actor, operation_id)
    return _stream(operation, "people.hxl.csv", hxl_lines(header, rows))


@router.get("/events.hxl.csv", response_class=StreamingResponse)
def export_events_hxl(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("exports.events")]
) -> StreamingResponse:
    operation = _exists(runtime, operation_id)
    rows = service.event_rows(runtime.db, operation_id)
    return _stream(operation, "events.hxl.csv", hxl_lines(service.EVENTS_HEADER, rows))


@router.get("/incidents.hxl.csv", response_class=StreamingResponse)
def export_incidents_hxl(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("exports.incidents")]
) -> StreamingResponse:
    operation = _exists(runtime, operation_id)
    rows = service.incident_rows(runtime.db, runtime.sealer, operation_id)
    return _stream(operation, "incidents.hxl.csv", hxl_lines(service.INCIDENTS_HEADER, rows))


@router.get("/counts.hxl.csv", response_class=StreamingResponse)
def export_counts_hxl(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("counts.read")]
) -> StreamingResponse:
    """People by gathering point and status, now (counts only: observers may have it)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        result = counts.reconciliation(
            runtime.counts,
            session,
            operation=operation,
            now=utc_now(),
            grace_minutes=runtime.settings.grace_minutes,
        )
    rows = list(service.counts_rows(result))
    return _stream(operation, "counts.hxl.csv", hxl_lines(service.COUNTS_HEADER, rows))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/registration-form.xlsx", response_class=Response)
def registration_form(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("imports.write")]
) -> Response:
    """The registration form as an XLSForm for ODK Collect and KoBoCollect, titled with the
    operation's name: upload it to KoBoToolbox or ODK Central, and import their exports with
    ``POST .../imports/registrations`` (a submission imported twice is stored once)."""
    operation = _exists(runtime, operation_id)
    codes = Codes(sexes=get_args(Sex), age_bands=AGE_BANDS, vulnerabilities=VULNERABILITIES)
    data = xlsform_bytes(codes, title=operation.name, version=utc_now().strftime("%Y%m%d%H%M"))
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": disposition(operation, "registration-form.xlsx")},
    )


@router.get("/operation.geojson", response_class=JSONResponse)
def export_geojson(
    operation_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("counts.read")],
) -> JSONResponse:
    """A GeoJSON FeatureCollection: route points with counts by status and P-codes, incidents
    with their place (no description, no one named), vehicles at their last seen point. Route
    points stand where the operation's map places them."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
    placed = _map_places(runtime, operation)
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        collection = service.operation_geojson(
            session, runtime.counts, operation=operation, now=utc_now(), placed=placed
        )
    return JSONResponse(
        collection,
        media_type="application/geo+json",
        headers={"Content-Disposition": disposition(operation, "operation.geojson")},
    )


# Names of the coordinate systems whose x, y are longitude, latitude (GeoJSON's own).
_LONLAT = {"EPSG:4326", "WGS84", "OGC:CRS84", "CRS84"}


def _map_places(runtime: RuntimeDep, operation: Operation) -> dict[str, tuple[float, float]]:
    """Longitude, latitude of each route point as the map places it (the published plan's node,
    the network node or scenario place of its id); the scenario is read, not solved. None are
    placed so when the scenario file is missing or has errors, or its network is drawn in a
    projected system (GeoJSON is longitude, latitude): the route's own lon/lat serve then."""
    path = plan_cache.find_scenario(runtime.settings.scenarios_dir, operation.scenario_name)
    if path is None:
        return {}
    try:
        _, _, problem = plan_cache.compiled(runtime, path)
    except CorridorError:
        return {}
    if problem.network.crs.upper() not in _LONLAT:
        return {}
    placed = layers.place_route_points(
        operations.route_of(operation).points,
        problem=problem,
        plan_nodes=(operation.published_plan or {}).get("nodes", {}),
        coordinates={},
    )
    return {point: (where.x, where.y) for point, where in placed.items()}
