"""Convoy planning tasks, run on Dask workers.

``plan`` (kind ``convoy-plan``): a scenario file's fleet planned by a method; payload
``{"scenario": PATH, "method": "greedy"}``, result ``{"plan": convoy.json as a dict}``.

``replan_job`` (kind ``convoy-replan``): a convoy plan made again from a step, with closures added
and an earlier deadline, from the live state; payload ``{"scenario": PATH, "previous": convoy.json,
"step": N, "closures": [closure tables], "deadline": ISO-8601 or null, "live": state or null}``
(the state as :mod:`corridor.jobs.convoy_state` writes it). Result: ``{"plan": the new plan,
"done": [[vehicle, trip number]] of the previous plan's trips kept as done, "left": [[source,
group, people, before, reason]], "state": the state the new plan verifies against}``.

``solve_problem``: the planning of a compiled problem that ``plan`` runs (the web service starts
jobs and never waits for a plan).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from corridor.core.errors import InputError, ScenarioError
from corridor.core.findings import Severity
from corridor.jobs.convoy_state import state_from_dict, state_to_dict
from corridor.jobs.registry import Report
from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem, LiveState, VehicleState, compile_convoy
from corridor.scenario.load import load_scenario
from corridor.scenario.model import Closure
from corridor.solve.convoy import CONVOY_METHODS, solve_convoy
from corridor.solve.convoy.replan import replan as solver_replan

# Seconds an anytime convoy method may search.
TIME_LIMIT = 20.0


def solve_problem(problem: ConvoyProblem, method: str = "greedy") -> ConvoyPlan:
    """The fleet of a compiled convoy problem planned by ``method``."""
    if method not in CONVOY_METHODS:
        raise InputError(
            f"unknown convoy method {method!r}",
            where="method",
            hint=f"use one of {', '.join(CONVOY_METHODS)}",
        )
    return solve_convoy(problem, method=method, time_limit=TIME_LIMIT)


def plan(payload: dict[str, Any], report: Report) -> dict[str, Any]:
    """Plan the fleet of the scenario file ``payload["scenario"]``."""
    path, method = payload.get("scenario"), payload.get("method", "greedy")
    if not isinstance(path, str) or not path:
        raise InputError("no scenario file given", where="payload.scenario", hint="give its path")
    if not isinstance(method, str):
        raise InputError("method must be text", where="payload.method")
    report(0.05, "reading the scenario")
    scenario = load_scenario(path)
    compiled, findings = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if compiled is None or errors:
        raise ScenarioError(
            "; ".join(f.render() for f in errors) or "the scenario does not compile", where=path
        )
    report(0.2, f"planning the fleet ({method})")
    made = solve_problem(compiled, method)
    report(1.0, f"planned: {len(made.trips):,} trips")
    return {"plan": made.to_dict()}


def replan_job(payload: dict[str, Any], report: Report) -> dict[str, Any]:
    """Plan a convoy again from ``payload["step"]`` (see the module's documentation)."""
    path = payload.get("scenario")
    if not isinstance(path, str) or not path:
        raise InputError("no scenario file given", where="payload.scenario", hint="give its path")
    try:
        previous = ConvoyPlan.from_dict(payload["previous"])
        step = int(payload["step"])
        closures = [Closure.model_validate(c) for c in payload.get("closures") or []]
        asked = payload.get("deadline")
        deadline = datetime.fromisoformat(asked) if asked else None
        live = state_from_dict(payload["live"]) if payload.get("live") else None
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"the re-plan's payload is malformed: {error}", where="payload") from None
    report(0.05, "reading the scenario")
    scenario = load_scenario(path)
    network = load_network(scenario.network, scenario.base_dir)
    update: dict[str, Any] = {}
    if closures:
        update["closures"] = [*scenario.closures, *closures]
    if deadline is not None:
        update["deadline"] = deadline
    report(0.1, f"planning again from step {step:,}")
    result = solver_replan(previous, scenario.model_copy(update=update), network, step, live=live)
    report(0.9, "reading the state the new plan starts from")
    base, _ = compile_convoy(scenario, network)
    if base is None:
        raise ScenarioError("the scenario does not compile", where=path)
    state = _start_state(result.problem, base)
    left = [[x.source, x.group, x.people, x.before, x.reason] for x in result.left_behind]
    report(1.0, f"planned again: {len(result.plan.trips):,} trips")
    return {
        "plan": result.plan.to_dict(),
        "done": [[t.vehicle, t.number] for t in result.done],
        "left": left,
        "state": state_to_dict(state),
    }


def _start_state(compiled: ConvoyProblem, base: ConvoyProblem) -> LiveState:
    """The state a re-plan's problem starts from, against the scenario's own problem: vehicles'
    places, people no longer waiting, people out, people already received."""
    flow, base_flow = compiled.flow, base.flow
    ids = compiled.network.node_ids
    return LiveState(
        vehicles=tuple(
            VehicleState(
                vid,
                ids[int(compiled.vehicle_node[v])],
                int(compiled.vehicle_ready[v]),
                tuple((flow.source_ids[s], int(n)) for s, n in compiled.vehicle_on_board[v]),
            )
            for v, vid in enumerate(compiled.vehicle_ids)
        ),
        left=tuple(
            (sid, int(base_flow.source_people[s]) - int(flow.source_people[s]))
            for s, sid in enumerate(flow.source_ids)
            if int(base_flow.source_people[s]) != int(flow.source_people[s])
        ),
        out_by_group=tuple(compiled.out_already_by_group),
        received=tuple(
            (did, int(base_flow.dest_cap[d]) - int(flow.dest_cap[d]))
            for d, did in enumerate(flow.dest_ids)
            if int(base_flow.dest_cap[d]) != int(flow.dest_cap[d])
        ),
    )
