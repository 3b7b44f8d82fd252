"""HTTP routes for incidents and evidence files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response, UploadFile, status

from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import TooLargeError
from corridor.server.incidents import service
from corridor.server.incidents.evidence import EvidenceStore
from corridor.server.incidents.schemas import EvidenceOut, IncidentIn, IncidentOut
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime

router = APIRouter(prefix="/api/operations/{operation_id}", tags=["incidents"])


def store_of(runtime: Runtime) -> EvidenceStore:
    return EvidenceStore(runtime.settings.data_dir / "evidence", runtime.sealer)


@router.post("/incidents", status_code=status.HTTP_201_CREATED)
def report_incident(
    operation_id: str,
    body: IncidentIn,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("incidents.write")],
) -> IncidentOut:
    """Report an incident or violation; it is recorded in the ledger at once."""
    with runtime.db.writing() as session:
        operations.get(session, operation_id)
        incident = service.report(
            session, sealer=runtime.sealer, operation_id=operation_id, body=body, reporter=actor.label
        )
        return service.incident_out(runtime.sealer, incident, [])


@router.get("/incidents")
def list_incidents(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("incidents.read")]
) -> list[IncidentOut]:
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
        return service.incidents_out(session, runtime.sealer, operation_id)


@router.post("/incidents/{incident_id}/evidence", status_code=status.HTTP_201_CREATED)
def add_evidence(
    operation_id: str,
    incident_id: str,
    file: UploadFile,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("evidence.write")],
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> EvidenceOut:
    """Attach a file (photo, video, document) to an incident. It is stored unaltered, encrypted,
    under its SHA-256; its receipt is a custody event in the ledger."""
    limit = runtime.settings.max_evidence_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(
            f"the file is larger than {limit} bytes",
            where="file",
            hint="split it, or ask for max_evidence_bytes to be raised",
        )
    with runtime.db.writing() as session:
        incident = service.get(session, operation_id, incident_id)
        record = service.receive_evidence(
            session,
            store=store_of(runtime),
            incident=incident,
            data=data,
            filename=file.filename or "evidence",
            media_type=file.content_type or "application/octet-stream",
            note=note,
            receiver=actor.label,
        )
        return EvidenceOut.model_validate(record, from_attributes=True)


@router.get("/evidence/{sha256}", response_class=Response)
def read_evidence(
    operation_id: str,
    sha256: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("evidence.read")],
) -> Response:
    """The original file, byte for byte; each read is a custody event in the ledger."""
    with runtime.db.writing() as session:
        record, data = service.read_evidence(
            session, store=store_of(runtime), operation_id=operation_id, sha256=sha256, reader=actor.label
        )
    return Response(
        data,
        media_type=record.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{record.sha256}"',
            "X-Content-SHA256": record.sha256,
        },
    )
