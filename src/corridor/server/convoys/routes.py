"""HTTP routes for convoy plans (publish, read, versions) and trips (planned, and followed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from corridor.server.access import service as access
from corridor.server.auth import Actor
from corridor.server.columns import utc_now
from corridor.server.convoys import follow, service
from corridor.server.convoys import jobs as convoy_jobs
from corridor.server.convoys.scenario import Basis, load, verify
from corridor.server.convoys.schemas import (
    ConvoyPublishIn,
    ConvoyVersionBodyOut,
    ConvoyVersionOut,
    TripOut,
    TripsOut,
)
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.deps import RuntimeDep, permit
from corridor.server.jobs.routes import JobOut, job_out
from corridor.server.manifests import service as manifests
from corridor.server.operations import service as operations

router = APIRouter(tags=["convoys"])


def version_out(version: ConvoyVersion) -> ConvoyVersionOut:
    return ConvoyVersionOut(
        version=version.version,
        plan_hash=version.plan_hash,
        published_at=version.published_at,
        published_by=version.published_by,
        method=version.method,
        evacuated=version.evacuated,
        evacuees=version.evacuees,
        trips=version.trips,
        current=version.current,
        replan=bool(version.basis.get("closures") or version.basis.get("state")),
    )


@router.post(
    "/convoy",
    response_model=ConvoyVersionOut,
    responses={
        status.HTTP_202_ACCEPTED: {
            "model": JobOut,
            "description": "Without ``plan``: the convoy plan job started (the same one while one "
            "asked the same way runs; a new one once it ended), followed at GET .../jobs/{job_id}; its "
            "plan is published when made.",
        }
    },
)
def publish_convoy(
    operation_id: str,
    body: ConvoyPublishIn,
    request: Request,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> ConvoyVersionOut | JSONResponse:
    """Publish a convoy plan (the ``convoy.json`` of ``corridor convoy --out``). The plan is
    verified against the scenario and refused (422, naming the first violations) if it breaks it;
    it becomes the operation's next convoy version and its trips the operation's trips. Publishing
    a plan it holds adds none.

    Without ``plan`` the server plans the operation's scenario by ``method`` as a job on the
    cluster (the request never waits for the planner): the answer is 202 with the job (as
    ``POST .../convoy/jobs`` gives it), whose plan, verified, is published with ``vehicles`` as the
    next convoy version when it ends (its number in the job's ``result``: ``convoy_version``).
    Asked again the same way while that job runs, the answer is that job; once it has ended, a new
    job plans the scenario again (the same plan publishes no new version). Refused before any job
    starts: a closed operation (409), a method the workers do not know or a ``vehicles`` key that is
    not a vehicle of the scenario's fleet (422, naming it)."""
    if body.plan is None:
        convoy_jobs.check_method(body.method)
        job = convoy_jobs.start_plan(
            runtime, operation_id, method=body.method, by=actor.label, vehicles=body.vehicles, again=True
        )
        return JSONResponse(jsonable_encoder(job_out(job)), status_code=status.HTTP_202_ACCEPTED)
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        scenario_name = operation.scenario_name
    loaded = load(runtime.settings.scenarios_dir, scenario_name)
    plan = service.parse(body.plan)
    compiled = verify(plan, loaded, Basis())
    with runtime.db.writing() as session:
        operation = operations.get(session, operation_id)
        version = service.publish(
            session,
            operation,
            plan=plan,
            loaded=loaded,
            problem=compiled,
            basis=Basis(),
            mapping=body.vehicles,
            by=actor.label,
        )
        access.log_access(
            session,
            actor=actor.label,
            operation_id=operation_id,
            action="convoy.published",
            decision="allow",
            path=request.url.path,
        )
        return version_out(version)


class ConvoyJobIn(BaseModel):
    """A convoy plan to make of the operation's scenario, by ``method``."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field(default="greedy", min_length=1, max_length=40, description="Convoy method.")


@router.post("/convoy/jobs", status_code=status.HTTP_202_ACCEPTED)
def convoy_job(
    operation_id: str,
    body: ConvoyJobIn,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> JobOut:
    """Plan the operation's fleet from its scenario on the cluster; the job answers at once (202,
    followed at GET .../jobs/{job_id}) and its plan, when made and verified, is published as the
    next convoy version (its number in the job's ``result``: ``convoy_version``). The same plan
    asked again while it runs, or after it was made, is the same job."""
    return job_out(convoy_jobs.start_plan(runtime, operation_id, method=body.method, by=actor.label))


@router.get("/convoys")
def list_convoys(
    operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit("operation.read")]
) -> list[ConvoyVersionOut]:
    """Every convoy plan published for the operation, oldest first, without their bodies."""
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
        return [version_out(v) for v in service.listed(session, operation_id)]


@router.get("/convoys/{version}")
def read_convoy(
    operation_id: str,
    version: int,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("operation.read")],
) -> ConvoyVersionBodyOut:
    """One convoy plan whole: the ``convoy.json`` as published, its vehicles and basis."""
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
        found = service.get(session, operation_id, version)
        return ConvoyVersionBodyOut(
            **version_out(found).model_dump(),
            plan=found.body,
            vehicles=found.vehicles,
            offsets=found.offsets,
            basis=found.basis,
        )


def planned_trips(session: Session, operation_id: str) -> list[TripOut]:
    current = service.current(session, operation_id)
    counts = manifests.assigned_by_trip(session, operation_id)
    return [
        TripOut(
            vehicle=t.vehicle_code,
            number=t.number,
            convoy_version=t.convoy_version,
            current=current is not None and t.convoy_version == current.version,
            gathering=t.gathering,
            reception=t.reception,
            load=[(str(s), int(n)) for s, n in t.load],
            planned_start=t.planned_start,
            planned_boarding=t.planned_boarding,
            planned_departure=t.planned_departure,
            planned_arrival=t.planned_arrival,
            manifest=counts.get((t.vehicle_code, t.number), 0),
        )
        for t in manifests.trips(session, operation_id)
    ]


@router.get("/trips")
def read_trips(
    operation_id: str,
    runtime: RuntimeDep,
    _actor: Annotated[Actor, permit("reconciliation.read")],
    at: Annotated[AwareDatetime | None, Query(description="As at this time (default: now).")] = None,
) -> TripsOut:
    """Every trip of every vehicle, followed: its status (planned, boarding, under way, arrived,
    overdue: started and not arrived by its planned arrival plus ``grace_minutes``), who boarded
    it, and who boarded it and was not seen arriving once it arrived or is overdue."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        planned = planned_trips(session, operation_id)
        return follow.trips(
            session,
            runtime,
            operation=operation,
            planned=planned,
            now=at or utc_now(),
        )
