"""Manifests: vehicles, assignment of people to vehicles from the plan, printable manifests.

The list of vehicles shows counts only (``vehicles.read``); a vehicle's manifest names people, so
it needs ``manifest.read`` (every such access is logged by the permission check).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.server.auth import Actor, allowed
from corridor.server.columns import utc_now
from corridor.server.deps import RuntimeDep, permit
from corridor.server.manifests import service
from corridor.server.manifests.tables import ManifestEntry
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
# Pages that name people stay out of every cache between the server and the screen.
PRIVATE = {"Cache-Control": "no-store"}


@router.get("/operations/{operation_id}/manifests")
def manifests_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("vehicles.read")],
) -> HTMLResponse:
    return page(request, "manifests.html", actor=actor, **_vehicles(runtime, actor, operation_id), run=None)


@router.post("/operations/{operation_id}/manifests/assign")
def assign(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("manifests.write")],
) -> HTMLResponse:
    """Assign everyone not yet on a manifest (the same service as ``POST .../manifests``); answers
    the part of the page that changed: what was done and the vehicles' new counts."""
    with runtime.db.writing() as session:
        operations.get(session, operation_id)
        manifest = service.assign_unassigned(session, operation_id=operation_id)
    run = {
        "assigned": len(manifest.seats),
        "split": len(manifest.split_households),
        "unplaced": len(manifest.unplaced),
    }
    template = "_manifests_live.html" if "HX-Request" in request.headers else "manifests.html"
    return page(request, template, actor=actor, **_vehicles(runtime, actor, operation_id), run=run)


@router.get("/operations/{operation_id}/manifests/{code}")
def vehicle_manifest(
    request: Request,
    operation_id: str,
    code: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("manifest.read")],
    trip: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """One vehicle's manifest with names (one trip's with ``trip``), laid out to print and tick
    off at boarding."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        vehicle = service.get_vehicle(session, operation_id, code)
        if trip is not None:
            service.get_trip(session, operation_id, code, trip)
        lines = [
            {
                "household": person.household_id[:8],
                "name": runtime.sealer.open(person.name_sealed) if person.name_sealed else None,
                "age": person.age_band,
                "sex": person.sex,
                "needs": list(person.vulnerabilities),
                "wristband": person.wristband or "",
                "place": place,
                "trip": number,
            }
            for person, place, number in service.manifest_of(session, operation_id, code, trip)
        ]
    response = page(
        request,
        "manifests_vehicle.html",
        actor=actor,
        operation=operation,
        nav=menu(actor, operation_id),
        vehicle=vehicle,
        trip=trip,
        lines=lines,
        printed=f"{utc_now():%Y-%m-%d %H:%M}",
    )
    response.headers.update(PRIVATE)
    return response


def _vehicles(runtime: Runtime, actor: Actor, operation_id: str) -> dict[str, Any]:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        vehicles = service.vehicles(session, operation_id)
        counts = _assigned(session, operation_id)
        by_trip: dict[str, list[tuple[int, int]]] = {}
        for (code, trip), n in sorted(service.assigned_by_trip(session, operation_id).items()):
            by_trip.setdefault(code, []).append((trip, n))
    return {
        "operation": operation,
        "nav": menu(actor, operation_id),
        "vehicles": vehicles,
        "assigned": counts,
        "by_trip": by_trip,
        "can_build": allowed(actor, "manifests.write", operation_id),
        "can_read": allowed(actor, "manifest.read", operation_id),
    }


def _assigned(session: Session, operation_id: str) -> dict[str, int]:
    """People on each vehicle's manifest, by vehicle code."""
    rows = session.execute(
        select(ManifestEntry.vehicle_code, func.count())
        .where(ManifestEntry.operation_id == operation_id)
        .group_by(ManifestEntry.vehicle_code)
    )
    return {code: count for code, count in rows}
