"""Administration of vehicles: add one, change its kind, places and wave, remove one.

A vehicle that carries people on its manifest, or trips of a published convoy plan, is not
removed (its manifest would be lost): the page says why. Its places are not cut below the people
already assigned to one of its trips.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, CorridorError, InputError
from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.manifests import service as manifests
from corridor.server.manifests.schemas import VehicleIn
from corridor.server.manifests.tables import ManifestEntry, Trip
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from corridor.server.web.admin import problems, record, show_operation
from corridor.server.web.i18n import choose

router = APIRouter(include_in_schema=False)
KINDS = ("bus", "ambulance", "truck", "car")
Number = Annotated[str, Form(max_length=20)]


def _page(
    request: Request,
    runtime: Runtime,
    actor: Actor,
    operation_id: str,
    *,
    full: bool,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        vehicles = manifests.vehicles(session, operation_id)
        carried = dict(
            session.execute(
                select(ManifestEntry.vehicle_code, func.count())
                .where(ManifestEntry.operation_id == operation_id)
                .group_by(ManifestEntry.vehicle_code)
            ).all()
        )
    context.setdefault("typed", {"code": "", "kind": "bus", "seats": "", "stretchers": "0", "wave": "0"})
    return show_operation(
        request,
        "admin_vehicles.html",
        actor=actor,
        operation=operation,
        title_key="admin.vehicles",
        full=full,
        status_code=status_code,
        vehicles=vehicles,
        carried=carried,
        kinds=KINDS,
        **context,
    )


def _failed(
    request: Request, runtime: Runtime, actor: Actor, operation_id: str, error: Exception, **context: Any
) -> HTMLResponse:
    assert isinstance(error, ValidationError | CorridorError)
    code = 409 if isinstance(error, ConflictError) else 404 if isinstance(error, NotFoundError) else 422
    text = choose(request).text
    return _page(
        request,
        runtime,
        actor,
        operation_id,
        full=False,
        status_code=code,
        error=problems(error, text),
        **context,
    )


@router.get("/operations/{operation_id}/admin/vehicles")
def vehicles_admin(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("vehicles.write")],
) -> HTMLResponse:
    return _page(request, runtime, actor, operation_id, full=True)


@router.post("/operations/{operation_id}/admin/vehicles")
def add_vehicle(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("vehicles.write")],
    code: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "bus",
    seats: Number = "",
    stretchers: Number = "0",
    wave: Number = "0",
) -> HTMLResponse:
    typed = {"code": code, "kind": kind, "seats": seats, "stretchers": stretchers, "wave": wave}
    try:
        body = VehicleIn.model_validate(
            {
                "code": code.strip(),
                "kind": kind,
                "seats": seats,
                "stretchers": stretchers or 0,
                "wave": wave or 0,
            }
        )
        _some_places(body)
        with runtime.db.writing() as session:
            operations.get(session, operation_id)
            manifests.add_vehicle(session, operation_id=operation_id, body=body)
            record(session, actor, operation_id, "vehicle.added", request, body.code)
    except (ValidationError, CorridorError) as error:
        return _failed(request, runtime, actor, operation_id, error, typed=typed)
    text = choose(request).text
    return _page(
        request,
        runtime,
        actor,
        operation_id,
        full=False,
        done=text("admin.done.vehicle_added", name=body.code),
    )


@router.post("/operations/{operation_id}/admin/vehicles/{code}")
def change_vehicle(
    request: Request,
    operation_id: str,
    code: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("vehicles.write")],
    kind: Annotated[str, Form(max_length=20)] = "bus",
    seats: Number = "",
    stretchers: Number = "0",
    wave: Number = "0",
) -> HTMLResponse:
    """Change a vehicle's kind, places and wave (its code is what scanners send: it stays)."""
    try:
        body = VehicleIn.model_validate(
            {"code": code, "kind": kind, "seats": seats, "stretchers": stretchers or 0, "wave": wave or 0}
        )
        _some_places(body)
        with runtime.db.writing() as session:
            vehicle = manifests.get_vehicle(session, operation_id, code)
            _check_room(session, operation_id, code, body)
            vehicle.kind, vehicle.seats = body.kind, body.seats
            vehicle.stretchers, vehicle.wave = body.stretchers, body.wave
            session.flush()
            record(session, actor, operation_id, "vehicle.changed", request)
    except (ValidationError, CorridorError) as error:
        return _failed(request, runtime, actor, operation_id, error)
    text = choose(request).text
    return _page(
        request, runtime, actor, operation_id, full=False, done=text("admin.done.vehicle_changed", name=code)
    )


@router.post("/operations/{operation_id}/admin/vehicles/{code}/remove")
def remove_vehicle(
    request: Request,
    operation_id: str,
    code: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("vehicles.write")],
) -> HTMLResponse:
    """Remove a vehicle that carries nobody and no trip of a published convoy plan."""
    try:
        with runtime.db.writing() as session:
            vehicle = manifests.get_vehicle(session, operation_id, code)
            mine = (ManifestEntry.operation_id == operation_id) & (ManifestEntry.vehicle_code == code)
            people = session.scalar(select(func.count()).select_from(ManifestEntry).where(mine)) or 0
            if people:
                raise ConflictError(
                    f"vehicle {code} carries {people} people on its manifest",
                    where="vehicle",
                    hint="move them to other vehicles first; a manifest is never dropped",
                )
            planned = session.scalar(
                select(func.count())
                .select_from(Trip)
                .where(
                    Trip.operation_id == operation_id,
                    Trip.vehicle_code == code,
                    Trip.convoy_version.is_not(None),
                )
            )
            if planned:
                raise ConflictError(
                    f"vehicle {code} has {planned} trips in the published convoy plan",
                    where="vehicle",
                    hint="publish a convoy plan without it first",
                )
            session.delete(vehicle)
            session.flush()
            record(session, actor, operation_id, "vehicle.removed", request)
    except CorridorError as error:
        return _failed(request, runtime, actor, operation_id, error)
    text = choose(request).text
    return _page(
        request, runtime, actor, operation_id, full=False, done=text("admin.done.vehicle_removed", name=code)
    )


def _some_places(body: VehicleIn) -> None:
    """Refuse a vehicle with no place at all: it could carry nobody."""
    if body.seats + body.stretchers == 0:
        raise InputError(
            f"vehicle {body.code} has no seat and no stretcher place",
            where="seats",
            hint="give the seats (and stretcher places) it has",
        )


def _check_room(session: Session, operation_id: str, code: str, body: VehicleIn) -> None:
    """Refuse fewer places than the people already assigned to one of the vehicle's trips."""
    rows = session.execute(
        select(ManifestEntry.trip, ManifestEntry.place, func.count())
        .where(ManifestEntry.operation_id == operation_id, ManifestEntry.vehicle_code == code)
        .group_by(ManifestEntry.trip, ManifestEntry.place)
    ).all()
    for trip, place, n in rows:
        room = body.stretchers if place == "stretcher" else body.seats
        if n > room:
            raise ConflictError(
                f"trip {trip} of vehicle {code} has {n} people in {place} places; {room} would not hold them",
                where="seats" if place != "stretcher" else "stretchers",
                hint="keep at least as many places as people assigned, or move people first",
            )
