"""Plans to simulate, and sweeps: the risk of the plan made for each fleet size, checkpoint rate or
deadline.

A sweep varies one thing in the scenario, plans again for each value (the plan a planner would make
with that fleet, that checkpoint or that window), and assesses each plan's risk under the same
disruptions and seeds.

Sweep axes (``--sweep`` of ``corridor risk``):

- ``fleet:ID=10,20,30``: the count of the ``[[fleet]]`` entry ``ID``;
- ``checkpoint:ID=6,12,24``: the rate of checkpoint ``ID`` in its own unit (vehicles or people per
  hour); an inspection time that would hold the rate lower is shortened to ``60 / rate`` minutes;
- ``deadline=12,16,20``: the deadline, in hours after the start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from corridor.core.errors import ScenarioError, SolverError
from corridor.core.findings import Finding, Severity
from corridor.network.model import Network
from corridor.plan.convoy import ConvoyPlan
from corridor.plan.model import Plan
from corridor.scenario.model import RiskSettings, Scenario
from corridor.simulate.axes import Axis, SweepPoint, parse_axis, vary
from corridor.simulate.cluster import Progress, Runner
from corridor.simulate.risk import assess
from corridor.simulate.timetable import Timetable, convoy_timetable, flow_timetable

PlanKind = Literal["convoy", "flow"]


@dataclass(frozen=True)
class Planned:
    """A plan made for a scenario, and its timetable."""

    plan: ConvoyPlan | Plan
    timetable: Timetable


def make_plan(
    scenario: Scenario, network: Network, kind: PlanKind, method: str | None, time_limit: float
) -> Planned:
    """Compile the scenario and plan it (a convoy plan, or a flow plan); the plan is verified."""
    plan: ConvoyPlan | Plan
    if kind == "convoy":
        from corridor.problem.convoy import compile_convoy
        from corridor.solve.convoy import solve_convoy

        problem, findings = compile_convoy(scenario, network)
        _refuse(scenario, problem is None, findings)
        assert problem is not None
        plan = solve_convoy(problem, method=method or "greedy", time_limit=time_limit)
        violations = plan.verify(problem)
        tt = convoy_timetable(plan, problem)
    else:
        from corridor.problem.build import compile_problem
        from corridor.solve import solve

        flow, findings = compile_problem(scenario, network)
        _refuse(scenario, flow is None, findings)
        assert flow is not None
        plan = solve(flow, method=method or "ccrp", quickest=False)
        violations = plan.verify(flow)
        tt = flow_timetable(plan, flow)
    if violations:
        raise SolverError(
            f"the plan fails verification: {'; '.join(violations[:3])}",
            hint="a defect: please report it with the scenario",
        )
    return Planned(plan, tt)


def _refuse(scenario: Scenario, missing: bool, findings: Sequence[Finding]) -> None:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if missing or errors:
        text = "; ".join(f.render() for f in errors) or "cannot be compiled"
        raise ScenarioError(text, where=scenario.name, hint="run 'corridor check' to see every finding")


def sweep(
    scenario: Scenario,
    network: Network,
    axis: Axis,
    *,
    kind: PlanKind,
    method: str | None,
    time_limit: float,
    risk: RiskSettings,
    runs: int,
    seed: int,
    runner: Runner,
    sensitivity_runs: int | None = None,
    say: Callable[[str], None] = lambda _: None,
    progress: Progress = lambda done, total: None,
) -> list[SweepPoint]:
    """Plan and assess the scenario at every value of ``axis``; every point has all its runs."""
    points = []
    for k, value in enumerate(axis.values):
        say(f"{axis.label} = {value:g} ({k + 1} of {len(axis.values)}): planning")
        planned = make_plan(vary(scenario, axis, value), network, kind, method, time_limit)
        say(f"{axis.label} = {value:g} ({k + 1} of {len(axis.values)}): {runs:,} runs")
        result = assess(
            planned.timetable,
            risk,
            runs=runs,
            seed=seed,
            runner=runner,
            sensitivity_runs=sensitivity_runs,
            progress=progress,
        )
        points.append(SweepPoint(value, planned.timetable.planned_out, result))
    return points


__all__ = ["Axis", "PlanKind", "Planned", "SweepPoint", "make_plan", "parse_axis", "sweep", "vary"]
