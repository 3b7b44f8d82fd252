"""Streaming exports: rows are read in chunks and written as CSV as they come, so a large
operation (100,000 people) starts downloading at once and never waits for the whole file."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.ops.reconciliation import Reconciliation
from corridor.ops.status import Status, SubjectState
from corridor.reports.csvstream import csv_chunks
from corridor.reports.geojson_export import IncidentPlace, PointCounts, VehiclePlace, feature_collection
from corridor.reports.sitrep import NEXT_REPORT_AFTER, OverdueVehicle, Sitrep
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.incidents import service as incidents_service
from corridor.server.incidents.tables import Incident
from corridor.server.ledger import counts as kept
from corridor.server.ledger.counts import LedgerCounts
from corridor.server.ledger.tables import LedgerRow
from corridor.server.manifests.tables import Vehicle
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.registration.tables import Household, Person

CHUNK = 2000


def csv_lines(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, rows_per_chunk: int = 1000
) -> Iterator[bytes]:
    """CSV as UTF-8 bytes (with a byte-order mark so that spreadsheets show Arabic right), sent
    in chunks of ``rows_per_chunk`` rows."""
    return csv_chunks([header], rows, rows_per_chunk=rows_per_chunk)


PEOPLE_HEADER = [
    "person_id",
    "household_id",
    "age_band",
    "sex",
    "vulnerabilities",
    "gathering_point",
    "registered_at",
]


def people_rows(db: Database, sealer: Sealer, operation_id: str, *, names: bool) -> Iterator[list[object]]:
    """People of an operation; with ``names`` the name, phone and wristband are added, otherwise
    the rows are pseudonymous (random ids only)."""
    query = (
        select(
            Person.id,
            Person.household_id,
            Person.age_band,
            Person.sex,
            Person.vulnerabilities,
            Person.registered_at,
            Person.name_sealed,
            Person.phone_sealed,
            Person.wristband,
            Household.gathering_point,
        )
        .join(Household, Household.id == Person.household_id)
        .where(Person.operation_id == operation_id)
        .order_by(Person.id)
        .execution_options(yield_per=CHUNK)
    )
    with db.reading() as session:
        for person in session.execute(query):
            gathering_point = person.gathering_point
            row: list[object] = [
                person.id,
                person.household_id,
                person.age_band,
                person.sex,
                " ".join(person.vulnerabilities),
                gathering_point or "",
                person.registered_at.isoformat(),
            ]
            if names:
                row += [
                    sealer.open(person.name_sealed) if person.name_sealed else "",
                    sealer.open(person.phone_sealed) if person.phone_sealed else "",
                    person.wristband or "",
                ]
            yield row


EVENTS_HEADER = [
    "position",
    "event_id",
    "device_id",
    "seq",
    "device_time",
    "received_at",
    "type",
    "subject_kind",
    "subject_id",
    "point",
    "payload",
    "payload_sha256",
    "entry_hash",
]


def event_rows(db: Database, operation_id: str) -> Iterator[list[object]]:
    query = (
        select(LedgerRow)
        .where(LedgerRow.operation_id == operation_id)
        .order_by(LedgerRow.position)
        .execution_options(yield_per=CHUNK)
    )
    with db.reading() as session:
        for r in session.scalars(query):
            yield [
                r.position,
                r.event_id,
                r.device_id,
                r.seq,
                r.device_time.isoformat(),
                r.received_at.isoformat(),
                r.type,
                r.subject_kind or "",
                r.subject_id or "",
                r.point or "",
                r.payload,
                r.payload_sha256,
                r.entry_hash,
            ]


INCIDENTS_HEADER = [
    "incident_id",
    "kind",
    "occurred_at",
    "place_name",
    "pcode",
    "admin_level",
    "lon",
    "lat",
    "vehicles",
    "people",
    "reported_by",
    "ledger_event_id",
    "description",
]


def incident_rows(db: Database, sealer: Sealer, operation_id: str) -> Iterator[list[object]]:
    query = (
        select(Incident)
        .where(Incident.operation_id == operation_id)
        .order_by(Incident.occurred_at)
        .execution_options(yield_per=CHUNK)
    )
    with db.reading() as session:
        for i in session.scalars(query):
            yield [
                i.id,
                i.kind,
                i.occurred_at.isoformat(),
                i.place_name or "",
                i.pcode or "",
                "" if i.admin_level is None else i.admin_level,
                "" if i.lon is None else i.lon,
                "" if i.lat is None else i.lat,
                json.dumps(i.vehicles),
                json.dumps(i.people),
                i.reported_by,
                i.ledger_event_id,
                sealer.open(i.description_sealed) if i.description_sealed else "",
            ]


# --- Reports: the sitrep, counts by gathering point, the operation as GeoJSON -----------------
# Counts only (observers may read them): no name and no person id leaves these functions.


def arrival_times(states: Mapping[tuple[str, str], SubjectState]) -> list[datetime]:
    """When each person who arrived was seen arriving (device time)."""
    return [
        s.last_seen_at
        for s in states.values()
        if s.kind == "person" and s.finished is Status.ARRIVED and s.last_seen_at is not None
    ]


def sitrep_of(
    session: Session, counts: LedgerCounts, *, operation: Operation, now: datetime, grace_minutes: float
) -> Sitrep:
    """The sitrep of an operation at ``now``: the reconciliation's counts, incidents by kind,
    the gaps, and the arrival times for the clearance curve. The period runs from the start of
    the first ceasefire window (or the operation's creation) to ``now``. Read from the kept fold
    (``counts``), never by folding the whole ledger."""
    result = kept.reconciliation(counts, session, operation=operation, now=now, grace_minutes=grace_minutes)
    states = kept.kept_states(counts, session, operation, kind="person")
    kinds = Counter(i.kind for i in incidents_service.incidents(session, operation.id))
    windows = operations.windows_of(operation)
    start = min(windows[0].start if windows else operation.created_at, now)
    arrivals = arrival_times(states)
    curve_end = min(now, max([w.end for w in windows] + arrivals, default=now))
    return Sitrep(
        operation=operation.name,
        period_start=start,
        period_end=now,
        next_report=now + NEXT_REPORT_AFTER,
        people=dict(result.counts),
        vehicles=dict(result.vehicle_counts),
        incidents=dict(kinds),
        overdue_vehicles=tuple(
            OverdueVehicle(o.subject_id, o.last_point, o.expected_point, o.expected_by)
            for o in result.overdue_vehicles
        ),
        people_not_seen=len(result.not_seen),
        not_seen_data_pending=sum(o.data_pending for o in result.not_seen),
        scanners_pending=len(result.data_pending),
        events_pending=sum(b - a + 1 for gaps in result.data_pending.values() for a, b in gaps),
        open_alarms=len(result.alarms),
        window_end=result.ceasefire.window_end,
        minutes_left=result.ceasefire.minutes_left,
        people_inside=result.ceasefire.people_inside,
        arrivals=tuple(arrivals),
        curve_end=curve_end,
    )


COUNTS_HEADER = ["gathering_point", "total", *(str(s) for s in Status), "reported_at"]


def counts_rows(result: Reconciliation) -> Iterator[list[object]]:
    """People by gathering point and status, one row per gathering point."""
    for point, counts in result.by_gathering_point.items():
        yield [point, sum(counts.values()), *(counts.get(str(s), 0) for s in Status), result.at.isoformat()]


def operation_geojson(
    session: Session,
    counts: LedgerCounts,
    *,
    operation: Operation,
    now: datetime,
    placed: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """Route points with people and vehicles by status at the furthest point they reached,
    incidents with their place (no description, no one named), vehicles at their last point.

    A route point stands where the map places it (``placed``: lon/lat by point id, found as the
    map finds it); failing that at the ``lon``/``lat`` written in the operation's route;
    otherwise the feature is unlocated (geometry null) and keeps its counts. The states are the
    kept fold's (``counts``)."""
    route = operations.route_of(operation)
    states = kept.kept_states(counts, session, operation)
    people: dict[str, Counter[str]] = {p.id: Counter() for p in route.points}
    vehicle_counts: dict[str, Counter[str]] = {p.id: Counter() for p in route.points}
    for state in states.values():
        table = people if state.kind == "person" else vehicle_counts
        if state.progress_point in table:
            table[state.progress_point][str(state.status)] += 1
    written = {str(p.get("id")): p for p in operation.route}
    where: dict[str, tuple[float | None, float | None]] = {
        p.id: (_number(written.get(p.id, {}).get("lon")), _number(written.get(p.id, {}).get("lat")))
        for p in route.points
    }
    where.update((key, xy) for key, xy in (placed or {}).items() if key in where)
    points = [
        PointCounts(
            id=p.id,
            name=p.name,
            kind=str(p.kind),
            pcode=p.pcode,
            admin_level=p.admin_level,
            lon=where[p.id][0],
            lat=where[p.id][1],
            people=dict(people[p.id]),
            vehicles=dict(vehicle_counts[p.id]),
        )
        for p in route.points
    ]
    incidents = [
        IncidentPlace(i.id, i.kind, i.occurred_at, i.place_name, i.pcode, i.admin_level, i.lon, i.lat)
        for i in incidents_service.incidents(session, operation.id)
    ]
    codes = session.scalars(
        select(Vehicle.code).where(Vehicle.operation_id == operation.id).order_by(Vehicle.code)
    )
    vehicles = []
    for code in codes:
        seen = states.get(("vehicle", code))
        vehicles.append(
            VehiclePlace(
                code,
                str(seen.status) if seen else str(Status.REGISTERED),
                seen.last_seen_point if seen else None,
                seen.last_seen_at if seen else None,
            )
        )
    return feature_collection(points, incidents, vehicles, at=now, operation=operation.name)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
