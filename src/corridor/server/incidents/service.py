"""Incidents and evidence; every report, receipt and read of evidence goes into the ledger."""

from __future__ import annotations

import hashlib
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import InputError
from corridor.ops.ledger import EventType
from corridor.server.columns import utc_now
from corridor.server.encryption import Sealer
from corridor.server.errors import NotFoundError
from corridor.server.ids import new_id
from corridor.server.incidents.evidence import EvidenceStore
from corridor.server.incidents.schemas import EvidenceOut, IncidentIn, IncidentOut
from corridor.server.incidents.tables import EvidenceFile, Incident
from corridor.server.ledger.service import append_server_event
from corridor.server.manifests.tables import Vehicle
from corridor.server.registration.tables import Person


def report(
    session: Session, *, sealer: Sealer, operation_id: str, body: IncidentIn, reporter: str
) -> Incident:
    _check_named(session, operation_id, body)
    incident_id = new_id()
    occurred_at = body.occurred_at.astimezone(UTC)
    event = append_server_event(
        session,
        operation_id=operation_id,
        type=EventType.INCIDENT,
        payload={
            "incident_id": incident_id,
            "kind": body.kind,
            "occurred_at": occurred_at.isoformat(),
            "pcode": body.pcode,
            "vehicles": ",".join(body.vehicles),
            "people": ",".join(body.people),
            "description_sha256": hashlib.sha256(body.description.encode()).hexdigest(),
            "reported_by": reporter,
        },
    )
    incident = Incident(
        id=incident_id,
        operation_id=operation_id,
        kind=body.kind,
        occurred_at=occurred_at,
        place_name=body.place_name,
        pcode=body.pcode,
        admin_level=body.admin_level,
        lon=body.lon,
        lat=body.lat,
        description_sealed=sealer.seal(body.description),
        vehicles=body.vehicles,
        people=body.people,
        reported_by=reporter,
        created_at=utc_now(),
        ledger_event_id=event.event_id,
    )
    session.add(incident)
    session.flush()
    return incident


def _check_named(session: Session, operation_id: str, body: IncidentIn) -> None:
    for person_id in body.people:
        person = session.get(Person, person_id)
        if person is None or person.operation_id != operation_id:
            raise InputError(f"no person {person_id} in this operation", where="people")
    for code in body.vehicles:
        if session.get(Vehicle, (operation_id, code)) is None:
            raise InputError(f"no vehicle {code!r} in this operation", where="vehicles")


def get(session: Session, operation_id: str, incident_id: str) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None or incident.operation_id != operation_id:
        raise NotFoundError(f"no incident {incident_id} in this operation", where="incident_id")
    return incident


def incidents(session: Session, operation_id: str) -> list[Incident]:
    query = select(Incident).where(Incident.operation_id == operation_id).order_by(Incident.occurred_at)
    return list(session.scalars(query))


def incidents_out(session: Session, sealer: Sealer, operation_id: str) -> list[IncidentOut]:
    """Every incident of the operation with its evidence, oldest first (two queries in all)."""
    query = select(EvidenceFile).where(EvidenceFile.operation_id == operation_id).order_by(EvidenceFile.id)
    files: dict[str, list[EvidenceFile]] = {}
    for f in session.scalars(query):
        files.setdefault(f.incident_id, []).append(f)
    return [incident_out(sealer, i, files.get(i.id, [])) for i in incidents(session, operation_id)]


def incident_out(sealer: Sealer, incident: Incident, evidence: list[EvidenceFile]) -> IncidentOut:
    return IncidentOut(
        id=incident.id,
        kind=incident.kind,
        occurred_at=incident.occurred_at,
        place_name=incident.place_name,
        pcode=incident.pcode,
        admin_level=incident.admin_level,
        lon=incident.lon,
        lat=incident.lat,
        description=sealer.open(incident.description_sealed) if incident.description_sealed else None,
        vehicles=list(incident.vehicles),
        people=list(incident.people),
        reported_by=incident.reported_by,
        created_at=incident.created_at,
        ledger_event_id=incident.ledger_event_id,
        evidence=[EvidenceOut.model_validate(e, from_attributes=True) for e in evidence],
    )


def receive_evidence(
    session: Session,
    *,
    store: EvidenceStore,
    incident: Incident,
    data: bytes,
    filename: str,
    media_type: str,
    note: str | None,
    receiver: str,
) -> EvidenceFile:
    """Store a file as evidence of an incident and record its custody in the ledger."""
    digest = store.put(data)
    existing = session.scalar(
        select(EvidenceFile).where(EvidenceFile.incident_id == incident.id, EvidenceFile.sha256 == digest)
    )
    if existing is not None:
        return existing
    now = utc_now()
    record = EvidenceFile(
        sha256=digest,
        incident_id=incident.id,
        operation_id=incident.operation_id,
        filename=filename,
        media_type=media_type,
        size=len(data),
        received_at=now,
        received_by=receiver,
        note=note,
    )
    session.add(record)
    append_server_event(
        session,
        operation_id=incident.operation_id,
        type=EventType.EVIDENCE_RECEIVED,
        payload={
            "sha256": digest,
            "incident_id": incident.id,
            "size": len(data),
            "filename": filename,
            "by": receiver,
        },
    )
    session.flush()
    return record


def read_evidence(
    session: Session, *, store: EvidenceStore, operation_id: str, sha256: str, reader: str
) -> tuple[EvidenceFile, bytes]:
    record = session.scalar(
        select(EvidenceFile).where(EvidenceFile.operation_id == operation_id, EvidenceFile.sha256 == sha256)
    )
    if record is None:
        raise NotFoundError(f"no evidence {sha256} in this operation", where="sha256")
    data = store.get(sha256)
    append_server_event(
        session,
        operation_id=operation_id,
        type=EventType.EVIDENCE_ACCESSED,
        payload={"sha256": sha256, "by": reader},
    )
    return record, data
