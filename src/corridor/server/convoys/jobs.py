"""Convoy plans and re-plans as jobs on the cluster, recorded like plan jobs (``jobs`` table:
progress, cancel, a page reload finds the same job).

``convoy-plan``: the operation's fleet planned from its scenario by a method; its plan, verified
against the scenario, is published as the operation's next convoy version when the job ends (as
the convoy page's "plan now" did while it waited), with the vehicle codes it was asked with (the
API's ``POST .../convoy`` without a plan, the demo's seeding). The job's ``result`` says which version:
``{"convoy_version": 1, "plan_hash": ..., "evacuated": ..., "trips": ...}``.

``convoy-replan``: the convoy plan the operation follows, made again from a time with closures
added or an earlier deadline, from the live state. It is not published by itself: its result
(the new plan, the trips kept as done, who is left behind, the state it starts from) is kept in
the job's row, shown by the re-plan page, and published from there (verified again). The job's
``params`` say what was asked: the version it re-plans, the step, closures, deadline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, InputError
from corridor.jobs.convoy_state import state_from_dict, state_to_dict
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem, LiveState
from corridor.server.access import service as access
from corridor.server.convoys import service as convoys
from corridor.server.convoys.planning import Replan
from corridor.server.convoys.scenario import Basis, Loaded, load_file, problem, verify
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.errors import NotFoundError
from corridor.server.jobs.service import JobView
from corridor.server.jobs.tables import Job
from corridor.server.manifests import service as manifests
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.web.plan_cache import _modified, find_scenario

if TYPE_CHECKING:
    from corridor.server.runtime import Runtime

PLAN = "convoy-plan"
REPLAN = "convoy-replan"


# The convoy methods the workers know (corridor.solve.convoy.CONVOY_METHODS, named here so that the
# service checks a method without importing the planner; a test keeps the two the same).
METHODS = ("greedy", "exact", "search", "route")


def scenario_path(runtime: Runtime, operation_id: str, *, open_only: bool = False) -> Path:
    """The operation's scenario file; a 404 naming where it was looked for (with ``open_only``, a
    409 for a closed operation)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        name, state = operation.scenario_name, operation.state
    if open_only and state == "closed":
        raise ConflictError(
            f"operation {operation_id} is closed: no convoy plan is made for it",
            where="state",
            hint="closed operations cannot change",
        )
    path = find_scenario(runtime.settings.scenarios_dir, name)
    if path is None:
        raise NotFoundError(
            f"no scenario named {name!r} under {runtime.settings.scenarios_dir}",
            where="scenario_name",
            hint="put the scenario file under the scenarios folder (setting scenarios_dir)",
        )
    return path


def check_method(method: str) -> None:
    """A 422 naming ``method`` unless the workers know it."""
    if method not in METHODS:
        raise InputError(
            f"unknown convoy method {method!r}", where="method", hint=f"use one of {', '.join(METHODS)}"
        )


def check_vehicles(path: Path, vehicles: Mapping[str, str]) -> None:
    """A 422 naming the first key of ``vehicles`` that is not a vehicle of the scenario's fleet."""
    if not vehicles:
        return
    fleet = set(problem(load_file(path), Basis()).vehicle_ids)
    for key in vehicles:
        if key not in fleet:
            raise InputError(
                f"vehicle {key!r} is not in the scenario's fleet",
                where=f"vehicles.{key}",
                hint=f"name the scenario's vehicles (e.g. {', '.join(sorted(fleet)[:3])})",
            )


def start_plan(
    runtime: Runtime,
    operation_id: str,
    *,
    method: str = "greedy",
    by: str,
    vehicles: Mapping[str, str] | None = None,
    assign: bool = False,
    again: bool = False,
    then: str | None = None,
) -> JobView:
    """The operation's convoy plan job for ``method`` on its scenario file as it is: the one
    running, or done already (with ``again``: a new one once it is done), else a new one (also
    after one that failed or was cancelled). ``vehicles`` (plan vehicle id -> the operation's code)
    is the mapping it is published with; with ``assign``, the people registered but on no manifest
    are assigned to its trips then, after what was set with :func:`after_publishing` under the
    name ``then`` (in the same transaction). Refused before any job starts: a closed operation (409), a
    vehicle the scenario's fleet lacks (422; the API's ``POST .../convoy`` checks the method too)."""
    path = scenario_path(runtime, operation_id, open_only=True)
    check_vehicles(path, vehicles or {})
    params: dict[str, Any] = {
        "scenario": str(path),
        "file_version": f"{_modified(path):.6f}",
        "method": method,
    }
    if vehicles:
        params["vehicles"] = dict(sorted(vehicles.items()))
    if assign:
        params["assign"] = True
    if then:
        params["then"] = then
    found = runtime.jobs.latest(operation_id, PLAN, params)
    if found is not None and found.state not in ("failed", "cancelled") and not (again and found.final):
        return found
    payload = {"scenario": str(path), "method": method}
    return runtime.jobs.start(kind=PLAN, operation_id=operation_id, params=params, payload=payload, by=by)


# What a convoy plan job started with ``then`` does in the transaction that publishes its plan,
# before people are assigned: the demo's seeding registers its households where the plan loads
# people (corridor.server.seed). Set in this process: a job whose name is not set publishes nothing.
Published = Callable[[Session, Operation, ConvoyPlan, ConvoyVersion], None]
_after: dict[str, Published] = {}


