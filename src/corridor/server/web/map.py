"""The operation's map: roads, points, hazards and closures, planned routes, vehicles, incidents.

Everything drawn comes from the scenario's own data (``corridor.reports.layers``), so the map
works with no tile server; ``settings.tile_url`` adds tiles underneath when one is configured.
The page is small and loads the layers from ``map.geojson``, which may take seconds the first
time (the plan is made by a job on the cluster and kept as a plan version, see
:mod:`plan_cache`); when the operation follows a published plan version, its routes are drawn as
published, not planned again.

Route points are placed, in this order, at the network node the published plan maps them to, at
the node whose id is theirs, at the scenario's source, reception point or checkpoint whose id is
theirs, or at the ``lon``/``lat`` written on the route; a point found by none of these is not
drawn, and neither are the vehicles last seen there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError
from corridor.ops.status import Status, SubjectState
from corridor.plan.model import Plan
from corridor.reports import layers
from corridor.server.access import service as access
from corridor.server.auth import Actor, allowed
from corridor.server.deps import RuntimeDep, permit
from corridor.server.incidents import service as incidents
from corridor.server.jobs.service import JobView
from corridor.server.ledger import counts
from corridor.server.operations import service as operations
from corridor.server.operations import versions
from corridor.server.operations.tables import Operation, PlanVersion
from corridor.server.runtime import Runtime
from corridor.server.web import plan_cache
from corridor.server.web.i18n import choose
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
# Seconds the map's data waits for the plan a job is making.
WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class Found:
    """The operation's scenario and plan, or why there are none (``notice``, in the reader's
    language)."""

    planning: plan_cache.Planning | None
    notice: str | None
    published: bool
    version: int | None = None  # the published version shown, when it is one
    job: JobView | None = None  # the job making the plan, while there is no plan to show


@router.get("/operations/{operation_id}/map")
def map_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("counts.read")],
) -> HTMLResponse:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
    path = plan_cache.find_scenario(runtime.settings.scenarios_dir, operation.scenario_name)
    notice = None if path else missing_notice(request, runtime, operation)
    text = choose(request).text
    return page(
        request,
        "map.html",
        actor=actor,
        operation=operation,
        nav=menu(actor, operation_id),
        notice=notice,
        tile_url=runtime.settings.tile_url,
        statuses={s.value: text("status." + s.value) for s in Status},
    )


@router.get("/operations/{operation_id}/map.geojson")
def map_data(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("counts.read")],
) -> JSONResponse:
    """Every layer of the map as GeoJSON FeatureCollections, by name; a sync route, so that a
    first solve runs in the thread pool, not on the event loop."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        route = operations.route_of(operation)
        states = (
            _vehicle_states(runtime, session, operation)
            if allowed(actor, "vehicles.read", operation_id)
            else []
        )
        marks = (
            _incident_marks(session, operation_id) if allowed(actor, "incidents.read", operation_id) else None
        )
    if marks is not None:
        log_incidents_read(runtime, actor, operation_id, request.url.path)
    # The map's script waits for this answer: wait for a plan being made (it takes seconds).
    found = scenario_and_plan(request, runtime, operation, wait=WAIT_SECONDS, by=actor.label)
    problem = found.planning.problem if found.planning else None
    placed = layers.place_route_points(
        route.points,
        problem=problem,
        plan_nodes=(operation.published_plan or {}).get("nodes", {}),
        coordinates=_route_coordinates(operation),
    )
    drawn: dict[str, Any] = {}
    if found.planning is not None:
        drawn |= layers.scenario_layers(found.planning.scenario, found.planning.problem)
        drawn["routes"] = layers.plan_routes(found.planning.plan, found.planning.problem.network)
    drawn["route_points"] = layers.route_points(route.points, placed)
    drawn["vehicles"] = layers.vehicles(states, placed)
    if marks is not None:
        drawn["incidents"] = layers.incidents(marks)
    network = found.planning.network if found.planning else None
    return JSONResponse(
        {
            "crs": network.crs if network is not None else "EPSG:4326",
            "notice": found.notice,
            "plan": _plan_summary(found),
            "layers": drawn,
        }
    )


