"""Log-in, log-out, the list of operations and the coordinator's dashboard."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import delete

from corridor.core.errors import CorridorError
from corridor.ops.reconciliation import NO_GROUP, Reconciliation
from corridor.ops.status import Status
from corridor.plan.model import Plan
from corridor.reports.curves import Series, clearance_svg, cumulative
from corridor.server.access import login
from corridor.server.access.tables import ApiToken
from corridor.server.auth import Actor, allowed, token_digest
from corridor.server.columns import utc_now
from corridor.server.convoys import follow
from corridor.server.convoys.routes import planned_trips
from corridor.server.convoys.schemas import TripsOut
from corridor.server.deps import RuntimeDep, permit
from corridor.server.exports import service as exports
from corridor.server.ledger import counts
from corridor.server.operations import service as operations
from corridor.server.operations import versions
from corridor.server.operations.tables import Operation
from corridor.server.runtime import Runtime
from corridor.server.web import plan_cache
from corridor.server.web.i18n import choose
from corridor.server.web.map import stored_plan
from corridor.server.web.nav import menu
from corridor.server.web.render import page
from corridor.server.web.session import (
    check_csrf,
    check_origin,
    close_session,
    open_session,
    session_token,
)

router = APIRouter(include_in_schema=False)
STATUSES = [s.value for s in Status]
Text = Callable[..., str]


def _safe_next(target: str) -> str:
    """Only a path on this site (no open redirect). Browsers read a backslash as a slash and drop
    tabs and line breaks, so ``/\\evil.example`` or ``/<tab>/evil.example`` would leave the site."""
    if any(c == "\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", next=_safe_next(next), error=None, username="")


@router.post("/login")
async def log_in(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    check_origin(request)  # no log-in into someone else's account from another site's form
    try:
        # As the API's log-in: the password is checked on the passwords' own threads, so a flood
        # of log-ins waits there and holds none of the threads that answer scans.
        token, expires = await login.log_in_awaited(
            runtime.db,
            passwords=runtime.passwords,
            limiter=runtime.logins,
            username=username,
            password=password,
            address=login.address_of(request),
            hours=runtime.settings.token_hours,
        )
    except CorridorError as error:
        message = choose(request).text("login.wrong") if error.hint else error.message
        return page(
            request, "login.html", status_code=401, next=_safe_next(next), error=message, username=username
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    open_session(response, request, token, expires)
    return response


@router.post("/logout")
def log_out(
    request: Request, runtime: RuntimeDep, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """End the session here and on the server (the token stops working); the page that follows
    wipes what the browser kept (offline queue, cached manifests)."""
    check_csrf(request, csrf_token)
    token = session_token(request)
    if token is not None:
        with runtime.db.writing() as session:
            session.execute(delete(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    response = page(request, "logged_out.html")
    close_session(response)
    return response


@router.get("/")
def operations_list(
    request: Request, runtime: RuntimeDep, actor: Annotated[Actor, permit("operations.list")]
) -> HTMLResponse:
    with runtime.db.reading() as session:
        found = operations.list_for(session, actor.operations())
    return page(request, "operations.html", actor=actor, operations=found)


@router.get("/operations/{operation_id}")
def dashboard(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("counts.read")],
) -> HTMLResponse:
    return page(request, "dashboard.html", actor=actor, **_live(request, runtime, actor, operation_id))


@router.get("/operations/{operation_id}/live")
def dashboard_live(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("counts.read")],
) -> HTMLResponse:
    """The part of the dashboard that refreshes by itself."""
    return page(request, "_dashboard_live.html", actor=actor, **_live(request, runtime, actor, operation_id))


def _live(request: Request, runtime: Runtime, actor: Actor, operation_id: str) -> dict[str, Any]:
    now = utc_now()
    text = choose(request).text
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        result = counts.reconciliation(
            runtime.counts,
            session,
            operation=operation,
            now=now,
            grace_minutes=runtime.settings.grace_minutes,
        )
        arrivals = exports.arrival_times(
            counts.kept_states(runtime.counts, session, operation, kind="person")
        )
        full = allowed(actor, "reconciliation.read", operation_id)
        trips = (
            follow.trips(
                session, runtime, operation=operation, planned=planned_trips(session, operation_id), now=now
            )
            if full
            else None
        )
    return {
        "operation": operation,
        "nav": menu(actor, operation_id),
        "at": now,
        "statuses": STATUSES,
        "counts": result.counts,
        "ceasefire": result.ceasefire,
        "alerts": _alerts(result, text) + _trip_alerts(trips, text) if full else [],
        "overdue_vehicles": result.overdue_vehicles if full else None,
        "by_point": result.by_gathering_point if full else {},
        "no_point": NO_GROUP,  # people registered without a gathering point
        "curve": _curve(operation, result, arrivals, _plan_if_ready(runtime, operation), now, text),
    }


def _trip_alerts(trips: TripsOut | None, text: Text) -> list[dict[str, str]]:
    """Trips of the convoy plan not arrived by their planned arrival plus the margin, and people
    who boarded a trip and were not seen arriving."""
    if trips is None:
        return []
    alerts = [
        {
            "level": "bad",
            "text": text(
                "alert.overdue_trip",
                id=f"{t.vehicle}/{t.number}",
                time=f"{t.expected_by:%H:%M}" if t.expected_by else "–",
            ),
        }
        for t in trips.trips
        if t.status == "overdue"
    ]
    if trips.not_seen:
        alerts.append({"level": "warn", "text": text("alert.trip_not_seen", n=len(trips.not_seen))})
    return alerts


def _alerts(result: Reconciliation, text: Text) -> list[dict[str, str]]:
    alerts = []
    for alarm in result.alarms:
        status = alarm.alarm.value if alarm.alarm else "missing"
        alerts.append(
            {
                "level": "bad",
                "text": text(
                    "alert.alarm",
                    kind=text("kind." + alarm.kind),
                    id=alarm.subject_id,
                    status=text("status." + status),
                    point=alarm.alarm_point or "–",
                ),
            }
        )
    for vehicle in result.overdue_vehicles:
        alerts.append(
            {
                "level": "bad",
                "text": text(
                    "alert.overdue_vehicle",
                    id=vehicle.subject_id,
                    point=vehicle.expected_point,
                    time=f"{vehicle.expected_by:%H:%M}",
                ),
            }
        )
    if result.not_seen:
        alerts.append({"level": "warn", "text": text("alert.not_seen", n=len(result.not_seen))})
    if result.data_pending:
        alerts.append({"level": "warn", "text": text("alert.data_pending", n=len(result.data_pending))})
    return alerts


def _plan_if_ready(runtime: Runtime, operation: Operation) -> Plan | None:
    """The operation's published plan; else the plan a job made of its scenario, if made (the
    first visit starts the job on the cluster; the curve appears at a later refresh)."""
    path = plan_cache.find_scenario(runtime.settings.scenarios_dir, operation.scenario_name)
    if path is None:
        return None
    with runtime.db.reading() as session:
        version = versions.current(versions.listed(session, operation.id), operation)
    with contextlib.suppress(CorridorError):  # a stale plan or a bad scenario: the plan page says why
        if version is not None:
            return plan_cache.stored(runtime, path, stored_plan(runtime, version)).plan
        found = plan_cache.operation_plan(runtime, operation.id, path).planning
        return found.plan if found is not None else None
    return None


def _curve(
    operation: Operation,
    result: Reconciliation,
    arrivals: list[datetime],
    planned: Plan | None,
    now: datetime,
    text: Text,
) -> str:
    windows = operations.windows_of(operation)
    total = sum(result.counts.values())
    if windows:
        start, end = windows[0].start, windows[-1].end
    else:
        start, end = (min(arrivals), now) if arrivals else (now, now)
    series = [Series(text("dashboard.arrived"), cumulative(arrivals), "reality", until=min(now, end))]
    if planned is not None:
        steps = planned.arrivals().cumsum()
        # The plan drawn from the window's start (a plan made for another day, as the demo's is).
        shift = windows[0].start - planned.time_of(0) if windows else timedelta(0)
        points = [
            (planned.time_of(step) + shift, int(n))
            for step, n in enumerate(steps)
            if step == 0 or n != steps[step - 1]
        ]
        series.append(Series(text("dashboard.planned"), points, "plan"))
    title = text("dashboard.clearance")
    return clearance_svg(series, start=start, end=max(end, start), total=total, title=title)
