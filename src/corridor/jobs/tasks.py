"""Planning tasks, run on Dask workers (the only part of the jobs package that plans).

``plan``: a scenario file planned by a method, for its own deadline or an earlier one (a re-plan
for a shorter window); the plan is verified against the scenario before it is returned.

Payload: ``{"scenario": PATH, "method": "exact" | "ccrp", "deadline": ISO-8601 or null}``.
Result: ``{"plan": plan.json as a dict, "deadline": ISO-8601 of the problem's deadline,
"plan_hash": its content hash, "figures": {"method", "evacuated", "evacuees"}}``: the hash and
figures are worked out here, so that the web service keeps a large plan (a city's: megabytes)
without reading it back into objects in its own process, beside the scanners it serves.

A worker keeps its last few plans (``KEEP``), by scenario file version (the latest change among
the files of its folder), method and deadline: the same plan asked again of the same worker is
answered at once. Nothing is kept in the web service.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any

from corridor.core.errors import InputError, ScenarioError, SolverError
from corridor.core.findings import Severity
from corridor.jobs.registry import Report
from corridor.network.build import load_network
from corridor.plan import canonical
from corridor.problem.build import compile_problem
from corridor.problem.checks import check_problem
from corridor.scenario.load import load_scenario
from corridor.solve import METHODS, solve

# Plans a worker keeps, newest last.
KEEP = 8
_kept: OrderedDict[tuple[str, float, str, str | None], dict[str, Any]] = OrderedDict()
_STEP = re.compile(r"step ([\d,]+) of ([\d,]+)")


def _fraction(message: str, low: float, high: float) -> float:
    """Progress within a stage from the solver's "step A of B" messages."""
    found = _STEP.search(message)
    if found is None:
        return low
    done, total = (int(x.replace(",", "")) for x in found.groups())
    return low + (high - low) * min(1.0, done / max(total, 1))


def _text(payload: dict[str, Any], field: str, default: str | None = None) -> str | None:
    value = payload.get(field, default)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{field} must be text", where=f"payload.{field}")
    return value


def plan(payload: dict[str, Any], report: Report) -> dict[str, Any]:
    """Plan the scenario file ``payload["scenario"]`` (see the module's documentation)."""
    path = _text(payload, "scenario")
    if not path:
        raise InputError("no scenario file given", where="payload.scenario", hint="give its path")
    method = _text(payload, "method", "exact") or "exact"
    if method not in METHODS:
        raise InputError(
            f"unknown method {method!r}", where="payload.method", hint=f"use one of {', '.join(METHODS)}"
        )
    asked = _text(payload, "deadline")
    try:
        deadline = datetime.fromisoformat(asked) if asked else None
    except ValueError:
        raise InputError(f"{asked!r} is not a date and time", where="payload.deadline") from None
    key = (str(Path(path).resolve()), _modified(Path(path)), method, asked)
    if key in _kept:
        _kept.move_to_end(key)
        report(1.0, "planned (the same plan was made here already)")
        return _kept[key]
    report(0.02, "reading the scenario")
    scenario = load_scenario(path)
    if deadline is not None:
        scenario = scenario.model_copy(update={"deadline": deadline})
    network = load_network(scenario.network, scenario.base_dir)
    report(0.05, "compiling the problem")
    problem, findings = compile_problem(scenario, network)
    if problem is not None:
        findings = findings + check_problem(problem)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if problem is None or errors:
        raise ScenarioError(
            "; ".join(f.render() for f in errors) or "the scenario does not compile",
            where=path,
            hint="run 'corridor check' on it to see every finding",
        )
    stage = {"low": 0.1, "high": 0.6}

    def progress(message: str) -> None:
        fraction = _fraction(message, stage["low"], stage["high"])
        if stage["low"] < 0.6 <= fraction:
            # The flow is planned; what remains is the quickest time for everyone (max flows).
            stage.update(low=0.65, high=0.95)
            report(0.65, "finding the quickest time for everyone")
            return
        report(fraction, message)

    report(0.1, f"planning ({method})")
    made = solve(problem, method=method, quickest=deadline is None, progress=progress)
    report(0.96, "verifying the plan")
    violations = made.verify(problem)
    if violations:
        raise SolverError(
            f"the {method} plan failed verification: {'; '.join(violations[:5])}",
            where=path,
            hint="this is a defect; please report it with the scenario",
        )
    report(1.0, f"planned: {made.evacuated:,} of {made.evacuees:,} people out")
    body = made.to_dict()
    result = {
        "plan": body,
        "deadline": scenario.deadline.isoformat(),
        "plan_hash": canonical.content_hash(body),
        "figures": {"method": made.method, "evacuated": made.evacuated, "evacuees": made.evacuees},
    }
    _kept[key] = result
    while len(_kept) > KEEP:
        _kept.popitem(last=False)
    return result


def _modified(path: Path) -> float:
    """Latest change among the scenario file and the files beside it (its CSV, its network)."""
    try:
        return max((p.stat().st_mtime for p in path.parent.iterdir() if p.is_file()), default=0.0)
    except OSError:
        return 0.0
