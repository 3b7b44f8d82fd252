"""FastAPI dependencies as named types: the runtime, the caller and their permission."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from corridor.server.access import service as access
from corridor.server.auth import PERMISSIONS, Actor, authorize
from corridor.server.errors import AccessDeniedError, AuthRequiredError
from corridor.server.operations.states import OperationState, refuse_if_closed
from corridor.server.runtime import Runtime
from corridor.server.web.session import check_csrf, form_token, session_token

# Actions that add to an operation: refused (409) once it is closed (their pages may still be read;
# scanners may still be revoked).
WRITES = frozenset(
    {
        "events.write",
        "households.write",
        "imports.write",
        "incidents.write",
        "evidence.write",
        "vehicles.write",
        "manifests.write",
    }
)

# Actions that read every operation at once (the whole ledger): for a role in every operation only,
# so that a member of one operation learns nothing of the others (not even how many entries).
ACROSS_OPERATIONS = frozenset({"ledger.verify", "ledger.anchor"})

_bearer = HTTPBearer(auto_error=False, description="A user token or a device token.")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def permit(action: str) -> Any:
    """A dependency that gives the caller if they may do ``action`` (in the path's operation).

    For actions on personal data every decision, allowed or denied, goes to the access log.
    """
    PERMISSIONS[action]  # an unknown action fails here, when the route is declared

    async def dependency(request: Request, runtime: RuntimeDep, credentials: Credentials) -> Actor:
        token = credentials.credentials if credentials is not None else session_token(request)
        if credentials is None and token is not None:
            # Authenticated by the browser's cookie: a change needs the page's token.
            check_csrf(request, await form_token(request))
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return await authorized(
            runtime,
            token,
            action=action,
            operation_id=request.path_params.get("operation_id"),
            path=path,
            method=request.method,
        )

    return Depends(dependency)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None for none or another scheme
    (as ``HTTPBearer(auto_error=False)`` reads it)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def authorized(
    runtime: Runtime,
    token: str | None,
    *,
    action: str,
    operation_id: str | None,
    path: str,
    method: str = "POST",
) -> Actor:
    """The caller of ``token`` if they may do ``action`` in ``operation_id``; else 401 or 403.

    The one access rule of the API, shared by the FastAPI dependency and the lean scan routes.
    For actions on personal data every decision, allowed or denied, goes to the access log.
    """
    rule = PERMISSIONS[action]
    actor = None if token is None else await _actor(runtime, token)
    try:
        authorize(actor, action, operation_id)
        if actor is not None and action in ACROSS_OPERATIONS:
            _every_operation(actor, action)
    except (AccessDeniedError, AuthRequiredError):
        if rule.personal:
            await run_in_threadpool(_log, runtime, actor, operation_id, action, "deny", path)
        raise
    if rule.personal:
        await run_in_threadpool(_log, runtime, actor, operation_id, action, "allow", path)
    assert actor is not None
    if action in WRITES and operation_id is not None and method not in ("GET", "HEAD"):
        refuse_if_closed(operation_id, await operation_state(runtime, operation_id))
    return actor


def _every_operation(actor: Actor, action: str) -> None:
    if actor.kind == "device" or not PERMISSIONS[action].roles & actor.roles.get(None, frozenset()):
        raise AccessDeniedError(
            f"{actor.label} may not do {action}: it reads every operation",
            hint="it needs a role in every operation; ask a coordinator of every operation",
        )


async def operation_state(runtime: Runtime, operation_id: str) -> OperationState | None:
    """The operation's state and start (None: no such operation), cached for a moment."""
    found = runtime.operations.cached(operation_id)
    if found is None:
        found = await run_in_threadpool(runtime.operations.read, operation_id)
    return found


async def _actor(runtime: Runtime, token: str) -> Actor | None:
    """The caller of a token. Scanner tokens are remembered for a short while (they are used for
    every scan); user tokens are looked up every time."""
    cached = runtime.devices.get(token)
    if cached is not None:
        return cached
    actor = await run_in_threadpool(_lookup, runtime, token)
    if actor is not None and actor.kind == "device":
        runtime.devices.put(token, actor)
    return actor


def _lookup(runtime: Runtime, token: str) -> Actor | None:
    with runtime.db.reading() as session:
        return access.actor_for_token(session, token)


def _log(
    runtime: Runtime,
    actor: Actor | None,
    operation_id: str | None,
    action: str,
    decision: str,
    path: str,
) -> None:
    with runtime.db.writing() as session:
        access.log_access(
            session,
            actor=actor.label if actor else "anonymous",
            operation_id=operation_id,
            action=action,
            decision=decision,
            path=path,
        )
