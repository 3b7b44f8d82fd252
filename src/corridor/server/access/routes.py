"""HTTP routes for logging in, users, roles, devices and the access log.

Every change to an account (a user made, disabled or enabled, a password changed, a role granted
or taken, a scanner registered or revoked) is written to the access log in the same transaction,
with the actor and the path that names what changed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, status
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, InputError
from corridor.server.access import login, service
from corridor.server.access.schemas import (
    AccessLogOut,
    DeviceIn,
    DeviceOut,
    DeviceStateOut,
    MemberIn,
    PasswordIn,
    TokenOut,
    UserIn,
    UserOut,
)
from corridor.server.auth import Actor, Role
from corridor.server.deps import Credentials, RuntimeDep, permit
from corridor.server.errors import AccessDeniedError, AuthRequiredError
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation

router = APIRouter(tags=["access"])


def _record(
    session: Session,
    actor: Actor,
    operation_id: str | None,
    action: str,
    request: Request,
    *,
    made: str | None = None,
) -> None:
    """Write an account change to the access log (committed with the change itself). The path
    names what changed; for something made by the request, ``made`` is appended to it."""
    path = request.url.path + (f"/{made}" if made else "")
    service.log_access(
        session, actor=actor.label, operation_id=operation_id, action=action, decision="allow", path=path
    )


def _signed_in_user(runtime: RuntimeDep, credentials: Credentials) -> tuple[Actor, str]:
    """The user calling (whatever their roles) and their token; devices have no account."""
    if credentials is None:
        raise AuthRequiredError(
            "this request needs credentials",
            hint="log in at POST /api/auth/token and send 'Authorization: Bearer <token>'",
        )
    with runtime.db.reading() as session:
        actor = service.actor_for_token(session, credentials.credentials)
    if actor is None:
        raise AuthRequiredError("the token is unknown, expired or revoked", hint="log in again")
    if actor.kind != "user":
        raise AccessDeniedError(f"{actor.label} has no account", hint="only users have passwords")
    return actor, credentials.credentials


SignedInUser = Annotated[tuple[Actor, str], Depends(_signed_in_user)]


_LOGIN_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many failed log-ins for the name or from the address, or too many "
        "passwords being checked at once; Retry-After says when to try again",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    }
}


@router.post("/api/auth/token", responses=_LOGIN_LIMITED)
async def log_in(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    runtime: RuntimeDep,
) -> TokenOut:
    """Exchange a username and password (form fields) for a bearer token. After 5 failed
    attempts for a name (20 from an address) in a minute the answer is 429 with Retry-After.
    A log-in waiting for its password check holds none of the server's worker threads."""
    token, expires = await login.log_in_awaited(
        runtime.db,
        passwords=runtime.passwords,
        limiter=runtime.logins,
        username=username,
        password=password,
        address=login.address_of(request),
        hours=runtime.settings.token_hours,
    )
    return TokenOut(access_token=token, expires_at=expires)


