"""Vehicles, their trips and manifests: assign the registered people not yet assigned to free
places on the trips.

When the operation follows a published convoy plan, the places are the plan's trips: each takes
people of the sources its plan loads (a gathering point and a group), as many as the plan says,
the earliest trips first; the wounded who need a stretcher go to stretcher places; vehicles the
plan does not use take anyone after that. Without a plan, each vehicle's trips (trip 1 unless more
were made) take anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.ops.manifests import Manifest, Passenger, Space, assign
from corridor.server.columns import utc_now
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.errors import NotFoundError
from corridor.server.manifests.schemas import VehicleIn
from corridor.server.manifests.tables import ManifestEntry, Trip, Vehicle
from corridor.server.registration.tables import Household, Person


def add_vehicle(session: Session, *, operation_id: str, body: VehicleIn) -> Vehicle:
    if session.get(Vehicle, (operation_id, body.code)) is not None:
        raise ConflictError(
            f"vehicle {body.code!r} exists already", where="code", hint="give each vehicle its own code"
        )
    vehicle = Vehicle(operation_id=operation_id, **body.model_dump())
    session.add(vehicle)
    session.flush()  # the trip names the vehicle (no relationship orders the inserts)
    session.add(
        Trip(
            operation_id=operation_id,
            vehicle_code=body.code,
            number=1,
            load=[],
            planned_departure=body.expected_departure,
        )
    )
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


def trips(session: Session, operation_id: str, code: str | None = None) -> list[Trip]:
    """The operation's trips (or one vehicle's), by vehicle and number."""
    query = select(Trip).where(Trip.operation_id == operation_id)
    if code is not None:
        query = query.where(Trip.vehicle_code == code)
    return list(session.scalars(query.order_by(Trip.vehicle_code, Trip.number)))


def get_trip(session: Session, operation_id: str, code: str, number: int) -> Trip:
    trip = session.get(Trip, (operation_id, code, number))
    if trip is None:
        raise NotFoundError(f"vehicle {code!r} has no trip {number}", where="trip")
    return trip


def current_convoy(session: Session, operation_id: str) -> ConvoyVersion | None:
    """The convoy plan version the operation follows, if any."""
    return session.scalar(
        select(ConvoyVersion).where(ConvoyVersion.operation_id == operation_id, ConvoyVersion.current)
    )


def source_of(
    gathering_point: str | None, vulnerabilities: Sequence[str], sources: Sequence[dict[str, Any]]
) -> str | None:
    """The plan source a person belongs to: the sources at their gathering point (a source id, or
    the node people wait at), of a group that needs a stretcher place exactly when they do."""
    if not gathering_point:
        return None
    stretcher = "stretcher" in vulnerabilities
    nodes = {s["node"] for s in sources if s["id"] == gathering_point} or {gathering_point}
    fitting = [s for s in sources if s["node"] in nodes and bool(s["stretcher"]) == stretcher]
    named = [s for s in fitting if s["id"] == gathering_point]
    chosen = (named or fitting)[:1]
    return str(chosen[0]["id"]) if chosen else None


def _people(session: Session, operation_id: str) -> list[tuple[str, str, list[str], str | None]]:
    rows = session.execute(
        select(Person.id, Person.household_id, Person.vulnerabilities, Household.gathering_point)
        .join(Household, Household.id == Person.household_id)
        .where(Person.operation_id == operation_id)
    )
    return [(pid, hid, list(v), gp) for pid, hid, v, gp in rows]


def _free_spaces(session: Session, operation_id: str, convoy: ConvoyVersion | None) -> list[Space]:
    used: dict[tuple[str, int, str], int] = {
        (code, trip, place): count
        for code, trip, place, count in session.execute(
            select(ManifestEntry.vehicle_code, ManifestEntry.trip, ManifestEntry.place, func.count())
            .where(ManifestEntry.operation_id == operation_id)
            .group_by(ManifestEntry.vehicle_code, ManifestEntry.trip, ManifestEntry.place)
        )
    }
    by_code = {v.code: v for v in vehicles(session, operation_id)}
    all_trips = trips(session, operation_id)
    if convoy is not None:
        sources: list[dict[str, Any]] = list(convoy.basis.get("sources", []))
        boarded: dict[tuple[str, int, str | None], int] = {}
        entries = session.execute(
            select(ManifestEntry.vehicle_code, ManifestEntry.trip, ManifestEntry.person_id).where(
                ManifestEntry.operation_id == operation_id
            )
        )
        people = {pid: (v, gp) for pid, _, v, gp in _people(session, operation_id)}
        for code, trip, pid in entries:
            vulnerabilities, gp = people.get(pid, ([], None))
            key = (code, trip, source_of(gp, vulnerabilities, sources))
            boarded[key] = boarded.get(key, 0) + 1
        spaces = []
        in_plan = {t.vehicle_code for t in all_trips if t.convoy_version == convoy.version}
        for t in all_trips:
            if t.vehicle_code not in in_plan and t.vehicle_code in by_code:
                # A vehicle the plan does not use (added by hand) takes anyone, after the plan's trips.
                v = by_code[t.vehicle_code]
                spaces.append(
                    Space(
                        code=v.code,
                        seats=v.seats - used.get((v.code, t.number, "seat"), 0),
                        stretchers=v.stretchers - used.get((v.code, t.number, "stretcher"), 0),
                        ambulance=v.kind == "ambulance",
                        wave=v.wave,
                        trip=t.number,
                        order=float("inf"),
                    )
                )
                continue
            if t.convoy_version != convoy.version or not t.load or t.vehicle_code not in by_code:
                continue
            v = by_code[t.vehicle_code]
            quota = {str(s): int(n) - boarded.get((t.vehicle_code, t.number, str(s)), 0) for s, n in t.load}
            spaces.append(
                Space(
                    code=v.code,
                    seats=v.seats - used.get((v.code, t.number, "seat"), 0),
                    stretchers=v.stretchers - used.get((v.code, t.number, "stretcher"), 0),
                    ambulance=v.kind == "ambulance",
                    wave=v.wave,
                    trip=t.number,
                    quota=quota,
                    order=t.planned_boarding.timestamp() if t.planned_boarding else 0.0,
                )
            )
        return spaces
    return [
        Space(
            code=t.vehicle_code,
            seats=by_code[t.vehicle_code].seats - used.get((t.vehicle_code, t.number, "seat"), 0),
            stretchers=by_code[t.vehicle_code].stretchers
            - used.get((t.vehicle_code, t.number, "stretcher"), 0),
            ambulance=by_code[t.vehicle_code].kind == "ambulance",
            wave=by_code[t.vehicle_code].wave,
            trip=t.number,
        )
        for t in all_trips
        if t.vehicle_code in by_code
    ]


def assign_unassigned(session: Session, *, operation_id: str) -> Manifest:
    """Assign everyone registered and not yet on a manifest; earlier assignments stay as they are."""
    convoy = current_convoy(session, operation_id)
    sources: list[dict[str, Any]] = list(convoy.basis.get("sources", [])) if convoy else []
    assigned = set(
        session.scalars(select(ManifestEntry.person_id).where(ManifestEntry.operation_id == operation_id))
    )
    passengers = [
        Passenger(pid, hid, frozenset(v), source_of(gp, v, sources) if convoy else None)
        for pid, hid, v, gp in _people(session, operation_id)
        if pid not in assigned
    ]
    manifest = assign(passengers, _free_spaces(session, operation_id, convoy))
    now = utc_now()
    session.add_all(
        ManifestEntry(
            person_id=seat.person_id,
            operation_id=operation_id,
            vehicle_code=seat.vehicle,
            trip=seat.trip,
            place=seat.place,
            assigned_at=now,
        )
        for seat in manifest.seats
    )
    session.flush()
    return manifest


def manifest_of(
    session: Session, operation_id: str, code: str, trip: int | None = None
) -> list[tuple[Person, str, int]]:
    """The people on a vehicle's manifests (one trip's when ``trip`` is given): person, place, trip."""
    query = (
        select(Person, ManifestEntry.place, ManifestEntry.trip)
        .join(ManifestEntry, ManifestEntry.person_id == Person.id)
        .where(ManifestEntry.operation_id == operation_id, ManifestEntry.vehicle_code == code)
    )
    if trip is not None:
        query = query.where(ManifestEntry.trip == trip)
    rows = session.execute(query.order_by(ManifestEntry.trip, Person.household_id, Person.id))
    return [(person, place, number) for person, place, number in rows]


def assigned_by_trip(session: Session, operation_id: str) -> dict[tuple[str, int], int]:
    """People on each trip's manifest."""
    rows = session.execute(
        select(ManifestEntry.vehicle_code, ManifestEntry.trip, func.count())
        .where(ManifestEntry.operation_id == operation_id)
        .group_by(ManifestEntry.vehicle_code, ManifestEntry.trip)
    )
    return {(code, trip): count for code, trip, count in rows}
