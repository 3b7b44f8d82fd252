"""Vehicles and manifests: assign the registered people not yet assigned to free places."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.ops.manifests import Manifest, Passenger, Space, assign
from corridor.server.columns import utc_now
from corridor.server.errors import NotFoundError
from corridor.server.manifests.schemas import VehicleIn
from corridor.server.manifests.tables import ManifestEntry, Vehicle
from corridor.server.registration.tables import Person


def add_vehicle(session: Session, *, operation_id: str, body: VehicleIn) -> Vehicle:
    if session.get(Vehicle, (operation_id, body.code)) is not None:
        raise ConflictError(
            f"vehicle {body.code!r} exists already", where="code", hint="give each vehicle its own code"
        )
    vehicle = Vehicle(operation_id=operation_id, **body.model_dump())
    session.add(vehicle)
    session.flush()
    return vehicle


def vehicles(session: Session, operation_id: str) -> list[Vehicle]:
    query = select(Vehicle).where(Vehicle.operation_id == operation_id).order_by(Vehicle.wave, Vehicle.code)
    return list(session.scalars(query))


def get_vehicle(session: Session, operation_id: str, code: str) -> Vehicle:
    vehicle = session.get(Vehicle, (operation_id, code))
    if vehicle is None:
        raise NotFoundError(f"no vehicle {code!r} in this operation", where="vehicle")
    return vehicle


def _free_spaces(session: Session, operation_id: str) -> list[Space]:
    used: dict[tuple[str, str], int] = {
        (code, place): count
        for code, place, count in session.execute(
            select(ManifestEntry.vehicle_code, ManifestEntry.place, func.count())
            .where(ManifestEntry.operation_id == operation_id)
            .group_by(ManifestEntry.vehicle_code, ManifestEntry.place)
        )
    }
    return [
        Space(
            code=v.code,
            seats=v.seats - used.get((v.code, "seat"), 0),
            stretchers=v.stretchers - used.get((v.code, "stretcher"), 0),
            ambulance=v.kind == "ambulance",
            wave=v.wave,
        )
        for v in vehicles(session, operation_id)
    ]


def assign_unassigned(session: Session, *, operation_id: str) -> Manifest:
    """Assign everyone registered and not yet on a manifest; earlier assignments stay as they are."""
    assigned = select(ManifestEntry.person_id).where(ManifestEntry.operation_id == operation_id)
    rows = session.execute(
        select(Person.id, Person.household_id, Person.vulnerabilities).where(
            Person.operation_id == operation_id, Person.id.not_in(assigned)
        )
    )
    passengers = [Passenger(pid, hid, frozenset(v)) for pid, hid, v in rows]
    manifest = assign(passengers, _free_spaces(session, operation_id))
    now = utc_now()
    session.add_all(
        ManifestEntry(
            person_id=seat.person_id,
            operation_id=operation_id,
            vehicle_code=seat.vehicle,
            place=seat.place,
            assigned_at=now,
        )
        for seat in manifest.seats
    )
    session.flush()
    return manifest


def manifest_of(session: Session, operation_id: str, code: str) -> list[tuple[Person, str]]:
    rows = session.execute(
        select(Person, ManifestEntry.place)
        .join(ManifestEntry, ManifestEntry.person_id == Person.id)
        .where(ManifestEntry.operation_id == operation_id, ManifestEntry.vehicle_code == code)
        .order_by(Person.household_id, Person.id)
    )
    return [(person, place) for person, place in rows]
