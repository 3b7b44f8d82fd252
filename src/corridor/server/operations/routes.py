"""HTTP routes for operations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel

from corridor.server import retention
from corridor.server.auth import Actor
from corridor.server.columns import utc_now
from corridor.server.deps import RuntimeDep, permit
from corridor.server.operations import service
from corridor.server.operations.schemas import OperationIn, OperationOut, OperationPatch
from corridor.server.operations.tables import Operation

router = APIRouter(prefix="/api/operations", tags=["operations"])


def out(operation: Operation) -> OperationOut:
    return OperationOut.model_validate(operation, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_operation(
    body: OperationIn, runtime: RuntimeDep, _actor: Annotated[Actor, permit("operations.create")]
) -> OperationOut:
    """Create an operation (state ``planning``) with its route and ceasefire windows."""
    with runtime.db.writing() as session:
        return out(service.create(session, body))


@router.get("")
def list_operations(
    runtime: RuntimeDep, actor: Annotated[Actor, permit("operations.list")]
) -> list[OperationOut]:
    """The operations the caller has a role in (all of them for a global role)."""
    with runtime.db.reading() as session:
        return [out(o) for o in service.list_for(session, actor.operations())]


@router.get("/{operation_id}")
def read_operation(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("operation.read")]
) -> OperationOut:
    with runtime.db.reading() as session:
        return out(service.get(session, operation_id))


@router.patch("/{operation_id}")
def update_operation(
    operation_id: str,
    body: OperationPatch,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("operation.update")],
) -> OperationOut:
    """Change state (planning -> active <-> suspended -> closed), plan hash, route or windows."""
    with runtime.db.writing() as session:
        return out(service.update(session, service.get(session, operation_id), body))


class PurgeOut(BaseModel):
    people_purged: int


@router.post("/{operation_id}/purge")
def purge_operation(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("purge")]
) -> PurgeOut:
    """Erase the personal data of a closed operation whose retention period is over."""
    with runtime.db.writing() as session:
        count = retention.purge_operation(
            session,
            operation=service.get(session, operation_id),
            now=utc_now(),
            retention_days=runtime.settings.retention_days,
        )
    return PurgeOut(people_purged=count)
