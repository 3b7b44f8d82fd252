"""The risk page: the convoy plan the operation follows, simulated many times under disruption as a job
on the cluster (kind ``risk``, :mod:`corridor.simulate.tasks`), with the chance everyone is out, people
left per gathering point, the fan chart of people out and the tornado chart of what each disruption
costs.

The disruptions are the scenario's ``[risk]`` table; a scenario that sets none may be simulated under
corridor's illustrative set (:data:`corridor.simulate.risk.ILLUSTRATIVE`), and the page says which.
A job is looked up by the plan's hash, the runs and the disruptions: the same question asked again
shows the job that answers it, running or done.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from corridor.core.errors import InputError
from corridor.scenario.load import load_scenario
from corridor.server.auth import Actor, allowed
from corridor.server.convoys import service as convoys
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.jobs.service import JobView
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from corridor.server.web.nav import menu
from corridor.server.web.plan_cache import find_scenario
from corridor.server.web.render import environment, page

router = APIRouter(include_in_schema=False)
KIND = "risk"
RUNS = (500, 2000, 10000)
Disruptions = Literal["scenario", "illustrative"]


def _situation(runtime: Runtime, operation_id: str) -> dict[str, Any]:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        version = convoys.current(session, operation_id)
        plan = convoys.whole_plan(session, version) if version is not None else None
    path = find_scenario(runtime.settings.scenarios_dir, operation.scenario_name)
    disrupted = False
    if path is not None:
        disrupted = load_scenario(path).risk.disrupted
    return {"operation": operation, "version": version, "plan": plan, "path": path, "disrupted": disrupted}


def _latest(runtime: Runtime, operation_id: str, plan_hash: str | None) -> JobView | None:
    if plan_hash is None:
        return None
    mine = [
        v
        for v in runtime.jobs.listed(operation_id)
        if v.kind == KIND and v.params.get("plan_hash") == plan_hash
    ]
    return mine[-1] if mine else None


def _job_context(request: Request, actor: Actor, operation_id: str, job: JobView | None) -> dict[str, Any]:
    result = (job.result or {}).get("value") if job is not None and job.state == "done" else None
    return {
        "job": job,
        "percent": round(100 * job.progress) if job is not None else 0,
        "result": result,
        "operation_id": operation_id,
        "may_run": allowed(actor, "operation.update", operation_id),
    }


@router.get("/operations/{operation_id}/risk")
def risk_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
) -> HTMLResponse:
    """The risk of the followed convoy plan: the latest simulation of it, and a form to start one."""
    found = _situation(runtime, operation_id)
    version = found["version"]
    job = _latest(runtime, operation_id, version.plan_hash if version is not None else None)
    return page(
        request,
        "risk.html",
        actor=actor,
        nav=menu(actor, operation_id),
        layout="base.html",
        runs_choices=RUNS,
        **found,
        **_job_context(request, actor, operation_id, job),
    )


@router.post("/operations/{operation_id}/risk")
def start_risk(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
    runs: Annotated[int, Form()] = 2000,
    disruptions: Annotated[Disruptions, Form()] = "scenario",
) -> Response:
    """Start a simulation of the followed convoy plan (or show the one that answers the same question)."""
    from corridor.simulate.risk import ILLUSTRATIVE

    if runs not in RUNS:
        raise InputError(f"{runs} runs is not offered", where="runs", hint=f"use one of {list(RUNS)}")
    found = _situation(runtime, operation_id)
    version, plan, path = found["version"], found["plan"], found["path"]
    if version is None or plan is None:
        raise NotFoundError("the operation follows no convoy plan", where="convoy", hint="publish one first")
    if path is None:
        raise NotFoundError("the operation's scenario file is not on the server", where="scenario_name")
    params = {"plan_hash": version.plan_hash, "runs": runs, "disruptions": disruptions}
    same = [
        v
        for v in runtime.jobs.listed(operation_id)
        if v.kind == KIND and v.params == params and v.state not in ("failed", "cancelled")
    ]
    if not same:
        payload: dict[str, Any] = {"scenario": str(path), "plan": plan.to_dict(), "runs": runs, "seed": 0}
        if disruptions == "illustrative":
            payload["risk"] = ILLUSTRATIVE.model_dump(mode="json")
        runtime.jobs.start(
            kind=KIND, operation_id=operation_id, params=params, payload=payload, by=actor.label
        )
    where = f"/operations/{operation_id}/risk"
    if "HX-Request" in request.headers:  # the page's form: htmx follows the job on the page
        return Response(status_code=200, headers={"HX-Redirect": where})
    return RedirectResponse(where, status_code=303)


def _fragment(request: Request, actor: Actor, operation_id: str, job: JobView) -> HTMLResponse:
    if job.kind != KIND:
        raise NotFoundError(f"there is no risk job {job.id}", where="job_id")
    response = page(
        request,
        "risk.html",
        actor=actor,
        layout=environment().from_string("{% block job %}{% endblock %}"),
        **_job_context(request, actor, operation_id, job),
    )
    if job.final and "HX-Request" in request.headers:
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/operations/{operation_id}/risk/jobs/{job_id}")
def risk_job(
    request: Request,
    operation_id: str,
    job_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
) -> HTMLResponse:
    """The job as the risk page follows it (every second, until it ends)."""
    return _fragment(request, actor, operation_id, runtime.jobs.get(job_id, operation_id))


@router.post("/operations/{operation_id}/risk/jobs/{job_id}/cancel")
def cancel_risk_job(
    request: Request,
    operation_id: str,
    job_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> HTMLResponse:
    view = runtime.jobs.get(job_id, operation_id)
    if view.kind != KIND:
        raise NotFoundError(f"there is no risk job {job_id}", where="job_id")
    return _fragment(request, actor, operation_id, runtime.jobs.cancel(job_id, operation_id))


@router.get("/operations/{operation_id}/risk/jobs/{job_id}/{chart}.svg")
def risk_chart(
    operation_id: str,
    job_id: str,
    chart: Literal["fan", "tornado"],
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
) -> Response:
    """A chart of a finished simulation, as SVG."""
    from corridor.reports.risk_figures import fan_chart, tornado_chart

    view = runtime.jobs.get(job_id, operation_id)
    value = (view.result or {}).get("value") if view.kind == KIND and view.state == "done" else None
    if not isinstance(value, dict) or "chart" not in value:
        raise NotFoundError(f"risk job {job_id} has no result", where="job_id")
    out = io.BytesIO()
    (fan_chart if chart == "fan" else tornado_chart)(value["chart"], out, fmt="svg")
    return Response(
        out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"}
    )


__all__ = ["router"]
