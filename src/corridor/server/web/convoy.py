"""Convoy pages: the timeline (a Gantt chart per vehicle), trip sheets per vehicle (HTML and PDF),
and a re-plan after a closure with what it changes.

The timeline and sheets show the convoy plan the operation follows (a re-plan with the trips it
kept from the plan it replaced), read as published. A re-plan: a coordinator or planner marks a
road the convoy drives or a checkpoint closed from a time (until another, or for good), or moves
the deadline earlier; a job on the cluster plans again from that time
(:mod:`corridor.server.convoys.jobs`), the page follows it, then shows which trips and gathering
points change and who is left behind, and why. Publishing it verifies it again against the
scenario with that closure and makes it the next convoy version. Planning the fleet from the
scenario is a job too, published when it ends; both survive a reload of the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from corridor.core.errors import CorridorError, InputError
from corridor.plan.convoy import ConvoyPlan, Trip
from corridor.reports.convoy_figures import KINDS, timeline_rows
from corridor.reports.tripsheets import trip_sheet_html, trip_sheets_pdf
from corridor.server.auth import Actor, allowed
from corridor.server.convoys import jobs as convoy_jobs
from corridor.server.convoys import planning
from corridor.server.convoys import service as convoys
from corridor.server.convoys.live import live_state
from corridor.server.convoys.scenario import Basis, Loaded, load, problem, verify
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.jobs.routes import job_fragment
from corridor.server.jobs.service import JobView
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.runtime import Runtime
from corridor.server.web.i18n import choose
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
WIDTH = 1000  # timeline strip width, in SVG units
MINUTE_INPUT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local"> value


@dataclass(frozen=True)
class Following:
    operation: Operation
    version: ConvoyVersion | None
    plan: ConvoyPlan | None
    codes: dict[str, str]  # plan vehicle id -> operation vehicle code


def _following(runtime: Runtime, operation_id: str) -> Following:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        version = convoys.current(session, operation_id)
        plan = convoys.whole_plan(session, version) if version is not None else None
        codes = dict(version.vehicles) if version is not None else {}
    return Following(operation, version, plan, codes)


def _common(request: Request, actor: Actor, following: Following) -> dict[str, Any]:
    may_change = allowed(actor, "operation.update", following.operation.id)
    return {
        "actor": actor,
        "operation": following.operation,
        "nav": menu(actor, following.operation.id),
        "version": following.version,
        "plan": following.plan,
        "can_publish": may_change,
        "operation_id": following.operation.id,
        "may_change": may_change,
    }


def _job(view: JobView | None) -> dict[str, Any]:
    """The job card's context (``_job.html``)."""
    return {"job": view, "percent": round(100 * view.progress) if view is not None else 0}


def _clock(plan: ConvoyPlan, step: int) -> str:
    moment = plan.time_of(step)
    days = (moment.date() - plan.start.date()).days
    return moment.strftime("%H:%M") + (f" (+{days})" if days else "")


def timeline(plan: ConvoyPlan, codes: dict[str, str], compiled: Any = None) -> dict[str, Any]:
    """Rows of the Gantt chart: one per vehicle, its pieces as SVG rectangles, and the hour ticks."""
    horizon = max(plan.horizon, plan.completion or 0, 1)
    scale = WIDTH / horizon
    by_vehicle: dict[str, list[dict[str, Any]]] = {v: [] for v in plan.vehicles}
    for row in timeline_rows(plan, compiled):
        by_vehicle.setdefault(row["vehicle"], []).append(row)
    rows = []
    for vehicle, pieces in by_vehicle.items():
        rects = [
            {
                "x": round(p["start"] * scale, 2),
                "width": max(round((p["end"] - p["start"]) * scale, 2), 0.8),
                "kind": p["kind"],
                "trip": p["trip"],
                "title": f"{codes.get(vehicle, vehicle)} #{p['trip']}: {p['kind']} {p['where']} "
                f"{p['start_clock']}–{p['end_clock']} ({p['people']})",
            }
            for p in pieces
        ]
        trips = plan.trips_of(vehicle)
        rows.append(
            {
                "vehicle": vehicle,
                "code": codes.get(vehicle, vehicle),
                "trips": len(trips),
                "people": sum(t.people for t in trips),
                "rects": rects,
            }
        )
    hours = max(1, round(horizon * plan.dt / 60 / 5))  # about five ticks: readable on a phone
    ticks = []
    step = int(hours * 60 / plan.dt)
    for s in range(0, horizon + 1, max(step, 1)):
        ticks.append((round(100 * s / horizon, 2), _clock(plan, s)))
    return {"rows": rows, "ticks": ticks, "deadline_x": round(plan.horizon * scale, 2), "kinds": KINDS}


