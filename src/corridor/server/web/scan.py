"""Checkpoint scanning: one field, a loud answer per scan, an offline queue in the browser.

The page itself holds no personal data: the browser fetches the *roster* of the route point it
scans at (``GET /api/operations/{id}/roster``, see ``manifests/roster.py``: each person whose
manifest passes that point, with vehicle, wristband and what bears on a scan there, names for roles
allowed to read manifests; whole once, then only the changes), decides each scan's answer from
it, and queues each scan as a ledger event that it sends to the API's batch endpoint when it can.
So scanning goes on while the link is down; the service worker (``/sw.js``) keeps the page and its
files for a reload without a network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.ops.route import Route
from corridor.ops.status import SubjectState
from corridor.server.access import service as access
from corridor.server.auth import Actor, allowed
from corridor.server.columns import utc_now
from corridor.server.deps import RuntimeDep, permit
from corridor.server.encryption import Sealer
from corridor.server.ledger import counts
from corridor.server.manifests import service as manifests
from corridor.server.manifests.tables import ManifestEntry
from corridor.server.operations import service as operations
from corridor.server.registration.tables import Person
from corridor.server.web.headers import content_policy
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
SERVICE_WORKER = Path(__file__).parent / "static" / "sw.js"
SCAN_POLICY = content_policy(None).replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")


@router.get("/operations/{operation_id}/scan")
def scan_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("events.write")],
) -> HTMLResponse:
    """The scanning screen: the route points and vehicles to choose from; no one's data."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        vehicles = [(v.code, v.kind) for v in manifests.vehicles(session, operation_id)]
    route = operations.route_of(operation)
    answer = page(
        request,
        "scan.html",
        actor=actor,
        operation=operation,
        nav=menu(actor, operation_id),
        points=route.points,
        vehicles=vehicles,
        device=f"user:{actor.name}",
    )
    # The camera's barcode library is WebAssembly: this page alone may compile it.
    answer.headers["Content-Security-Policy"] = SCAN_POLICY
    return answer


@router.get("/operations/{operation_id}/scan/snapshot")
def scan_snapshot(
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("events.write")],
) -> JSONResponse:
    """Every person of the operation (the scanning screen now loads the roster of its point
    instead; this whole list stays for other clients) as
    ``[id, wristband, vehicle on the manifest, status, furthest point reached (index), name]``
    and every vehicle as ``[code, status, furthest point reached]``. Names only for roles allowed
    ``manifest.read`` (that access is logged like any other on personal data)."""
    names = allowed(actor, "manifest.read", operation_id)
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        route = operations.route_of(operation)
        states = counts.kept_states(runtime.counts, session, operation)
        people = _people(session, operation_id, states, runtime.sealer if names else None)
        vehicles = [
            [v.code, *_state(states.get(("vehicle", v.code)))]
            for v in manifests.vehicles(session, operation_id)
        ]
    if names:
        with runtime.db.writing() as session:
            access.log_access(
                session,
                actor=actor.label,
                operation_id=operation_id,
                action="manifest.read",
                decision="allow",
                path=f"/operations/{operation_id}/scan/snapshot",
            )
    body = {
        "operation": operation_id,
        "made_at": utc_now().isoformat(),
        "route": _route(route),
        "names": names,
        "people": people,
        "vehicles": vehicles,
    }
    # Never in the HTTP cache: the browser keeps it only encrypted (see static/scan.js).
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _route(route: Route) -> list[dict[str, str]]:
    return [{"id": p.id, "name": p.name, "kind": str(p.kind)} for p in route.points]


def _state(state: SubjectState | None) -> list[Any]:
    """Status and furthest point index (-1: not yet boarded) of a folded subject."""
    if state is None:
        return ["registered", -1]
    return [str(state.status), state.progress]


def _people(
    session: Session, operation_id: str, states: dict[tuple[str, str], SubjectState], sealer: Sealer | None
) -> list[list[Any]]:
    rows = session.execute(
        select(Person.id, Person.wristband, ManifestEntry.vehicle_code, Person.name_sealed)
        .outerjoin(ManifestEntry, ManifestEntry.person_id == Person.id)
        .where(Person.operation_id == operation_id)
        .order_by(Person.id)
    )
    found = []
    for person_id, wristband, vehicle, sealed in rows:
        state = states.get(("person", person_id))
        name = sealer.open(sealed) if sealer is not None and sealed else None
        found.append([person_id, wristband, vehicle, *_state(state), name])
    return found


@router.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the root so that it may keep the scanning screen (under
    ``/operations/``) for offline use; never cached by HTTP so that a new version is seen."""
    return Response(
        SERVICE_WORKER.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
