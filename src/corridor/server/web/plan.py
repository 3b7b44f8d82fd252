"""The plan: departures per gathering point and vehicle, and what changed between versions.

The plan shown is the published version the operation follows, read as it was published (no
planning), when there is one; otherwise the one a job made of the operation's scenario on the
cluster (see :mod:`plan_cache`; while the job runs, the page shows its progress and reloads when
it is done), labelled as published when its content hash is the one the operation cites, and as
a computed, unpublished plan otherwise. "What changed" compares two published versions
(the last two unless the reader picks others) when the operation has two or more; with one or
none, it compares the plan with a re-plan for a shorter window: the reader enters an earlier
deadline and a job plans the scenario again with it (roles that may change the operation only:
a re-plan costs seconds of CPU on the cluster).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from corridor.core.errors import CorridorError, InputError
from corridor.plan.model import Plan
from corridor.reports import departures
from corridor.server.auth import Actor, allowed
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.jobs.service import BY_JOB
from corridor.server.operations import service as operations
from corridor.server.operations import versions
from corridor.server.operations.tables import PlanVersion
from corridor.server.runtime import Runtime
from corridor.server.web import plan_cache
from corridor.server.web.i18n import choose
from corridor.server.web.map import scenario_and_plan, stored_plan
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
WIDTH, ROW = 600, 30  # timeline strip size, in SVG units
MINUTE_INPUT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local"> value


@router.get("/operations/{operation_id}/plan")
def plan_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("operation.read")],
    deadline: Annotated[str | None, Query(max_length=40)] = None,
    a: Annotated[int | None, Query(ge=1, description="The older version to compare.")] = None,
    b: Annotated[int | None, Query(ge=1, description="The newer version to compare.")] = None,
) -> HTMLResponse:
    """The plan shown, or the job making it (the page follows it and reloads when it is done)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        every = versions.listed(session, operation_id)
    # Versions published by people; a plan a job made is kept as a version too, not published.
    kept = [v for v in every if not v.published_by.startswith(BY_JOB)]
    found = scenario_and_plan(request, runtime, operation, by=actor.label)
    context: dict[str, Any] = {
        "operation": operation,
        "nav": menu(actor, operation_id),
        "notice": found.notice,
        "published": found.published,
        "current": next((v for v in every if v.version == found.version), None),
        "versions": kept,
        "chosen": None,
        "view": None,
        "changes": None,
        "error": None,
        "asked": deadline or "",
        # A re-plan costs seconds of CPU: only those who may change the operation ask for one.
        "may_replan": allowed(actor, "operation.update", operation_id),
        "job": found.job if found.planning is None else None,
        "replan_job": None,
    }
    status = 200
    text = choose(request).text
    if found.planning is not None:
        planning = found.planning
        context["view"] = timeline(planning)
        if len(kept) >= 2:
            chosen = (a or kept[-2].version, b or kept[-1].version)
            context["chosen"] = chosen
            try:
                context["changes"] = versions_compared(runtime, planning.path, kept, chosen, text)
            except CorridorError as error:
                context["error"] = error.message if not error.hint else f"{error.message} ({error.hint})"
                status = 404 if isinstance(error, NotFoundError) else 400
        elif deadline and not context["may_replan"]:
            context["error"] = text("plan.replan_refused")
            status = 403
        elif deadline:
            try:
                shorter = _deadline(deadline, planning.plan, planning.scenario.deadline)
                method = planning.plan.method if planning.plan.method in ("exact", "ccrp") else "exact"
                other = plan_cache.operation_plan(
                    runtime, operation_id, planning.path, method=method, deadline=shorter, by=actor.label
                )
                if other.planning is not None:
                    labels = (text("plan.now"), text("plan.shorter"))
                    context["changes"] = changes(planning, other.planning, labels)
                else:
                    context["replan_job"] = other.job
            except CorridorError as error:
                context["error"] = error.message if not error.hint else f"{error.message} ({error.hint})"
                status = 400
    shown = context["job"] or context["replan_job"]
    context["percent"] = round(100 * shown.progress) if shown is not None else 0
    context["operation_id"] = operation_id
    context["may_change"] = context["may_replan"]
    return page(request, "plan.html", actor=actor, status_code=status, **context)


def versions_compared(
    runtime: Runtime,
    path: Path,
    kept: list[PlanVersion],
    chosen: tuple[int, int],
    text: Callable[..., str],
) -> dict[str, Any]:
    """Two published versions side by side, as they were published (no solving)."""
    by_number = {v.version: v for v in kept}
    missing = [n for n in chosen if n not in by_number]
    if missing:
        raise NotFoundError(
            f"there is no plan version {missing[0]}",
            where="a" if chosen[0] in missing else "b",
            hint=f"choose versions 1 to {kept[-1].version}",
        )
    a, b = (plan_cache.stored(runtime, path, stored_plan(runtime, by_number[n])) for n in chosen)
    labels = (text("plan.version_label", version=chosen[0]), text("plan.version_label", version=chosen[1]))
    return changes(a, b, labels)


def _deadline(value: str, plan: Plan, latest: datetime) -> datetime:
    """The re-plan's deadline: a time on the scenario's clock after the start, not after the
    scenario's own deadline."""
    try:
        typed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{value!r} is not a date and time", where="deadline", hint="write it as 2016-12-16T04:30"
        ) from None
    when = typed.replace(tzinfo=plan.start.tzinfo) if typed.tzinfo is None else typed
    earliest = plan.start + timedelta(minutes=plan.dt)
    if not earliest <= when <= latest:
        raise InputError(
            f"the new deadline must fall between {earliest:%Y-%m-%d %H:%M} and {latest:%Y-%m-%d %H:%M}",
            where="deadline",
            hint="a shorter window ends before the scenario's own deadline",
        )
    return when


