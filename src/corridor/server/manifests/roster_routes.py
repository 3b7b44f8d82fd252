"""The scanning phones' roster: only the people whose manifest passes the phone's route point (and
those registered there on no manifest yet), whole once, then the changes since the phone's cursor
(see ``roster.py``)."""

from __future__ import annotations

import gzip
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from corridor.server.access import service as access
from corridor.server.auth import Actor, allowed
from corridor.server.deps import RuntimeDep, permit
from corridor.server.manifests.roster import roster

router = APIRouter(tags=["roster"])
# Answers smaller than this go as they are: compressing them saves nothing.
GZIP_FROM = 200


@router.get("/roster")
def phone_roster(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("events.write")],
    point: Annotated[str, Query(description="The route point the phone scans at.", max_length=100)],
    since: Annotated[
        str | None, Query(description="The cursor of the phone's last answer; none for all.", max_length=200)
    ] = None,
) -> Response:
    """The roster of a phone at ``point``: ``full`` (every person whose manifest passes it, and
    every person registered there who is on no manifest: vehicle null) or
    the changes since ``since``: ``people`` rows ``[id, wristband, vehicle, status, progress,
    name]`` to add or replace, ``gone`` ids to drop, ``vehicles`` rows ``[code, status,
    progress]``, and the ``cursor`` to send next time. Names only for roles allowed
    ``manifest.read`` (logged, like any read of personal data, when any is sent)."""
    names = allowed(actor, "manifest.read", operation_id)
    with runtime.db.reading() as session:
        found = roster(
            session,
            operation_id=operation_id,
            point=point,
            since=since,
            sealer=runtime.sealer if names else None,
        )
    if names and found.people:
        with runtime.db.writing() as session:
            access.log_access(
                session,
                actor=actor.label,
                operation_id=operation_id,
                action="manifest.read",
                decision="allow",
                path=f"/api/operations/{operation_id}/roster",
            )
    body = json.dumps(found.body(), ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    if len(body) >= GZIP_FROM and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)
