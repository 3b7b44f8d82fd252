"""The scenario an operation names, and its plan, for the map, plan and dashboard pages.

An operation names its scenario (``scenario_name``); the file is the scenario TOML under
``settings.scenarios_dir`` (searched recursively) whose ``name`` is that. Nothing is planned in
the web process and nothing is kept in memory between requests: a plan is a job on the Dask
cluster (:mod:`corridor.server.jobs`), whose plan is kept as a version of the operation's plans;
a page shows that plan, or the job's progress while it runs. The scenario a kept plan is checked
against is compiled once per file version and kept by the service (``runtime.problems``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from corridor.core.errors import ScenarioError
from corridor.network.model import Network
from corridor.plan.model import Plan
from corridor.problem.model import Problem
from corridor.scenario.model import Scenario
from corridor.server.jobs.service import JobView
from corridor.server.operations import versions
from corridor.server.problems import file_version
from corridor.server.runtime import Runtime


@dataclass(frozen=True)
class Planning:
    """A scenario file read and compiled, with a plan that verifies against it."""

    path: Path
    scenario: Scenario
    network: Network
    problem: Problem
    plan: Plan


@dataclass(frozen=True)
class Stored:
    """A plan the server keeps: its content hash, and how to read it from the database."""

    plan_hash: str
    load: Callable[[], Plan]


@dataclass(frozen=True)
class Computed:
    """The operation's plan made by a job: the plan once the job is done (``planning``), and the
    job (None when none was asked)."""

    planning: Planning | None
    job: JobView | None


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
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = data.get("name")
    return name if isinstance(name, str) else None


def _modified(path: Path) -> float:
    """Latest change among the scenario file and the files beside it (its CSV, its network)."""
    return file_version(path)


def compiled(
    runtime: Runtime, path: Path, deadline: datetime | None = None
) -> tuple[Scenario, Network, Problem]:
    """The scenario file read and compiled (with another ``deadline`` if given), kept by the
    service (:class:`corridor.server.problems.Problems`); raises :class:`ScenarioError` when it
    has errors."""
    found = runtime.problems.get(path, deadline)
    return found.scenario, found.network, found.problem


def stored(runtime: Runtime, path: Path, kept: Stored) -> Planning:
    """The scenario at ``path`` with a plan the server keeps, without planning: compiled for the
    plan's own deadline (a plan made for an earlier deadline has a shorter horizon) and the plan
    verified against it. Raises :class:`ScenarioError` when the plan does not fit the scenario
    file as it is now (it changed after the plan was made)."""
    plan = kept.load()
    end = plan.start + timedelta(minutes=plan.horizon * plan.dt)
    scenario, network, problem = compiled(runtime, path, end)
    violations = [] if plan.scenario == scenario.name else [f"it is for scenario {plan.scenario!r}"]
    violations += plan.verify(problem)
    if violations:
        raise ScenarioError(
            f"the plan {kept.plan_hash[:12]}… does not fit the scenario file as it is now: "
            + "; ".join(violations[:5]),
            where=str(path),
            hint="publish a plan made from the scenario file as it is now",
        )
    return Planning(path, scenario, network, problem, plan)


def version_plan(runtime: Runtime, operation_id: str, number: int, plan_hash: str) -> Stored:
    """A kept plan version, read from the database when needed."""

    def load() -> Plan:
        with runtime.db.reading() as session:
            return versions.plan_of(versions.get(session, operation_id, number))

    return Stored(plan_hash, load)


def plan_params(path: Path, method: str, deadline: datetime | None) -> dict[str, object]:
    """What a plan job is looked up by: the scenario file and its version, method, deadline."""
    return {
        "scenario": str(path),
        "file_version": f"{_modified(path):.6f}",
        "method": method,
        "deadline": deadline.isoformat() if deadline else None,
    }


def operation_plan(
    runtime: Runtime,
    operation_id: str,
    path: Path,
    *,
    method: str = "exact",
    deadline: datetime | None = None,
    start: bool = True,
    wait: float = 0.0,
    by: str = "service",
) -> Computed:
    """The operation's plan of the scenario at ``path`` made by a job (for another ``deadline``
    if given): the kept plan once the job is done; else the job as it stands, started now when
    none was asked yet and ``start`` (a job that failed or was cancelled is not started again
    here: the reader asks for it). ``wait``: seconds to wait for a running job to end. Raises
    :class:`ScenarioError` when a kept plan no longer fits the scenario file."""
    params = plan_params(path, method, deadline)
    job = runtime.jobs.latest(operation_id, "plan", params)
    if job is None and start:
        payload = {
            "scenario": str(path),
            "method": method,
            "deadline": deadline.isoformat() if deadline else None,
        }
        job = runtime.jobs.start(
            kind="plan", operation_id=operation_id, params=params, payload=payload, by=by
        )
    if job is not None and wait > 0:
        job = runtime.jobs.wait(job.id, wait)
    if job is None or job.state != "done" or not job.result:
        return Computed(None, job)
    number, plan_hash = int(job.result["plan_version"]), str(job.result["plan_hash"])
    return Computed(stored(runtime, path, version_plan(runtime, operation_id, number, plan_hash)), job)