@router.post("/api/auth/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: PasswordIn, request: Request, runtime: RuntimeDep, caller: SignedInUser) -> None:
    """Change your own password, giving the current one (400 if it is wrong). Your other tokens
    stop working; the one used for this request stays valid."""
    actor, token = caller
    assert actor.user_id is not None
    login.change_password(
        runtime.db,
        passwords=runtime.passwords,
        user_id=actor.user_id,
        old_password=body.old_password,
        new_password=body.new_password,
        keep_token=token,
    )
    with runtime.db.writing() as session:
        _record(session, actor, None, "password.changed", request)


@router.post("/api/users", status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserIn, request: Request, runtime: RuntimeDep, actor: Annotated[Actor, permit("users.create")]
) -> UserOut:
    """Create a user (no role yet: grant roles per operation)."""
    password_hash = runtime.passwords.hash(body.password)  # before the write transaction
    with runtime.db.writing() as session:
        user = service.add_user(session, username=body.username, password_hash=password_hash)
        _record(session, actor, None, "user.created", request, made=user.username)
        return UserOut(id=user.id, username=user.username, disabled=user.disabled)


@router.post("/api/users/{username}/disable")
def disable_user(
    username: str, request: Request, runtime: RuntimeDep, actor: Annotated[Actor, permit("users.create")]
) -> UserOut:
    """Disable a user: their tokens stop working at once and they cannot log in."""
    return _set_disabled(username, True, request, runtime, actor)


@router.post("/api/users/{username}/enable")
def enable_user(
    username: str, request: Request, runtime: RuntimeDep, actor: Annotated[Actor, permit("users.create")]
) -> UserOut:
    """Enable a disabled user again (they log in afresh; their old tokens are gone)."""
    return _set_disabled(username, False, request, runtime, actor)


def _set_disabled(
    username: str, disabled: bool, request: Request, runtime: RuntimeDep, actor: Actor
) -> UserOut:
    with runtime.db.writing() as session:
        user = service.user_by_name(session, username)
        service.set_disabled(session, user=user, disabled=disabled, by_user_id=actor.user_id)
        _record(session, actor, None, "user.disabled" if disabled else "user.enabled", request)
        return UserOut(id=user.id, username=user.username, disabled=user.disabled)


def _refuse_if_closed(operation: Operation) -> None:
    """A closed operation gains no member and no scanner (taking them away is still allowed)."""
    if operation.state == "closed":
        raise ConflictError(
            f"operation {operation.id} is closed: it takes no new members or scanners",
            where="operation_id",
            hint="closed operations are read-only; record new work in an open operation",
        )


@router.post("/api/operations/{operation_id}/members", status_code=status.HTTP_204_NO_CONTENT)
def grant_role(
    operation_id: str,
    body: MemberIn,
    request: Request,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("members.write")],
) -> None:
    """Give a user a role in this operation."""
    with runtime.db.writing() as session:
        _refuse_if_closed(operations.get(session, operation_id))
        user = service.user_by_name(session, body.username)
        service.grant(session, user_id=user.id, role=body.role, operation_id=operation_id)
        _record(session, actor, operation_id, "member.granted", request, made=f"{user.username}/{body.role}")


@router.delete(
    "/api/operations/{operation_id}/members/{username}/{role}", status_code=status.HTTP_204_NO_CONTENT
)
def revoke_role(
    operation_id: str,
    username: str,
    role: Role,
    request: Request,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("members.write")],
) -> None:
    """Take a role in this operation from a user; it applies to their next request."""
    with runtime.db.writing() as session:
        operations.get(session, operation_id)
        user = service.user_by_name(session, username)
        service.revoke_membership(session, user_id=user.id, role=role, operation_id=operation_id)
        _record(session, actor, operation_id, "member.revoked", request)


@router.post("/api/operations/{operation_id}/devices", status_code=status.HTTP_201_CREATED)
def register_device(
    operation_id: str,
    body: DeviceIn,
    request: Request,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("devices.write")],
) -> DeviceOut:
    """Register a scanner; its token is in the answer and is never shown again."""
    with runtime.db.writing() as session:
        operation = operations.get(session, operation_id)
        _refuse_if_closed(operation)
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
        _record(session, actor, operation_id, "device.registered", request, made=body.device_id)
    return DeviceOut(device_id=body.device_id, token=token)


@router.post("/api/operations/{operation_id}/devices/{device_id}/revoke")
def revoke_device(
    operation_id: str,
    device_id: str,
    request: Request,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("devices.write")],
) -> DeviceStateOut:
    """Revoke a scanner's token: its scans are refused (401) from now on; the events it sent
    stay in the ledger. Revoking again changes nothing."""
    with runtime.db.writing() as session:
        device = service.device_in(session, operation_id=operation_id, device_id=device_id)
        service.revoke_device(session, device)
        _record(session, actor, operation_id, "device.revoked", request)
        answer = DeviceStateOut.model_validate(device, from_attributes=True)
    runtime.devices.forget(device_id)
    return answer


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
