"""Streaming exports: rows are read in chunks and written as CSV as they come, so a large
operation (100,000 people) starts downloading at once and never waits for the whole file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select

from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.incidents.tables import Incident
from corridor.server.ledger.tables import LedgerRow
from corridor.server.registration.tables import Household, Person

CHUNK = 2000


def csv_lines(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, rows_per_chunk: int = 1000
) -> Iterator[bytes]:
    """CSV as UTF-8 bytes (with a byte-order mark so that spreadsheets show Arabic right), sent
    in chunks of ``rows_per_chunk`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


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