def after_publishing(name: str, then: Published) -> None:
    """Have the convoy plan jobs started with ``then=name`` call ``then`` when they publish."""
    _after[name] = then


def latest(runtime: Runtime, operation_id: str, kind: str = PLAN) -> JobView | None:
    """The operation's latest convoy job of ``kind``, as it stands now."""
    return runtime.jobs.latest(operation_id, kind)


def start_replan(
    runtime: Runtime,
    operation_id: str,
    *,
    replaces: int,
    old: ConvoyPlan,
    path: Path,
    when: datetime,
    step: int,
    closures: list[dict[str, Any]],
    deadline: datetime | None,
    live: LiveState | None,
    by: str,
) -> JobView:
    """A re-plan job of convoy version ``replaces`` (whose whole plan is ``old``) from ``when``;
    the same re-plan asked again (same version, time, closures, deadline and live state) is the
    job asked before, unless it failed or was cancelled."""
    state = state_to_dict(live) if live is not None else None
    params = {
        "replaces": replaces,
        "from": when.isoformat(),
        "step": step,
        "closures": closures,
        "deadline": deadline.isoformat() if deadline else None,
        "from_scans": live is not None,
        "live": hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16],
        "file_version": f"{_modified(path):.6f}",
    }
    found = runtime.jobs.latest(operation_id, REPLAN, params)
    if found is not None and found.state not in ("failed", "cancelled"):
        return found
    payload = {
        "scenario": str(path),
        "previous": old.to_dict(),
        "step": step,
        "closures": closures,
        "deadline": params["deadline"],
        "live": state,
    }
    return runtime.jobs.start(kind=REPLAN, operation_id=operation_id, params=params, payload=payload, by=by)


def replan_of(view: JobView, old: ConvoyPlan) -> Replan:
    """A done re-plan job's re-plan, read back from its row (``old``: the whole plan it replans)."""
    result, params = view.result or {}, view.params
    plan = ConvoyPlan.from_dict(result["plan"])
    trips = {(t.vehicle, t.number): t for t in old.trips}
    done = tuple(trips[(str(v), int(n))] for v, n in result["done"])
    deadline = params.get("deadline")
    basis = Basis(
        closures=tuple(dict(c) for c in params.get("closures") or ()),
        deadline=datetime.fromisoformat(deadline) if deadline else None,
        state=state_from_dict(result["state"]),
    )
    offsets = {vid: max((t.number for t in done if t.vehicle == vid), default=0) for vid in old.vehicles}
    left = tuple(
        (str(source), str(group), int(people) - int(before), str(reason))
        for source, group, people, before, reason in result["left"]
        if int(people) > int(before)
    )
    step = int(params["step"])
    return Replan(plan, basis, {v: n for v, n in offsets.items() if n}, done, step, old, left)


# -- keeping what a job made (see corridor.server.jobs.service: prepare outside the transaction)


@dataclass(frozen=True)
class PreparedConvoy:
    plan: ConvoyPlan
    loaded: Loaded
    problem: ConvoyProblem


def prepare_plan(result: Any, params: dict[str, Any]) -> PreparedConvoy:
    """A convoy plan job's plan, read and verified against the scenario (a 422 when it breaks it)."""
    loaded = load_file(Path(params["scenario"]))
    plan = convoys.parse(result["plan"])
    return PreparedConvoy(plan, loaded, verify(plan, loaded, Basis()))


def keep_plan(session: Session, job: Job, prepared: PreparedConvoy) -> dict[str, Any]:
    """The plan published as the operation's next convoy version (the one holding it, if any),
    in the access log as published by whoever started the job."""
    operation = operations.get(session, str(job.operation_id))
    name = job.params.get("then")
    then = _after.get(str(name)) if name else None
    if name and then is None:
        raise ConflictError(
            f"nothing named {name!r} follows a publication in this service: the plan is not published",
            where="then",
            hint="start the job again from where it was started (the demo: restart the service)",
        )
    version = convoys.publish(
        session,
        operation,
        plan=prepared.plan,
        loaded=prepared.loaded,
        problem=prepared.problem,
        basis=Basis(),
        mapping=dict(job.params.get("vehicles") or {}),
        by=job.created_by,
    )
    if then is not None:
        then(session, operation, prepared.plan, version)
    if job.params.get("assign"):
        manifests.assign_unassigned(session, operation_id=operation.id)
    access.log_access(
        session,
        actor=job.created_by,
        operation_id=operation.id,
        action="convoy.published",
        decision="allow",
        path=f"job {job.id} ({PLAN})",
    )
    return {
        "convoy_version": version.version,
        "plan_hash": version.plan_hash,
        "evacuated": prepared.plan.evacuated,
        "trips": len(prepared.plan.trips),
    }


def prepare_replan(result: Any, params: dict[str, Any]) -> dict[str, Any]:
    """A re-plan job's result, checked readable (it is kept whole in the job's row)."""
    ConvoyPlan.from_dict(result["plan"])
    state_from_dict(result["state"])
    return {
        "plan": result["plan"],
        "done": [[str(v), int(n)] for v, n in result["done"]],
        "left": [list(x) for x in result["left"]],
        "state": result["state"],
    }


def keep_replan(session: Session, job: Job, prepared: dict[str, Any]) -> dict[str, Any]:
    return prepared


KEEPERS: dict[str, tuple[Any, Any]] = {PLAN: (prepare_plan, keep_plan), REPLAN: (prepare_replan, keep_replan)}
