"""Jobs of an operation, in the API and the pages: start a plan job, follow it, cancel it.

API: ``POST /api/operations/{id}/plan/jobs`` starts a plan (the operation's scenario, by a method,
for its deadline or an earlier one) and answers 202 with the job; ``GET .../jobs`` and
``GET .../jobs/{job_id}`` say where jobs stand; ``POST .../jobs/{job_id}/cancel`` cancels one.
Pages: the plan page shows a running job as a fragment that follows it every second
(``GET /operations/{id}/jobs/{job_id}``) and reloads the page when the plan is made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict

from corridor.server.auth import Actor, allowed
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.jobs.service import JobView
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from corridor.server.web import plan_cache
from corridor.server.web.render import page

api = APIRouter(prefix="/api/operations", tags=["jobs"])
pages = APIRouter(include_in_schema=False)


class PlanJobIn(BaseModel):
    """A plan to make: by ``method``, for the scenario's deadline or an earlier ``deadline``."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["exact", "ccrp"] = "exact"
    deadline: AwareDatetime | None = None


class JobOut(BaseModel):
    """A job: ``state`` is queued, running, done, failed or cancelled; ``progress`` 0..1;
    ``result`` refers to what it made (``plan_version``), ``error`` says why it failed."""

    id: str
    kind: str
    operation_id: str | None
    params: dict[str, Any]
    state: str
    progress: float
    message: str
    error: str | None
    result: dict[str, Any] | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def job_out(view: JobView) -> JobOut:
    return JobOut.model_validate(view, from_attributes=True)


def start_plan(
    runtime: Runtime, operation_id: str, *, method: str, deadline: datetime | None, by: str
) -> JobView:
    """The operation's plan job for ``method`` and ``deadline``: the one running or done already,
    else a new one (also after one that failed or was cancelled)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
    path = plan_cache.find_scenario(runtime.settings.scenarios_dir, operation.scenario_name)
    if path is None:
        raise NotFoundError(
            f"no scenario named {operation.scenario_name!r} under {runtime.settings.scenarios_dir}",
            where="scenario_name",
            hint="put the scenario file under the scenarios folder (setting scenarios_dir)",
        )
    params = plan_cache.plan_params(path, method, deadline)
    found = runtime.jobs.latest(operation_id, "plan", params)
    if found is not None and found.state not in ("failed", "cancelled"):
        return found
    payload = {
        "scenario": str(path),
        "method": method,
        "deadline": deadline.isoformat() if deadline else None,
    }
    return runtime.jobs.start(kind="plan", operation_id=operation_id, params=params, payload=payload, by=by)


@api.post("/{operation_id}/plan/jobs", status_code=status.HTTP_202_ACCEPTED)
def plan_job(
    operation_id: str,
    body: PlanJobIn,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> JobOut:
    """Make a plan of the operation's scenario on the cluster; the job answers at once (202) and
    its plan, when made, is kept as a plan version (not published)."""
    view = start_plan(runtime, operation_id, method=body.method, deadline=body.deadline, by=actor.label)
    return job_out(view)


@api.get("/{operation_id}/jobs")
def list_jobs(
    operation_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("operation.read")]
) -> list[JobOut]:
    """The operation's jobs, oldest first, each as it stands now."""
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
    return [job_out(v) for v in runtime.jobs.listed(operation_id)]


@api.get("/{operation_id}/jobs/{job_id}")
def read_job(
    operation_id: str, job_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("operation.read")]
) -> JobOut:
    """Where a job stands, with its progress while it runs."""
    return job_out(runtime.jobs.get(job_id, operation_id))


@api.post("/{operation_id}/jobs/{job_id}/cancel")
def cancel_job(
    operation_id: str, job_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("operation.update")]
) -> JobOut:
    """Cancel a job: a queued one never starts, a running one stops; an ended one stays as it is."""
    return job_out(runtime.jobs.cancel(job_id, operation_id))


def job_fragment(request: Request, actor: Actor, operation_id: str, view: JobView) -> HTMLResponse:
    """The job as the plan page shows it; a finished plan reloads the page."""
    response = page(
        request,
        "_job.html",
        actor=actor,
        job=view,
        operation_id=operation_id,
        percent=round(100 * view.progress),
        may_change=allowed(actor, "operation.update", operation_id),
    )
    if view.state == "done" and "HX-Request" in request.headers:
        response.headers["HX-Refresh"] = "true"
    return response


@pages.get("/operations/{operation_id}/jobs/{job_id}")
def job_page(
    request: Request,
    operation_id: str,
    job_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
) -> HTMLResponse:
    return job_fragment(request, actor, operation_id, runtime.jobs.get(job_id, operation_id))


@pages.post("/operations/{operation_id}/jobs/{job_id}/cancel")
def cancel_from_page(
    request: Request,
    operation_id: str,
    job_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> HTMLResponse:
    return job_fragment(request, actor, operation_id, runtime.jobs.cancel(job_id, operation_id))


@pages.post("/operations/{operation_id}/plan/jobs")
def plan_from_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
    method: Annotated[Literal["exact", "ccrp"], Form()] = "exact",
    deadline: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Plan again from the plan page (after a job failed or was cancelled); the page follows it."""
    when = datetime.fromisoformat(deadline) if deadline else None
    view = start_plan(runtime, operation_id, method=method, deadline=when, by=actor.label)
    return job_fragment(request, actor, operation_id, view)
