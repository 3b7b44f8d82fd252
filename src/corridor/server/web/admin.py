"""Administration in the web app: operations and their windows, users and roles, scanners,
vehicles and plan versions, each on its own page (``admin_*`` modules), gated by the API's own
permissions and written through the same services. Every change lands in the access log, in the
transaction that makes it.

Each page is a wrapper (``admin_page.html``) around its body (``_admin_*.html``): a form posts
with htmx (which sends the page's CSRF token) and gets the body back, with what was done or what
is wrong, swapped into ``#main``. Without JavaScript (or before htmx has taken the form over) the
browser posts the form itself, its token in the hidden ``csrf_token`` field, and gets the whole
page back with the same words. Without a role the page answers 403 in plain words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError
from corridor.server.access import service as access
from corridor.server.auth import Actor, allowed
from corridor.server.deps import RuntimeDep, permit
from corridor.server.operations import service as operations
from corridor.server.web.i18n import choose
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
Text = Callable[..., str]

# Actions of the access log that are changes (the rest are reads and refusals).
CHANGES = frozenset(
    {
        "operation.created",
        "operation.windows_changed",
        "operation.state_changed",
        "plan.published",
        "user.created",
        "user.disabled",
        "user.enabled",
        "user.password_reset",
        "password.changed",
        "member.granted",
        "member.revoked",
        "device.registered",
        "device.revoked",
        "vehicle.added",
        "vehicle.changed",
        "vehicle.removed",
    }
)

# Form fields with a label of their own (``admin.field.*``), named before what is wrong with them.
LABELLED = frozenset(
    {
        "code",
        "device_id",
        "kind",
        "label",
        "name",
        "password",
        "point",
        "route",
        "scenario_name",
        "seats",
        "state",
        "stretchers",
        "username",
        "wave",
        "windows",
    }
)

# The pages of one operation's administration: (message key, path under /operations/{id}/admin,
# permission needed).
OPERATION_PAGES = (
    ("admin.operation", "", "operation.update"),
    ("admin.members", "/members", "members.write"),
    ("admin.devices", "/devices", "devices.write"),
    ("admin.vehicles", "/vehicles", "vehicles.write"),
)


def record(
    session: Session, actor: Actor, operation_id: str | None, action: str, request: Request, made: str = ""
) -> None:
    """Write a change to the access log (committed with the change). The path names what changed;
    for something made by the request, ``made`` is appended to it."""
    access.log_access(
        session,
        actor=actor.label,
        operation_id=operation_id,
        action=action,
        decision="allow",
        path=request.url.path + (f"/{made}" if made else ""),
    )


def problems(error: ValidationError | CorridorError, text: Text) -> str:
    """What is wrong, for the reader: each invalid field by its label where it has one."""
    if isinstance(error, CorridorError):
        told = error.message + (f" — {error.hint}" if error.hint else "")
        return f"{text('admin.field.' + error.where)}: {told}" if error.where in LABELLED else told
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"] if not isinstance(p, int)) or "form"
        parts.append(f"{text('admin.field.' + field.split('.')[0])}: {item['msg']}")
    return "; ".join(parts)


def operation_links(actor: Actor, operation_id: str) -> list[tuple[str, str]]:
    """(message key, href) of the operation's admin pages ``actor`` may open."""
    return [
        (label, f"/operations/{operation_id}/admin{tail}")
        for label, tail, action in OPERATION_PAGES
        if allowed(actor, action, operation_id)
    ]


def show(
    request: Request,
    body: str,
    *,
    actor: Actor,
    full: bool,
    status_code: int = 200,
    title: str,
    **context: Any,
) -> HTMLResponse:
    """An admin page: whole for a visit, its body alone for a form's answer (htmx)."""
    if full or "HX-Request" not in request.headers:
        return page(
            request,
            "admin_page.html",
            actor=actor,
            status_code=status_code,
            body=body,
            title=title,
            **context,
        )
    return page(request, body, actor=actor, status_code=status_code, title=title, **context)


def show_operation(
    request: Request,
    body: str,
    *,
    actor: Actor,
    operation: Any,
    title_key: str,
    full: bool,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """An admin page of one operation: its menu and the links to its other admin pages."""
    return show(
        request,
        body,
        actor=actor,
        full=full,
        status_code=status_code,
        title=choose(request).text(title_key),
        operation=operation,
        nav=menu(actor, operation.id),
        links=operation_links(actor, operation.id),
        **context,
    )


def state_choices(state: str) -> Iterable[str]:
    return sorted(operations.TRANSITIONS[state])


@router.get("/admin")
def admin_home(
    request: Request, runtime: RuntimeDep, actor: Annotated[Actor, permit("users.create")]
) -> HTMLResponse:
    """The administration's start: operations and users, and the latest changes."""
    with runtime.db.reading() as session:
        found = operations.list_for(session, None)
        logged = access.access_log(session, operation_id=None, limit=300, before_id=None)
    text = choose(request).text
    return show(
        request,
        "admin_home.html",
        actor=actor,
        full=True,
        title=text("admin.title"),
        operations=found,
        changes=[c for c in logged if c.action in CHANGES][:30],
        links=[(o, operation_links(actor, o.id)) for o in found],
    )
