"""Administration of an operation's members: who holds which role in it, give a user a role
(it replaces the role they held in this operation) and take one away. For the operation's
coordinators, as ``POST``/``DELETE .../members`` of the API; roles held in every operation are
shown but are changed on the users page, by a coordinator of every operation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import delete, select

from corridor.core.errors import ConflictError, CorridorError
from corridor.server.access import service as access
from corridor.server.access.schemas import MemberIn
from corridor.server.access.tables import Membership, User
from corridor.server.auth import Actor, Role
from corridor.server.deps import RuntimeDep, permit
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from corridor.server.web.admin import problems, record, show_operation
from corridor.server.web.i18n import choose

router = APIRouter(include_in_schema=False)
ROLES = [str(r) for r in Role]


def _page(
    request: Request,
    runtime: Runtime,
    actor: Actor,
    operation_id: str,
    *,
    full: bool,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        rows = session.execute(
            select(User.username, Membership.role, Membership.operation_id)
            .join(Membership, Membership.user_id == User.id)
            .where((Membership.operation_id == operation_id) | Membership.operation_id.is_(None))
            .order_by(User.username, Membership.role)
        ).all()
    context.setdefault("typed", {"username": "", "role": ""})
    return show_operation(
        request,
        "admin_members.html",
        actor=actor,
        operation=operation,
        title_key="admin.members",
        full=full,
        status_code=status_code,
        members=[(r.username, r.role) for r in rows if r.operation_id is not None],
        everywhere=[(r.username, r.role) for r in rows if r.operation_id is None],
        role_names=ROLES,
        **context,
    )


@router.get("/operations/{operation_id}/admin/members")
def members_admin(
    request: Request, operation_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("members.write")]
) -> HTMLResponse:
    return _page(request, runtime, actor, operation_id, full=True)


@router.post("/operations/{operation_id}/admin/members")
def set_member(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("members.write")],
    username: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Give a user a role in this operation, in place of the role they held in it."""
    text = choose(request).text
    typed = {"username": username, "role": role}
    try:
        body = MemberIn.model_validate({"username": username.strip(), "role": role})
        with runtime.db.writing() as session:
            operation = operations.get(session, operation_id)
            if operation.state == "closed":
                raise ConflictError(
                    f"operation {operation_id} is closed: it takes no new members",
                    where="operation_id",
                    hint="closed operations are read-only",
                )
            user = access.user_by_name(session, body.username)
            session.execute(
                delete(Membership).where(
                    Membership.user_id == user.id, Membership.operation_id == operation_id
                )
            )
            access.grant(session, user_id=user.id, role=body.role, operation_id=operation_id)
            record(session, actor, operation_id, "member.granted", request, f"{user.username}/{body.role}")
    except (ValidationError, CorridorError) as error:
        code = 409 if isinstance(error, ConflictError) else 422
        return _page(
            request,
            runtime,
            actor,
            operation_id,
            full=False,
            status_code=code,
            error=problems(error, text),
            typed=typed,
        )
    done = text("admin.done.member_set", name=body.username, role=text("role." + str(body.role)))
    return _page(request, runtime, actor, operation_id, full=False, done=done)


@router.post("/operations/{operation_id}/admin/members/{username}/{role}/revoke")
def take_role(
    request: Request,
    operation_id: str,
    username: str,
    role: Role,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("members.write")],
) -> HTMLResponse:
    """Take the role in this operation from the user (from their next request on)."""
    text = choose(request).text
    try:
        with runtime.db.writing() as session:
            operations.get(session, operation_id)
            user = access.user_by_name(session, username)
            access.revoke_membership(session, user_id=user.id, role=role, operation_id=operation_id)
            record(session, actor, operation_id, "member.revoked", request)
    except CorridorError as error:
        return _page(
            request, runtime, actor, operation_id, full=False, status_code=404, error=problems(error, text)
        )
    done = text("admin.done.member_revoked", name=username, role=text("role." + str(role)))
    return _page(request, runtime, actor, operation_id, full=False, done=done)
