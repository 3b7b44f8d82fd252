"""HTTP routes for operations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from pydantic import BaseModel

from corridor.server import retention
from corridor.server.access import service as access
from corridor.server.auth import Actor
from corridor.server.columns import utc_now
from corridor.server.deps import RuntimeDep, permit
from corridor.server.operations import service, versions
from corridor.server.operations.schemas import (
    OperationIn,
    OperationOut,
    OperationPatch,
    PlanPublishIn,
    PlanVersionBodyOut,
    PlanVersionOut,
    PublishedPlanOut,
)
from corridor.server.operations.tables import Operation, PlanVersion

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
    try:
        with runtime.db.writing() as session:
            return out(service.update(session, service.get(session, operation_id), body))
    finally:
        runtime.operations.forget(operation_id)  # its state or start may have changed


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


@router.post("/{operation_id}/plan")
def publish_plan(
    operation_id: str,
    body: PlanPublishIn,
    request: Request,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> PublishedPlanOut:
    """Publish a plan (the ``plan.json`` of ``corridor plan --out``): the operation cites its hash,
    and reconciliation expects people and vehicles at each route point when the plan does. The
    plan is kept as the operation's next version; publishing a plan it holds already adds none."""
    with runtime.db.writing() as session:
        operation = service.get(session, operation_id)
        service.publish(session, operation, plan=body.plan.to_plan(), nodes=body.nodes, by=actor.label)
        access.log_access(
            session,
            actor=actor.label,
            operation_id=operation_id,
            action="plan.published",
            decision="allow",
            path=request.url.path,
        )
        return service.published_plan_of(operation)


@router.get("/{operation_id}/plan")
def read_plan(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("operation.read")]
) -> PublishedPlanOut:
    """The plan the operation follows and the expected minutes of each route segment, with their
    source: ``plan`` (the published plan) or ``route`` (the times written on the route)."""
    with runtime.db.reading() as session:
        return service.published_plan_of(service.get(session, operation_id))


def version_out(version: PlanVersion, operation: Operation) -> PlanVersionOut:
    return PlanVersionOut(
        version=version.version,
        plan_hash=version.plan_hash,
        published_at=version.published_at,
        published_by=version.published_by,
        method=version.method,
        evacuated=version.evacuated,
        evacuees=version.evacuees,
        nodes=version.nodes,
        current=version.plan_hash == operation.plan_hash,
    )


@router.get("/{operation_id}/plans")
def list_plan_versions(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("operation.read")]
) -> list[PlanVersionOut]:
    """Every plan published for the operation, oldest first, without their bodies."""
    with runtime.db.reading() as session:
        operation = service.get(session, operation_id)
        return [version_out(v, operation) for v in versions.listed(session, operation_id)]


@router.get("/{operation_id}/plans/{version}")
def read_plan_version(
    operation_id: str,
    version: Annotated[int, Path(ge=1, le=2**31 - 1, description="1 for the first plan published.")],
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("operation.read")],
) -> PlanVersionBodyOut:
    """One published plan whole: the ``plan.json`` as published, and where it was published."""
    with runtime.db.reading() as session:
        operation = service.get(session, operation_id)
        found = versions.get(session, operation_id, version)
        return PlanVersionBodyOut(**version_out(found, operation).model_dump(), plan=found.body)
