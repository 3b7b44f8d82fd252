"""Convoy planning tasks, run on Dask workers.

``plan`` (kind ``convoy-plan``): a scenario file's fleet planned by a method; payload
``{"scenario": PATH, "method": "greedy"}``, result ``{"plan": convoy.json as a dict}``.

``solve_problem`` and ``replan`` are called by the web service with Python objects
(:meth:`corridor.jobs.runner.Jobs.call`): the problem it compiled, or the previous plan with the
scenario changed and the live state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corridor.core.errors import InputError, ScenarioError
from corridor.core.findings import Severity
from corridor.jobs.registry import Report
from corridor.network.build import load_network
from corridor.network.model import Network
from corridor.plan.convoy import ConvoyPlan, Trip
from corridor.problem.convoy import ConvoyProblem, LiveState, compile_convoy
from corridor.scenario.load import load_scenario
from corridor.scenario.model import Scenario
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


@dataclass(frozen=True)
class Replanned:
    """A convoy re-plan as the service needs it: the new plan, the problem it verifies against,
    the trips kept as done, and (source, group, people, before, reason) of those left behind."""

    plan: ConvoyPlan
    problem: ConvoyProblem
    done: tuple[Trip, ...]
    left: tuple[tuple[str, str, int, int, str], ...]


def replan(
    previous: ConvoyPlan, scenario: Scenario, network: Network, step: int, live: LiveState | None
) -> Replanned:
    """Plan again from ``step`` (see :func:`corridor.solve.convoy.replan.replan`)."""
    result = solver_replan(previous, scenario, network, step, live=live)
    left = tuple((x.source, x.group, x.people, x.before, x.reason) for x in result.left_behind)
    return Replanned(result.plan, result.problem, tuple(result.done), left)
