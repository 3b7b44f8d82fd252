"""The scenario an operation names, and its plan, for the map and plan pages.

An operation names its scenario (``scenario_name``); the file is the scenario TOML under
``settings.scenarios_dir`` (searched recursively) whose ``name`` is that. Loading, compiling and
solving take seconds, so the result is kept in memory per scenario file, its folder's
modification time, the method and the deadline; a changed file is read again. Callers run in
FastAPI's thread pool (sync routes), never on the event loop; a lock per key makes concurrent
requests wait for one solve instead of each starting their own.

A plan the server keeps (a published version) is not solved again: :func:`stored` compiles the
scenario for the plan's own deadline, reads the plan once and verifies it against the scenario.
"""

from __future__ import annotations

import contextlib
import threading
import tomllib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from corridor.core.errors import ScenarioError, SolverError
from corridor.core.findings import Severity
from corridor.network.model import Network
from corridor.plan.model import Plan
from corridor.problem.build import compile_problem
from corridor.problem.model import Problem
from corridor.scenario.model import Scenario
from corridor.solve import METHODS, solve
from corridor.solve.pipeline import Checked, check_file

# Plans kept in memory: the operations' own plans and a few re-plans with other deadlines.
KEEP = 8


@dataclass(frozen=True)
class Planning:
    """A scenario file read, compiled and solved (or given a plan the server keeps)."""

    path: Path
    scenario: Scenario
    network: Network
    problem: Problem
    plan: Plan


@dataclass(frozen=True)
class Stored:
    """A plan the server keeps: its content hash, and how to read it (from the database, only
    when it is not in memory already)."""

    plan_hash: str
    load: Callable[[], Plan]


_names: dict[tuple[Path, float], str | None] = {}
_plans: OrderedDict[tuple[str, float, str, str], Planning] = OrderedDict()
_locks: dict[tuple[str, float, str, str], threading.Lock] = {}
_guard = threading.Lock()
_kept: OrderedDict[tuple[str, float, str], Planning] = OrderedDict()
_kept_guard = threading.Lock()


def find_scenario(folder: Path, name: str) -> Path | None:
    """The scenario file under ``folder`` whose ``name`` is ``name`` (the first in path order)."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.rglob("*.toml")):
        if _scenario_name(path) == name:
            return path
    return None


def _scenario_name(path: Path) -> str | None:
    try:
        key = (path, path.stat().st_mtime)
    except OSError:
        return None
    if key not in _names:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        name = data.get("name")
        _names[key] = name if isinstance(name, str) else None
    return _names[key]


def _modified(path: Path) -> float:
    """Latest change among the scenario file and the files beside it (its CSV, its network)."""
    return max((p.stat().st_mtime for p in path.parent.iterdir() if p.is_file()), default=0.0)


def planning(path: Path, *, method: str = "exact", deadline: datetime | None = None) -> Planning:
    """The scenario at ``path`` solved by ``method`` (with another ``deadline`` if given), the
    plan verified against it. Only the operation's own plan gets the quickest time for everyone
    (it does not depend on the deadline, and each re-plan would pay for it again).

    Raises :class:`ScenarioError` when the scenario has errors (``corridor check`` lists them).
    """
    method = method if method in METHODS else "exact"
    key = (str(path), _modified(path), method, deadline.isoformat() if deadline else "")
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        found = _plans.get(key)
        if found is None:
            found = _solve(path, method, deadline)
            with _guard:
                _plans[key] = found
                while len(_plans) > KEEP:
                    old, _ = _plans.popitem(last=False)
                    _locks.pop(old, None)
        return found


def ready(path: Path, *, method: str = "exact") -> Planning | None:
    """The operation's plan if it is already solved; else None, and it starts solving in the
    background (for pages that must answer at once, such as the dashboard)."""
    key = (str(path), _modified(path), method, "")
    with _guard:
        found = _plans.get(key)
        busy = key in _locks and _locks[key].locked()
    if found is None and not busy:
        threading.Thread(target=_warm, args=(path, method), daemon=True).start()
    return found


def _warm(path: Path, method: str) -> None:
    # A scenario with errors: the plan and map pages show the reason when asked.
    with contextlib.suppress(ScenarioError, SolverError):
        planning(path, method=method)


def stored(path: Path, kept: Stored) -> Planning:
    """The scenario at ``path`` with a plan the server keeps, without solving: compiled for the
    plan's own deadline (a plan made for an earlier deadline has a shorter horizon) and the plan
    verified against it. Raises :class:`ScenarioError` when the plan does not fit the scenario
    file as it is now (it changed after the plan was published)."""
    key = (str(path), _modified(path), kept.plan_hash)
    with _kept_guard:
        found = _kept.get(key)
    if found is not None:
        return found
    plan = kept.load()
    end = plan.start + timedelta(minutes=plan.horizon * plan.dt)
    checked = check_file(path)
    scenario, problem = _problem(path, checked, end)
    violations = [] if plan.scenario == scenario.name else [f"it is for scenario {plan.scenario!r}"]
    violations += plan.verify(problem)
    if violations:
        raise ScenarioError(
            f"the published plan {kept.plan_hash[:12]}… does not fit the scenario file as it is now: "
            + "; ".join(violations[:5]),
            where=str(path),
            hint="publish a plan made from the scenario file as it is now",
        )
    planning = Planning(path, scenario, checked.network, problem, plan)
    with _kept_guard:
        _kept[key] = planning
        while len(_kept) > KEEP:
            _kept.popitem(last=False)
    return planning


def _problem(path: Path, checked: Checked, deadline: datetime | None) -> tuple[Scenario, Problem]:
    """The problem of the scenario file (with another ``deadline`` if given); raises
    :class:`ScenarioError` when the scenario has errors."""
    scenario, problem, findings = checked.scenario, checked.problem, checked.findings
    if deadline is not None and deadline != scenario.deadline:
        # Only the deadline changes: compile again on the network already read.
        scenario = scenario.model_copy(update={"deadline": deadline})
        problem, findings = compile_problem(scenario, checked.network)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if problem is None or errors:
        raise ScenarioError(
            "; ".join(f.render() for f in errors) or "the scenario does not compile",
            where=str(path),
            hint="run 'corridor check' on it to see every finding",
        )
    return scenario, problem


def _solve(path: Path, method: str, deadline: datetime | None) -> Planning:
    checked = check_file(path)
    scenario, problem = _problem(path, checked, deadline)
    plan = solve(problem, method=method, quickest=deadline is None)
    violations = plan.verify(problem)
    if violations:
        raise SolverError(
            f"the {method} plan failed verification: {'; '.join(violations[:5])}",
            where=str(path),
            hint="this is a defect; please report it with the scenario",
        )
    return Planning(path, scenario, checked.network, problem, plan)
