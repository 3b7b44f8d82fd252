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
from corridor.server.web.i18n import choose
from corridor.server.web.nav import menu
from corridor.server.web.plan_cache import find_scenario
from corridor.server.web.render import environment, page

router = APIRouter(include_in_schema=False)
KIND = "risk"
RUNS = (500, 2000, 10000)
Disruptions = Literal["scenario", "illustrative"]

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Risk",
        "intro": "The convoy plan the operation follows, simulated many times under disruption: checkpoint"
        " holds, road closures, an early end of the ceasefire, no-shows, breakdowns and travel times"
        " that vary.",
        "no_plan": "The operation follows no convoy plan yet: publish one on the Convoy page first.",
        "no_scenario": "The operation's scenario file was not found on the server.",
        "plan": "Convoy plan version {version} ({hash}): {out} of {people} people out by the deadline"
        " as planned.",
        "scenario_sets": "The scenario sets its disruptions ([risk] table).",
        "scenario_none": "The scenario sets no disruption ([risk] table): every run would be the plan."
        " Simulate under corridor's illustrative disruptions to see how the plan holds up.",
        "runs": "Runs",
        "use": "Disruptions",
        "use.scenario": "the scenario's",
        "use.illustrative": "corridor's illustrative set",
        "start": "Simulate",
        "job": "Simulating {runs} runs on the cluster",
        "state.queued": "waiting for a worker",
        "state.running": "running",
        "state.done": "done",
        "state.failed": "failed",
        "state.cancelled": "cancelled",
        "progress": "Progress",
        "cancel": "Cancel",
        "failed": "The simulation failed: {error}",
        "cancelled": "The simulation was cancelled.",
        "hint": "This page follows the job and shows the result when it is done; it may be reloaded.",
        "result": "{runs} runs with {use} disruptions",
        "p_all": "chance everyone is out",
        "p_plan": "chance the plan's figure is met",
        "mean_out": "mean people out",
        "left": "people left inside: 5 % / 50 % / 95 % of runs",
        "by_point": "People left per gathering point",
        "point": "gathering point",
        "mean": "mean",
        "p95": "95 % of runs",
        "any_left": "chance anyone is left",
        "damage": "What each disruption costs",
        "disruption": "disruption",
        "people_lost": "people out lost on average",
        "fan": "People out against time (median run, middle half and 90 % of runs)",
        "tornado": "Mean people out with each disruption off (green) and doubled (red)",
        "field.travel_time_spread": "travel times",
        "field.checkpoint_hold_probability": "checkpoint holds",
        "field.closure_probability": "road closures",
        "field.ceasefire_end_probability": "the ceasefire ends early",
        "field.no_show_probability": "no-shows",
        "field.breakdown_probability": "breakdowns",
    },
    "ar": {
        "title": "المخاطر",
        "intro": "خطة القافلة التي تتبعها العملية، محاكاة مرات كثيرة في ظل الاضطرابات: احتجاز عند الحواجز،"
        " وإغلاق طرق، وانتهاء مبكر لوقف إطلاق النار، وتغيّب، وأعطال، وأزمنة سفر متغيرة.",
        "no_plan": "لا تتبع العملية خطة قافلة بعد: انشر خطة في صفحة القافلة أولًا.",
        "no_scenario": "لم يُعثر على ملف سيناريو العملية على الخادم.",
        "plan": "خطة القافلة الإصدار {version} ({hash}): يخرج {out} من {people} شخصًا قبل الموعد النهائي"
        " وفق الخطة.",
        "scenario_sets": "يحدد السيناريو اضطراباته (جدول [risk]).",
        "scenario_none": "لا يحدد السيناريو أي اضطراب (جدول [risk]): كل محاكاة ستطابق الخطة."
        " حاكِ في ظل الاضطرابات التوضيحية لمعرفة مدى صمود الخطة.",
        "runs": "عدد المحاكاة",
        "use": "الاضطرابات",
        "use.scenario": "اضطرابات السيناريو",
        "use.illustrative": "المجموعة التوضيحية",
        "start": "حاكِ",
        "job": "تجري محاكاة {runs} مرة على العنقود الحاسوبي",
        "state.queued": "بانتظار عامل",
        "state.running": "قيد التنفيذ",
        "state.done": "انتهت",
        "state.failed": "فشلت",
        "state.cancelled": "أُلغيت",
        "progress": "التقدّم",
        "cancel": "إلغاء",
        "failed": "فشلت المحاكاة: {error}",
        "cancelled": "أُلغيت المحاكاة.",
        "hint": "تتابع هذه الصفحة العمل وتعرض النتيجة عند انتهائه؛ يمكن إعادة تحميلها.",
        "result": "{runs} محاكاة مع {use}",
        "p_all": "احتمال خروج الجميع",
        "p_plan": "احتمال بلوغ رقم الخطة",
        "mean_out": "متوسط من يخرجون",
        "left": "من يبقون في الداخل: 5٪ / 50٪ / 95٪ من المحاكاة",
        "by_point": "من يبقون في كل نقطة تجمع",
        "point": "نقطة التجمع",
        "mean": "المتوسط",
        "p95": "95٪ من المحاكاة",
        "any_left": "احتمال بقاء أحد",
        "damage": "كلفة كل اضطراب",
        "disruption": "الاضطراب",
        "people_lost": "متوسط من لا يخرجون بسببه",
        "fan": "من يخرجون بمرور الوقت (المحاكاة الوسيطة، والنصف الأوسط، و90٪ من المحاكاة)",
        "tornado": "متوسط من يخرجون دون كل اضطراب (أخضر) ومع مضاعفته (أحمر)",
        "field.travel_time_spread": "أزمنة السفر",
        "field.checkpoint_hold_probability": "الاحتجاز عند الحواجز",
        "field.closure_probability": "إغلاق الطرق",
        "field.ceasefire_end_probability": "انتهاء وقف إطلاق النار مبكرًا",
        "field.no_show_probability": "التغيّب",
        "field.breakdown_probability": "الأعطال",
    },
}


def words(request: Request) -> dict[str, str]:
    language = choose(request)
    return {**WORDS["en"], **WORDS.get(language.code, {})}


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
        "w": words(request),
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
