"""HTTP routes for logging in, users, roles, devices and the access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, status

from corridor.core.errors import InputError
from corridor.server.access import service
from corridor.server.access.schemas import (
    AccessLogOut,
    DeviceIn,
    DeviceOut,
    MemberIn,
    TokenOut,
    UserIn,
    UserOut,
)
from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.operations import service as operations

router = APIRouter(tags=["access"])


@router.post("/api/auth/token")
def log_in(
    username: Annotated[str, Form()], password: Annotated[str, Form()], runtime: RuntimeDep
) -> TokenOut:
    """Exchange a username and password (form fields) for a bearer token."""
    with runtime.db.writing() as session:
        token, expires = service.login(
            session,
            username=username,
            password=password,
            passwords=runtime.passwords,
            hours=runtime.settings.token_hours,
        )
    return TokenOut(access_token=token, expires_at=expires)


@router.post("/api/users", status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserIn, runtime: RuntimeDep, _actor: Annotated[Actor, permit("users.create")]
) -> UserOut:
    """Create a user (no role yet: grant roles per operation)."""
    with runtime.db.writing() as session:
        user = service.create_user(
            session, username=body.username, password=body.password, passwords=runtime.passwords
        )
        return UserOut(id=user.id, username=user.username)


@router.post("/api/operations/{operation_id}/members", status_code=status.HTTP_204_NO_CONTENT)
def grant_role(
    operation_id: str,
    body: MemberIn,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("members.write")],
) -> None:
    """Give a user a role in this operation."""
    with runtime.db.writing() as session:
        operations.get(session, operation_id)
        user = service.user_by_name(session, body.username)
        service.grant(session, user_id=user.id, role=body.role, operation_id=operation_id)


@router.post("/api/operations/{operation_id}/devices", status_code=status.HTTP_201_CREATED)
def register_device(
    operation_id: str,
    body: DeviceIn,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("devices.write")],
) -> DeviceOut:
    """Register a scanner; its token is in the answer and is never shown again."""
    with runtime.db.writing() as session:
        operation = operations.get(session, operation_id)
        if body.point is not None and operations.route_of(operation).index(body.point) is None:
            raise InputError(
                f"point {body.point!r} is not on the route",
                where="point",
                hint="use the id of a route point",
            )
        token = service.register_device(
            session,
            operation_id=operation_id,
            device_id=body.device_id,
            label=body.label,
            point=body.point,
        )
    return DeviceOut(device_id=body.device_id, token=token)


@router.get("/api/access-log")
def read_access_log(
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("access_log.read")],
    operation_id: Annotated[str | None, Query(alias="operation")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> list[AccessLogOut]:
    """Access decisions on personal data, newest first."""
    with runtime.db.reading() as session:
        rows = service.access_log(session, operation_id=operation_id, limit=limit, before_id=before_id)
        return [AccessLogOut.model_validate(r, from_attributes=True) for r in rows]