@router.get("/operations/{operation_id}/convoy")
def convoy_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
) -> HTMLResponse:
    """The convoy timeline: a row per vehicle, a bar per piece of each trip."""
    following = _following(runtime, operation_id)
    view = None
    if following.plan is not None:
        view = timeline(following.plan, following.codes)
    # The fleet's plan job: shown while it runs, and when it failed or was cancelled with no plan.
    job = convoy_jobs.latest(runtime, operation_id)
    if job is not None and (job.state == "done" or (job.final and following.plan is not None)):
        job = None
    context = _common(request, actor, following) | _job(job)
    return page(request, "convoy.html", **context, view=view)


@router.post("/operations/{operation_id}/convoy/plan")
def plan_and_publish(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> HTMLResponse:
    """Plan the operation's fleet from its scenario on the cluster, as a job the page follows; its
    plan is published when it is made (the API's POST .../convoy/jobs)."""
    view = convoy_jobs.start_plan(runtime, operation_id, by=actor.label)
    if "HX-Request" in request.headers:
        return job_fragment(request, actor, operation_id, view)
    return convoy_page(request, operation_id, runtime, actor)


def _sheet_vehicle(following: Following, code: str) -> str:
    plan_id = next((v for v, c in following.codes.items() if c == code), None)
    if plan_id is None or following.plan is None:
        raise NotFoundError(f"no vehicle {code!r} in the convoy plan", where="vehicle")
    return plan_id


@router.get("/operations/{operation_id}/convoy/sheets/{code}")
def trip_sheet(
    request: Request,
    operation_id: str,
    code: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
) -> HTMLResponse:
    """One vehicle's trip sheet, to print or to read on a phone."""
    following = _following(runtime, operation_id)
    vehicle = _sheet_vehicle(following, code)
    assert following.plan is not None
    language = choose(request)
    compiled = _problem(runtime, following.operation)
    sheet = trip_sheet_html(following.plan, vehicle, language.code, problem=compiled, standalone=False)
    others = [(c, c == code) for c in following.codes.values()]
    return page(
        request,
        "convoy_sheet.html",
        **_common(request, actor, following),
        code=code,
        sheet=sheet,
        others=others,
    )


@router.get("/operations/{operation_id}/convoy/sheets.pdf", response_model=None)
def trip_sheets_download(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
    vehicle: str | None = None,
) -> Response:
    """Trip sheets as a PDF (every vehicle's, or ``vehicle``'s) in the reader's language."""
    following = _following(runtime, operation_id)
    if following.plan is None:
        raise NotFoundError("the operation follows no convoy plan", where="convoy")
    chosen = [_sheet_vehicle(following, vehicle)] if vehicle else None
    language = choose(request)
    try:
        data = trip_sheets_pdf(
            following.plan, language.code, chosen, problem=_problem(runtime, following.operation)
        )
    except CorridorError as error:
        return page(
            request,
            "error.html",
            actor=actor,
            status_code=503,
            operation=following.operation,
            nav=menu(actor, operation_id),
            message=error.message,
            hint=error.hint,
        )
    name = f"trip-sheets-{vehicle or 'all'}-{language.code}.pdf"
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _problem(runtime: Runtime, operation: Operation) -> Any:
    """The scenario's convoy problem, for names of groups and checkpoint queues (None if unreadable)."""
    try:
        return problem(load(runtime.settings.scenarios_dir, operation.scenario_name), Basis())
    except CorridorError:
        return None


# --- re-plan after a closure -------------------------------------------------------------------


def _roads(plan: ConvoyPlan) -> list[tuple[str, str]]:
    """Roads the convoy drives (each once, either direction)."""
    seen: dict[tuple[str, str], None] = {}
    for trip in plan.trips:
        for drive in (trip.approach, trip.haul):
            for a, b in zip(drive.nodes, drive.nodes[1:], strict=False):
                seen.setdefault((min(a, b), max(a, b)), None)
    return list(seen)


def _default_from(plan: ConvoyPlan) -> datetime:
    end = plan.time_of(plan.horizon)
    now = datetime.now(tz=plan.start.tzinfo)
    if plan.start <= now < end:
        return now.replace(second=0, microsecond=0)
    return plan.time_of(plan.horizon // 4)


def _form(plan: ConvoyPlan, loaded: Loaded) -> dict[str, Any]:
    return {
        "roads": [f"{a} – {b}" for a, b in _roads(plan)],
        "checkpoints": [(c.id, c.node) for c in loaded.scenario.checkpoints],
        "default_from": _default_from(plan).strftime(MINUTE_INPUT),
        "deadline": plan.time_of(plan.horizon).strftime(MINUTE_INPUT),
        "offset": plan.start.strftime("%z"),
    }


@router.get("/operations/{operation_id}/convoy/replan")
def replan_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
) -> HTMLResponse:
    following = _following(runtime, operation_id)
    form, diff, job, draft = None, None, None, None
    if following.plan is not None and following.version is not None:
        form = _form(following.plan, load(runtime.settings.scenarios_dir, following.operation.scenario_name))
        # The latest re-plan of the version followed: its job while it runs, or what it changes.
        found = convoy_jobs.latest(runtime, operation_id, convoy_jobs.REPLAN)
        if found is not None and found.params.get("replaces") == following.version.version:
            if found.state == "done" and found.result:
                diff = _diff(convoy_jobs.replan_of(found, following.plan), following, found)
                draft = found.id
            else:
                job = found
    context = _common(request, actor, following) | _job(job)
    return page(request, "convoy_replan.html", **context, form=form, diff=diff, draft=draft)


def _diff(result: planning.Replan, following: Following, job: JobView) -> dict[str, Any]:
    asked = job.params.get("deadline")
    return {"from_scans": bool(job.params.get("from_scans"))} | difference(
        result,
        following.codes,
        closures=list(job.params.get("closures") or []),
        deadline=datetime.fromisoformat(asked) if asked else None,
        old_deadline=result.old.time_of(result.old.horizon),
    )


def _moment(text: str, plan: ConvoyPlan, field: str) -> datetime:
    try:
        moment = datetime.strptime(text, MINUTE_INPUT)
    except ValueError:
        raise InputError(
            f"{text!r} is not a date and time", where=field, hint="use YYYY-MM-DDTHH:MM"
        ) from None
    return moment.replace(tzinfo=plan.start.tzinfo)


@router.post("/operations/{operation_id}/convoy/replan")
def replan_run(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
    closed: Annotated[str, Form(max_length=400)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
    deadline: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Plan again from ``start`` with ``closed`` (``road:a|b`` or ``checkpoint:id``) closed from then
    until ``end`` (or for good), and/or an earlier ``deadline``; answers what changes."""
    following = _following(runtime, operation_id)
    if following.plan is None or following.version is None:
        raise NotFoundError("the operation follows no convoy plan", where="convoy")
    plan = following.plan
    loaded = load(runtime.settings.scenarios_dir, following.operation.scenario_name)
    when = _moment(start, plan, "start")
    if not plan.start <= when < plan.time_of(plan.horizon):
        raise InputError(
            f"{start} is outside the plan's window",
            where="start",
            hint=f"from {plan.start:%Y-%m-%d %H:%M} to {plan.time_of(plan.horizon):%Y-%m-%d %H:%M}",
        )
    closures: list[dict[str, Any]] = []
    reason = ""
    if closed:
        until = _moment(end, plan, "end") if end else None
        if until is not None and until <= when:
            raise InputError(
                "the closure ends before it starts", where="end", hint="give a later end, or none"
            )
        closure: dict[str, Any] = {"id": f"replan-{when:%H%M}", "start": when.isoformat()}
        if until is not None:
            closure["end"] = until.isoformat()
        kind, _, what = closed.partition(":")
        if kind == "road" and "|" in what:
            a, _, b = what.partition("|")
            closure |= {"arc": [a, b], "both_directions": True}
            reason = f"{a} – {b}"
        elif kind == "checkpoint":
            node = dict((c.id, c.node) for c in loaded.scenario.checkpoints).get(what)
            if node is None:
                raise InputError(f"no checkpoint {what!r} in the scenario", where="closed")
            closure |= {"node": node}
            reason = what
        else:
            raise InputError(f"{closed!r} names no road or checkpoint", where="closed")
        closure["reason"] = f"closed from the operation: {reason}"
        closures.append(closure)
    new_deadline = _moment(deadline, plan, "deadline") if deadline else None
    if new_deadline is not None and new_deadline == plan.time_of(plan.horizon):
        new_deadline = None
    if new_deadline is not None and not when < new_deadline < plan.time_of(plan.horizon):
        raise InputError(
            "the new deadline must fall after the re-plan's time and before the old one", where="deadline"
        )
    if not closures and new_deadline is None:
        raise InputError(
            "nothing changes",
            where="closed",
            hint="close a road or a checkpoint, or move the deadline earlier",
        )
    with runtime.db.reading() as session:
        facts = live_state(
            session,
            runtime,
            operation=following.operation,
            version=following.version,
            plan=plan,
            loaded=loaded,
            when=when,
            step=planning.step_of(plan, when),
        )
    view = convoy_jobs.start_replan(
        runtime,
        operation_id,
        replaces=following.version.version,
        old=plan,
        path=loaded.path,
        when=when,
        step=planning.step_of(plan, when),
        closures=closures,
        deadline=new_deadline,
        live=facts,
        by=actor.label,
    )
    if "HX-Request" in request.headers:
        return job_fragment(request, actor, operation_id, view)
    return replan_page(request, operation_id, runtime, actor)


@router.post("/operations/{operation_id}/convoy/replan/publish")
def replan_publish(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.update")],
    draft: Annotated[str, Form(min_length=1, max_length=64)],
) -> HTMLResponse:
    """Publish a re-plan shown just before (``draft``: its job): verified again, it becomes the
    next convoy version."""
    job = runtime.jobs.get(draft, operation_id)
    if job.kind != convoy_jobs.REPLAN or job.state != "done" or not job.result:
        raise NotFoundError("that re-plan is not made (yet)", where="draft", hint="plan again, then publish")
    base = int(job.params["replaces"])
    with runtime.db.reading() as session:
        old = convoys.whole_plan(session, convoys.get(session, operation_id, base))
    result = convoy_jobs.replan_of(job, old)
    following = _following(runtime, operation_id)
    loaded = load(runtime.settings.scenarios_dir, following.operation.scenario_name)
    compiled = verify(result.plan, loaded, result.basis)
    with runtime.db.writing() as session:
        version = convoys.publish(
            session,
            operations.get(session, operation_id),
            plan=result.plan,
            loaded=loaded,
            problem=compiled,
            basis=result.basis,
            mapping=dict(following.codes),
            offsets=result.offsets,
            replaces=base,
            by=actor.label,
        )
        number = version.version
    following = _following(runtime, operation_id)
    view = timeline(following.plan, following.codes) if following.plan is not None else None
    context = _common(request, actor, following) | _job(None)
    response = page(request, "convoy.html", **context, view=view, published=number)
    if "HX-Request" in request.headers:
        response.headers["HX-Redirect"] = f"/operations/{operation_id}/convoy"
    return response


def _out_by_node(trips: list[Trip]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in trips:
        out[t.gathering] = out.get(t.gathering, 0) + t.people
    return out


def difference(
    result: planning.Replan,
    codes: dict[str, str],
    *,
    closures: list[dict[str, Any]],
    deadline: datetime | None,
    old_deadline: datetime,
) -> dict[str, Any]:
    """What the re-plan changes against the plan it replaces, from the re-plan's time on: trips by
    vehicle, people out by gathering point, people newly left behind by source, and why (the
    re-plan's reason: ``deadline``, ``closure``, ``checkpoint`` or ``fleet``)."""
    old, step = result.old, result.step
    # Trips done by then stay as they were; the rest of the old plan against the whole new plan.
    old_after = [t for t in old.trips if t.arrival > step]
    new_trips = list(result.plan.trips)
    vehicles = []
    changed_trips = 0
    for vid in old.vehicles:
        before = [t for t in old_after if t.vehicle == vid]
        after = [t for t in new_trips if t.vehicle == vid]
        offset = result.offsets.get(vid, 0)
        a = {t.number: (t.gathering, t.reception, t.load, t.board_start) for t in before}
        b = {t.number + offset: (t.gathering, t.reception, t.load, t.board_start) for t in after}
        changed = sum(1 for n in set(a) | set(b) if a.get(n) != b.get(n))
        changed_trips += changed
        if changed:
            vehicles.append(
                {
                    "code": codes.get(vid, vid),
                    "before": len(before),
                    "after": len(after),
                    "people_before": sum(t.people for t in before),
                    "people_after": sum(t.people for t in after),
                    "changed": changed,
                    "first_before": _clock(old, min(t.board_start for t in before)) if before else "–",
                    "first_after": _clock(old, min(t.board_start for t in after)) if after else "–",
                }
            )
    by_node_a, by_node_b = _out_by_node(old_after), _out_by_node(new_trips)
    points = [
        {"node": n, "before": by_node_a.get(n, 0), "after": by_node_b.get(n, 0)}
        for n in sorted(set(by_node_a) | set(by_node_b))
    ]
    minutes_lost = (old_deadline - deadline).total_seconds() / 60 if deadline else 0.0
    gathering = {s: t.gathering for t in old.trips for s, _ in t.load}
    left = [
        {"source": source, "node": gathering.get(source, ""), "people": people, "why": why}
        for source, _group, people, why in result.left or ()
    ]
    return {
        "at": _clock(old, step),
        "closures": closures,
        "deadline": deadline,
        "minutes_lost": round(minutes_lost),
        "kept": len(result.kept),
        "kept_people": sum(t.people for t in result.kept),
        "before": sum(t.people for t in old_after),
        "after": result.plan.evacuated,
        "trips_before": len(old_after),
        "trips_after": len(new_trips),
        "changed_trips": changed_trips,
        "vehicles": vehicles,
        "points": points,
        "changed_points": sum(1 for p in points if p["before"] != p["after"]),
        "left": left,
        "left_total": sum(x["people"] for x in left),
        "evacuated_total": result.plan.evacuated + sum(t.people for t in result.kept),
        "old_total": old.evacuated,
    }
