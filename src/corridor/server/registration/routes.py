"""HTTP routes for registering households and reading people (every read is logged)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, UploadFile, status

from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.operations import service as operations
from corridor.server.registration import import_worker, imports, service
from corridor.server.registration.schemas import (
    HouseholdIn,
    HouseholdOut,
    ImportReport,
    PeoplePage,
    PersonOut,
    TracingCodeOut,
)

router = APIRouter(prefix="/api/operations/{operation_id}", tags=["registration"])


@router.post("/households", status_code=status.HTTP_201_CREATED)
def register_household(
    operation_id: str,
    body: HouseholdIn,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("households.write")],
) -> HouseholdOut:
    """Register a household and its people; possible duplicates are listed, never merged."""
    with runtime.db.writing() as session:
        operations.get(session, operation_id)
        done = service.register_household(
            session, sealer=runtime.sealer, operation_id=operation_id, body=body
        )
        return HouseholdOut(
            id=done.household.id,
            reference=done.household.reference,
            gathering_point=done.household.gathering_point,
            people=[service.person_out(runtime.sealer, p) for p in done.people],
            possible_duplicates=done.duplicates,
            tracing_codes=[
                TracingCodeOut(person_id=g.person_id, relative=g.relative, code=g.code) for g in done.tracing
            ],
        )


@router.get("/people")
def list_people(
    operation_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("people.read")],
    after: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> PeoplePage:
    """People of the operation, a page at a time, ordered by id."""
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
        people = service.page_of_people(session, operation_id, after=after, limit=limit)
        return PeoplePage(
            people=[service.person_out(runtime.sealer, p) for p in people],
            next_after=people[-1].id if len(people) == limit else None,
        )


@router.get("/people/duplicates")
def list_duplicates(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("people.read")]
) -> list[list[PersonOut]]:
    """Groups of people whose names match (spelling and script aside) with the same age and sex."""
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
        groups = service.duplicate_groups(session, runtime.sealer, operation_id)
        return [
            [
                service.person_out(runtime.sealer, service.get_person(session, operation_id, pid))
                for pid in group
            ]
            for group in groups
        ]


@router.get("/people/{person_id}")
def read_person(
    operation_id: str,
    person_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("people.read")],
) -> PersonOut:
    with runtime.db.reading() as session:
        return service.person_out(runtime.sealer, service.get_person(session, operation_id, person_id))


@router.post("/imports/registrations")
def import_registrations(
    operation_id: str,
    file: UploadFile,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("imports.write")],
    accept_valid_rows: Annotated[bool, Query()] = False,
) -> ImportReport:
    """Import a CSV or XLSX export of a field form (KoBo / ODK column names).

    By default the file is imported whole or not at all: any rejected row stops the import and
    the report lists every rejected row and why (status 422). With ``accept_valid_rows=true`` the
    households whose rows are all valid are imported, the others reported; never half a household.
    The file is bounded (413 naming the limit): 32 MB, an XLSX unpacking to at most 100 MB, the
    rows of ``max_import_rows``, 500 columns, 32,767 characters in a cell. People are stored 500
    per transaction, so that scans go on meanwhile; the file is read and possible duplicates are
    worked out in a worker process at a lower priority than the service.
    """
    filename = file.filename or "upload.csv"
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
    data = file.file.read(imports.MAX_FILE_BYTES + 1)
    # Read and checked with no transaction open, in the import worker process (below the scans),
    # then stored a chunk of people per transaction.
    prepared = import_worker.call_in_worker(
        partial(
            imports.prepare,
            filename,
            data,
            accept_valid_rows=accept_valid_rows,
            max_rows=runtime.settings.max_import_rows,
        )
    )
    # Matched (possible duplicates, names sealed) in the import worker process, below the scans.
    return imports.store(
        runtime.db,
        sealer=runtime.sealer,
        operation_id=operation_id,
        prepared=prepared,
        key_file=runtime.settings.key_file,
    )
