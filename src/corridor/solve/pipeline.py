"""The whole planning pipeline for a scenario file: load -> check -> compile -> solve -> verify."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corridor.core.errors import ScenarioError, SolverError
from corridor.core.findings import Finding, Severity
from corridor.network.build import load_network
from corridor.network.model import Network
from corridor.plan.model import Plan
from corridor.problem.build import compile_problem
from corridor.problem.checks import check_problem
from corridor.problem.model import Problem
from corridor.scenario.load import load_scenario
from corridor.scenario.model import Scenario
from corridor.solve import solve
from corridor.solve.exact import Progress


@dataclass(frozen=True)
class Checked:
    scenario: Scenario
    network: Network
    problem: Problem | None
    findings: list[Finding]


@dataclass(frozen=True)
class Planned:
    scenario: Scenario
    problem: Problem
    plan: Plan
    findings: list[Finding]


def check_file(path: str | Path) -> Checked:
    """Load a scenario and its network and report every finding (raises on unreadable input)."""
    scenario = load_scenario(path)
    network = load_network(scenario.network, scenario.base_dir)
    problem, findings = compile_problem(scenario, network)
    if problem is not None:
        findings = findings + check_problem(problem)
    return Checked(scenario, network, problem, findings)


def plan_file(
    path: str | Path,
    *,
    method: str = "exact",
    objective: str = "earliest",
    quickest: bool = True,
    progress: Progress | None = None,
) -> Planned:
    """Plan a scenario file; the plan is verified against the problem before it is returned."""
    checked = check_file(path)
    errors = [f for f in checked.findings if f.severity is Severity.ERROR]
    if checked.problem is None or errors:
        raise ScenarioError(
            "; ".join(f.render() for f in errors),
            where=str(path),
            hint="run 'corridor check' to see every finding",
        )
    plan = solve(checked.problem, method=method, objective=objective, quickest=quickest, progress=progress)
    violations = plan.verify(checked.problem)
    if violations:
        raise SolverError(
            f"the {method} plan failed verification: {'; '.join(violations[:5])}",
            hint="this is a defect; please report it with the scenario",
        )
    return Planned(checked.scenario, checked.problem, plan, checked.findings)
