"""FastAPI dependencies as named types: the runtime, the caller and their permission."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from corridor.server.access import service as access
from corridor.server.auth import PERMISSIONS, Actor, authorize
from corridor.server.errors import AccessDeniedError, AuthRequiredError
from corridor.server.runtime import Runtime

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
    rule = PERMISSIONS[action]

    async def dependency(request: Request, runtime: RuntimeDep, credentials: Credentials) -> Actor:
        operation_id = request.path_params.get("operation_id")
        actor = None
        if credentials is not None:
            actor = await _actor(runtime, credentials.credentials)
        try:
            authorize(actor, action, operation_id)
        except (AccessDeniedError, AuthRequiredError):
            if rule.personal:
                await run_in_threadpool(_log, runtime, actor, operation_id, action, "deny", request)
            raise
        if rule.personal:
            await run_in_threadpool(_log, runtime, actor, operation_id, action, "allow", request)
        assert actor is not None
        return actor

    return Depends(dependency)


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
    request: Request,
) -> None:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    with runtime.db.writing() as session:
        access.log_access(
            session,
            actor=actor.label if actor else "anonymous",
            operation_id=operation_id,
            action=action,
            decision=decision,
            path=path,
        )