def missing_notice(request: Request, runtime: Runtime, operation: Operation) -> str:
    return choose(request).text(
        "map.no_scenario", name=operation.scenario_name, folder=str(runtime.settings.scenarios_dir)
    )


def scenario_and_plan(
    request: Request, runtime: Runtime, operation: Operation, *, wait: float = 0.0, by: str = "service"
) -> Found:
    """The operation's scenario and its plan: the published version the operation follows, as
    it was published, when there is one; else the plan a job made of the scenario by the
    published plan's method (the job is started if none was asked; ``wait``: seconds to wait for
    it), ``published`` when it is the very plan the operation cites (same content hash)."""
    path: Path | None = plan_cache.find_scenario(runtime.settings.scenarios_dir, operation.scenario_name)
    if path is None:
        return Found(None, missing_notice(request, runtime, operation), False)
    with runtime.db.reading() as session:
        current = versions.current(versions.listed(session, operation.id), operation)
    method = (operation.published_plan or {}).get("method") or "exact"
    try:
        if current is not None:
            kept = plan_cache.stored(runtime, path, stored_plan(runtime, current))
            return Found(kept, None, True, current.version)
        computed = plan_cache.operation_plan(
            runtime,
            operation.id,
            path,
            method=method if method in ("exact", "ccrp") else "exact",
            wait=wait,
            by=by,
        )
    except CorridorError as error:
        return Found(None, choose(request).text("map.bad_scenario", error=error.render()), False)
    job, planning = computed.job, computed.planning
    if planning is None:
        said = choose(request).text
        if job is not None and job.state == "failed":
            notice = said("job.failed", error=job.error or "")
        elif job is not None and job.state == "cancelled":
            notice = said("job.cancelled")
        else:
            notice = said("job.notice", percent=round(100 * job.progress) if job else 0)
        return Found(None, notice, False, job=job)
    published = operation.plan_hash is not None and planning.plan.content_hash() == operation.plan_hash
    return Found(planning, None, published, job=job)


def stored_plan(runtime: Runtime, version: PlanVersion) -> plan_cache.Stored:
    """A published version for :func:`plan_cache.stored`: its body is read from the database
    only when the plan is not in memory already (it may be a megabyte)."""
    operation_id, number = version.operation_id, version.version

    def load() -> Plan:
        with runtime.db.reading() as session:
            return versions.plan_of(versions.get(session, operation_id, number))

    return plan_cache.Stored(version.plan_hash, load)


def _plan_summary(found: Found) -> dict[str, Any] | None:
    if found.planning is None:
        return None
    plan = found.planning.plan
    return {
        "published": found.published,
        "version": found.version,
        "hash": plan.content_hash(),
        "method": plan.method,
        "evacuees": plan.evacuees,
        "evacuated": plan.evacuated,
    }


def _vehicle_states(runtime: Runtime, session: Session, operation: Operation) -> list[SubjectState]:
    """The folded state of every vehicle the ledger names, from the operation's kept fold."""
    return list(counts.kept_states(runtime.counts, session, operation, kind="vehicle").values())


def _incident_marks(session: Session, operation_id: str) -> list[layers.IncidentMark]:
    return [
        layers.IncidentMark(i.id, i.kind, i.occurred_at, i.place_name, i.lon, i.lat)
        for i in incidents.incidents(session, operation_id)
    ]


def log_incidents_read(runtime: Runtime, actor: Actor, operation_id: str, path: str) -> None:
    """Incidents are personal data: their reading is logged, as the API's own route does."""
    with runtime.db.writing() as session:
        access.log_access(
            session,
            actor=actor.label,
            operation_id=operation_id,
            action="incidents.read",
            decision="allow",
            path=path,
        )


def _route_coordinates(operation: Operation) -> dict[str, tuple[float, float]]:
    """``lon``/``lat`` written on route points, where a route has them."""
    found: dict[str, tuple[float, float]] = {}
    for point in operation.route:
        lon, lat = point.get("lon"), point.get("lat")
        if isinstance(lon, int | float) and isinstance(lat, int | float):
            found[str(point["id"])] = (float(lon), float(lat))
    return found
