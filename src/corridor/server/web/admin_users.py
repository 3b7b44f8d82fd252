"""Administration of users: create one (with a first role), change a user's role in an operation
or in every operation, disable or enable them, and reset a forgotten password (a new one is made
and shown once; the user's sessions end)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, CorridorError, InputError
from corridor.server.access import service as access
from corridor.server.access.schemas import UserIn
from corridor.server.access.tables import ApiToken, Membership, User
from corridor.server.auth import Actor, Role, authorize
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from corridor.server.web.admin import problems, record, show
from corridor.server.web.i18n import choose

router = APIRouter(include_in_schema=False)
EVERY = "*"  # the form's value for "every operation"
NONE = "none"  # the form's value for "no role"
ROLES = [str(r) for r in Role]
Name = Annotated[str, Form(max_length=200)]


def _page(
    request: Request,
    runtime: Runtime,
    actor: Actor,
    *,
    full: bool,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    with runtime.db.reading() as session:
        users = list(session.scalars(select(User).order_by(User.username)))
        found = operations.list_for(session, None)
        roles: dict[str, list[tuple[str | None, str]]] = {}
        for m in session.scalars(select(Membership).order_by(Membership.operation_id, Membership.role)):
            roles.setdefault(m.user_id, []).append((m.operation_id, m.role))
    context.setdefault("typed", "")
    return show(
        request,
        "admin_users.html",
        actor=actor,
        full=full,
        status_code=status_code,
        title=choose(request).text("admin.users"),
        users=users,
        roles=roles,
        names={o.id: o.name for o in found},
        operations=found,
        role_names=ROLES,
        every=EVERY,
        none=NONE,
        **context,
    )


def _scope(value: str) -> str | None:
    return None if value == EVERY else value


def _role(value: str) -> Role | None:
    if value == NONE:
        return None
    if value not in ROLES:
        raise InputError(f"unknown role {value!r}", where="role", hint="choose a role from the list")
    return Role(value)


def _set_role(session: Session, user: User, operation_id: str | None, role: Role | None) -> None:
    """Make ``role`` the user's only role in the scope (no role at all for None)."""
    if operation_id is not None:
        operations.get(session, operation_id)
    elif role is not Role.COORDINATOR:
        access.keep_a_coordinator(session, user)
    scope = (
        Membership.operation_id.is_(None) if operation_id is None else Membership.operation_id == operation_id
    )
    session.execute(delete(Membership).where(Membership.user_id == user.id, scope))
    if role is not None:
        access.grant(session, user_id=user.id, role=role, operation_id=operation_id)
    session.flush()


@router.get("/admin/users")
def users_admin(
    request: Request, runtime: RuntimeDep, actor: Annotated[Actor, permit("users.create")]
) -> HTMLResponse:
    return _page(request, runtime, actor, full=True)


@router.post("/admin/users")
def create_user(
    request: Request,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("users.create")],
    username: Name = "",
    password: Annotated[str, Form(max_length=400)] = "",
    operation: Name = EVERY,
    role: Name = NONE,
) -> HTMLResponse:
    """A new user, with a first role in an operation (or none yet)."""
    text = choose(request).text
    try:
        body = UserIn(username=username.strip(), password=password)
        chosen = _role(role)
        password_hash = runtime.passwords.hash(body.password)  # before the write transaction
        with runtime.db.writing() as session:
            user = access.add_user(session, username=body.username, password_hash=password_hash)
            record(session, actor, None, "user.created", request, user.username)
            if chosen is not None:
                _set_role(session, user, _scope(operation), chosen)
                record(
                    session, actor, _scope(operation), "member.granted", request, f"{user.username}/{chosen}"
                )
    except (ValidationError, CorridorError) as error:
        code = 409 if isinstance(error, ConflictError) else 422
        return _page(
            request, runtime, actor, full=False, status_code=code, error=problems(error, text), typed=username
        )
    return _page(
        request, runtime, actor, full=False, done=text("admin.done.user_created", name=body.username)
    )


@router.post("/admin/users/{username}/role")
def change_role(
    request: Request,
    username: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("users.create")],
    operation: Name = EVERY,
    role: Name = NONE,
) -> HTMLResponse:
    """Make ``role`` the user's role in the operation (or in every operation); "none" takes it away."""
    text = choose(request).text
    try:
        scope = _scope(operation)
        if scope is not None:
            authorize(actor, "members.write", scope)
        chosen = _role(role)
        with runtime.db.writing() as session:
            user = access.user_by_name(session, username)
            _set_role(session, user, scope, chosen)
            if chosen is None:
                record(session, actor, scope, "member.revoked", request, username)
            else:
                record(session, actor, scope, "member.granted", request, f"{username}/{chosen}")
    except (ValidationError, CorridorError) as error:
        code = 409 if isinstance(error, ConflictError) else 404 if isinstance(error, NotFoundError) else 422
        return _page(request, runtime, actor, full=False, status_code=code, error=problems(error, text))
    where = text("admin.every_operation") if scope is None else operation
    what = text("admin.no_role") if chosen is None else text("role." + str(chosen))
    return _page(
        request,
        runtime,
        actor,
        full=False,
        done=text("admin.done.role", name=username, role=what, where=where),
    )


@router.post("/admin/users/{username}/disable")
def disable_user(
    request: Request, username: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("users.create")]
) -> HTMLResponse:
    return _disabled(request, username, True, runtime, actor)


@router.post("/admin/users/{username}/enable")
def enable_user(
    request: Request, username: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("users.create")]
) -> HTMLResponse:
    return _disabled(request, username, False, runtime, actor)


def _disabled(
    request: Request, username: str, disabled: bool, runtime: Runtime, actor: Actor
) -> HTMLResponse:
    """Disable a user (their sessions end at once) or enable them again."""
    text = choose(request).text
    try:
        with runtime.db.writing() as session:
            user = access.user_by_name(session, username)
            access.set_disabled(session, user=user, disabled=disabled, by_user_id=actor.user_id)
            record(session, actor, None, "user.disabled" if disabled else "user.enabled", request)
    except CorridorError as error:
        return _page(request, runtime, actor, full=False, status_code=409, error=problems(error, text))
    key = "admin.done.disabled" if disabled else "admin.done.enabled"
    return _page(request, runtime, actor, full=False, done=text(key, name=username))


@router.post("/admin/users/{username}/password")
def reset_password(
    request: Request, username: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("users.create")]
) -> HTMLResponse:
    """Give the user a new password, made here and shown once; their sessions end."""
    text = choose(request).text
    password = secrets.token_urlsafe(12)
    password_hash = runtime.passwords.hash(password)  # before the write transaction
    try:
        with runtime.db.writing() as session:
            user = access.user_by_name(session, username)
            user.password_hash = password_hash
            session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
            record(session, actor, None, "user.password_reset", request)
    except CorridorError as error:
        return _page(request, runtime, actor, full=False, status_code=404, error=problems(error, text))
    return _page(
        request,
        runtime,
        actor,
        full=False,
        done=text("admin.done.password", name=username),
        new_password=password,
        for_user=username,
    )
