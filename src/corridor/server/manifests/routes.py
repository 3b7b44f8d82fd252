"""HTTP routes for vehicles and manifests (JSON, and a printable page per vehicle)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from corridor.server.auth import Actor
from corridor.server.columns import utc_now
from corridor.server.convoys.routes import router as convoy_router
from corridor.server.deps import RuntimeDep, permit
from corridor.server.manifests import service
from corridor.server.manifests.roster_routes import router as roster_router
from corridor.server.manifests.schemas import (
    ManifestLine,
    ManifestOut,
    ManifestRunOut,
    VehicleIn,
    VehicleOut,
)
from corridor.server.manifests.tables import Vehicle
from corridor.server.operations import service as operations

router = APIRouter(prefix="/api/operations/{operation_id}", tags=["manifests"])
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _vehicle_out(vehicle: Vehicle) -> VehicleOut:
    return VehicleOut.model_validate(vehicle, from_attributes=True)


@router.post("/vehicles", status_code=status.HTTP_201_CREATED)
def add_vehicle(
    operation_id: str,
    body: VehicleIn,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("vehicles.write")],
) -> VehicleOut:
    """Add a vehicle; ``code`` is what scanners send as ``vehicle_id``."""
    with runtime.db.writing() as session:
        operations.get(session, operation_id)
        return _vehicle_out(service.add_vehicle(session, operation_id=operation_id, body=body))


@router.get("/vehicles")
def list_vehicles(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("vehicles.read")]
) -> list[VehicleOut]:
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
        return [_vehicle_out(v) for v in service.vehicles(session, operation_id)]


@router.post("/manifests")
def assign_manifests(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("manifests.write")]
) -> ManifestRunOut:
    """Assign everyone not yet on a manifest: wounded to ambulances first, households together.
    With a published convoy plan, people go to its trips (each trip takes the gathering points and
    groups its plan loads, the earliest trips first), so a vehicle carries people on many trips."""
    with runtime.db.writing() as session:
        operations.get(session, operation_id)
        manifest = service.assign_unassigned(session, operation_id=operation_id)
    return ManifestRunOut(
        assigned=len(manifest.seats),
        by_vehicle={code: len(seats) for code, seats in manifest.by_vehicle().items()},
        by_trip={f"{code}/{trip}": len(seats) for (code, trip), seats in manifest.by_trip().items()},
        split_households=manifest.split_households,
        unplaced=manifest.unplaced,
    )


@router.get("/vehicles/{code}/manifest", response_model=None)
def read_manifest(
    operation_id: str,
    code: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("manifest.read")],
    format: Annotated[Literal["json", "html"], Query()] = "json",
    trip: Annotated[int | None, Query(ge=1, description="One trip's manifest (all trips if absent).")] = None,
) -> ManifestOut | HTMLResponse:
    """The people in one vehicle (on one trip with ``trip``), with names; ``format=html`` gives a
    page to print."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        vehicle = service.get_vehicle(session, operation_id, code)
        if trip is not None:
            service.get_trip(session, operation_id, code, trip)
        lines = [
            ManifestLine(
                person_id=p.id,
                household_id=p.household_id,
                name=runtime.sealer.open(p.name_sealed) if p.name_sealed else None,
                age_band=p.age_band,
                sex=p.sex,
                vulnerabilities=list(p.vulnerabilities),
                wristband=p.wristband,
                place=place,
                trip=number,
            )
            for p, place, number in service.manifest_of(session, operation_id, code, trip)
        ]
    if format == "html":
        page = _templates.get_template("manifest.html").render(
            operation=operation, vehicle=vehicle, lines=lines, trip=trip, printed=utc_now().isoformat()
        )
        return HTMLResponse(page)
    return ManifestOut(vehicle=_vehicle_out(vehicle), people=lines)


# Convoy plans and trips share this prefix (/api/operations/{operation_id}/convoy, .../trips).
router.include_router(convoy_router)
router.include_router(roster_router)
