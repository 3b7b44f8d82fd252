"""The risk job (kind ``risk`` of :mod:`corridor.jobs`), run on a Dask worker.

Payload: ``{"scenario": PATH, "plan": convoy.json as a dict (optional: planned afresh when left out),
"runs": 2000, "seed": 0, "risk": {...}}``; ``risk`` (optional) replaces the scenario's ``[risk]`` table,
with the same fields. Result: ``{"summary": RiskResult.summary(), "chart": RiskResult.chart_data()}``,
both JSON. The runs run in the worker's process (a job is one task).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from corridor.core.errors import InputError
from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import compile_convoy
from corridor.scenario.load import load_scenario
from corridor.scenario.model import RiskSettings
from corridor.simulate.cluster import InProcess
from corridor.simulate.risk import assess
from corridor.simulate.sweep import make_plan
from corridor.simulate.timetable import convoy_timetable

MAX_RUNS = 100_000


def _number(payload: dict[str, Any], key: str, default: int, top: int) -> int:
    value = payload.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise InputError(f"{value!r} is not a whole number from 0 to {top:,}", where=f"payload.{key}")
    return value


def risk(payload: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Simulate the payload's plan (or a fresh convoy plan) under its scenario's ``[risk]`` table."""
    runs = max(1, _number(payload, "runs", 2000, MAX_RUNS))
    seed = _number(payload, "seed", 0, 2**63 - 1)
    report(0.0, "loading the scenario")
    scenario = load_scenario(Path(str(payload["scenario"])))
    settings = scenario.risk
    if payload.get("risk") is not None:
        try:
            settings = RiskSettings.model_validate(payload["risk"])
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise InputError(str(first["msg"]), where=f"payload.risk.{field}".rstrip(".")) from None
    network = load_network(scenario.network, scenario.base_dir)
    if payload.get("plan") is not None:
        problem, _ = compile_convoy(scenario, network)
        if problem is None:
            raise InputError("the scenario has no convoy problem", where="payload.scenario")
        try:
            plan = ConvoyPlan.from_dict(payload["plan"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"not a convoy plan: {exc}", where="payload.plan") from None
        violations = plan.verify(problem)
        if violations:
            raise InputError(f"the plan does not fit the scenario: {violations[0]}", where="payload.plan")
        tt = convoy_timetable(plan, problem)
    else:
        report(0.02, "planning")
        tt = make_plan(scenario, network, "convoy", None, 20.0).timetable

    def progress(done: int, total: int) -> None:
        report(0.05 + 0.95 * done / max(1, total), f"{done:,} of {total:,} runs")

    result = assess(tt, settings, runs=runs, seed=seed, runner=InProcess(), progress=progress)
    return {"summary": result.summary(), "chart": result.chart_data()}


__all__ = ["MAX_RUNS", "risk"]