def clock(plan: Plan, step: int | None) -> str:
    """Step ``step`` on the scenario's clock: ``HH:MM``, with the day when it is not the start's."""
    if step is None:
        return "–"
    when = departures.at(plan, step)
    return f"{when:%H:%M}" if when.date() == plan.start.date() else f"{when:%d/%m %H:%M}"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    group: int
    title: str


def timeline(planning: plan_cache.Planning) -> dict[str, Any]:
    """What the template draws: headline figures, one row per gathering point with its
    departures binned along the window (bars stacked by group, the most urgent at the bottom),
    and the time axis."""
    plan, problem, scenario = planning.plan, planning.problem, planning.scenario
    groups = departures.groups_in_order(problem)
    occupancy = scenario.occupancy[scenario.mode]
    size = departures.bin_size(plan.horizon)
    points = departures.by_point(plan, problem)
    binned = {p.node: departures.bins(p, size, groups, occupancy) for p in points}
    tallest = max((b.total for found in binned.values() for b in found), default=1) or 1
    scale = WIDTH / max(plan.horizon, 1)
    rows = []
    for point in points:
        rects = []
        for b in binned[point.node]:
            base = float(ROW)
            label = f"{clock(plan, b.start)}–{clock(plan, b.start + size)}: " + ", ".join(
                f"{g} {n}" for g, n in b.people.items()
            )
            for group, people in b.people.items():
                height = (ROW - 2) * people / tallest
                base -= height
                width = max(1.0, size * scale - 1)
                rects.append(
                    Rect(
                        round(b.start * scale, 1),
                        round(base, 2),
                        round(width, 1),
                        round(height, 2),
                        groups.index(group),
                        label,
                    )
                )
        rows.append(
            {
                "point": point,
                "first": clock(plan, point.first),
                "last": clock(plan, point.last),
                "bins": binned[point.node],
                "vehicles": sum(b.vehicles for b in binned[point.node]),
                "rects": rects,
            }
        )
    return {
        "plan": plan,
        "hash": plan.content_hash(),
        "groups": groups,
        "rows": rows,
        "size_minutes": f"{size * plan.dt:g}",
        "ticks": _ticks(plan),
        "mode": scenario.mode,
        "occupancy": occupancy,
        "start": plan.start,
        "deadline": scenario.deadline,
        "evacuation": _duration(plan.evacuation_minutes),
        "suggested": _suggested(plan, scenario.deadline),
        "clock": lambda step: clock(plan, step),
    }


def _ticks(plan: Plan) -> list[tuple[float, str]]:
    """Times along the axis, at percent of the window."""
    every = departures.bin_size(plan.horizon, most=4)
    horizon = max(plan.horizon, 1)
    return [
        (round(100 * s / horizon, 2), f"{departures.at(plan, s):%H:%M}")
        for s in range(0, plan.horizon + 1, every)
    ]


def _duration(minutes: float | None) -> tuple[int, int] | None:
    if minutes is None:
        return None
    whole = math.ceil(minutes)
    return whole // 60, whole % 60


def _suggested(plan: Plan, deadline: datetime) -> dict[str, str]:
    """Bounds and a first value for the new-deadline field: two hours earlier, or half the window."""
    earliest = plan.start + timedelta(minutes=plan.dt)
    window = deadline - plan.start
    shorter = deadline - min(timedelta(hours=2), window / 2)
    return {
        "min": f"{earliest:{MINUTE_INPUT}}",
        "max": f"{deadline:{MINUTE_INPUT}}",
        "value": f"{shorter:{MINUTE_INPUT}}",
        "offset": f"{plan.start:%z}"[:3] + ":" + f"{plan.start:%z}"[3:],
    }


def changes(
    planning: plan_cache.Planning, other: plan_cache.Planning, labels: tuple[str, str]
) -> dict[str, Any]:
    """Per gathering point, one plan against another (the plan shown against a re-plan, or an
    older published version against a newer one), with totals; ``labels`` head their columns."""
    a, b = planning.plan, other.plan
    rows = departures.compare(departures.by_point(a, planning.problem), departures.by_point(b, other.problem))
    firsts_a = [r.first_a for r in rows if r.first_a is not None]
    firsts_b = [r.first_b for r in rows if r.first_b is not None]
    lasts_a = [r.last_a for r in rows if r.last_a is not None]
    lasts_b = [r.last_b for r in rows if r.last_b is not None]
    return {
        "deadline": other.scenario.deadline,
        "label_a": labels[0],
        "label_b": labels[1],
        "rows": [
            {
                "change": r,
                "first_a": clock(a, r.first_a),
                "first_b": clock(b, r.first_b),
                "last_a": clock(a, r.last_a),
                "last_b": clock(b, r.last_b),
            }
            for r in rows
        ],
        "total_a": a.evacuated,
        "total_b": b.evacuated,
        "first_a": clock(a, min(firsts_a, default=None)),
        "first_b": clock(b, min(firsts_b, default=None)),
        "last_a": clock(a, max(lasts_a, default=None)),
        "last_b": clock(b, max(lasts_b, default=None)),
        "routes_changed": sum(r.route_changed for r in rows),
        "status_b": b.status,
    }
