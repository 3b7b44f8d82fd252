"""The operation's scenario for convoys: read once per file version, compiled with a version's
basis (closures added, another deadline, a live state), and plans verified against it.

A convoy plan published as it came from ``corridor convoy`` is verified against the scenario as
it is; a re-plan after a closure against the scenario with that closure and the live state the
re-plan started from (both kept with the version as its ``basis``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from corridor.core.errors import InputError, ScenarioError
from corridor.core.findings import Severity
from corridor.jobs.convoy_state import state_from_dict, state_to_dict
from corridor.network.build import load_network
from corridor.network.model import Network
from corridor.plan.convoy import ConvoyPlan
from corridor.plan.convoy_verify import verify_convoy
from corridor.problem.convoy import ConvoyProblem, LiveState, compile_convoy
from corridor.scenario.load import load_scenario
from corridor.scenario.model import Closure, Scenario
from corridor.server.errors import InputProblemsError, NotFoundError
from corridor.server.problems import Bounded
from corridor.server.web.plan_cache import _modified, find_scenario

# How many violations a refusal lists.
SHOWN = 10


class ViolationsError(InputProblemsError):
    """A convoy plan that breaks its scenario: each violation in ``details``, at ``plan``."""

    def __init__(self, message: str, details: list[dict[str, str]], *, hint: str | None = None):
        super().__init__(message, details, hint=hint)
        self.where = "plan"


@dataclass(frozen=True)
class Basis:
    """What a plan was made for besides the scenario file: closures added, another deadline, the
    live state it started from."""

    closures: tuple[dict[str, Any], ...] = ()
    deadline: datetime | None = None
    state: LiveState | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "closures": [dict(c) for c in self.closures],
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "state": None if self.state is None else state_to_dict(self.state),
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Basis:
        raw = data.get("state")
        deadline = data.get("deadline")
        return Basis(
            closures=tuple(dict(c) for c in data.get("closures", [])),
            deadline=datetime.fromisoformat(deadline) if deadline else None,
            state=None if raw is None else state_from_dict(raw),
        )


@dataclass(frozen=True)
class Loaded:
    """A scenario file read with its network."""

    path: Path
    scenario: Scenario
    network: Network
    problems: dict[str, ConvoyProblem] = field(default_factory=dict, compare=False)


# Scenario files read, by path and file version: the last few (an edited file is read again, and
# the versions it replaces are dropped in time rather than kept for the life of the process).
_loaded: Bounded[tuple[str, float], Loaded] = Bounded(8)


def load(folder: Path, name: str) -> Loaded:
    """The scenario named ``name`` under ``folder`` and its network (kept while the files stay)."""
    path = find_scenario(folder, name)
    if path is None:
        raise NotFoundError(
            f"no scenario named {name!r} under {folder}",
            where="scenario_name",
            hint="put the scenario file under the scenarios folder (setting scenarios_dir)",
        )
    return load_file(path)


def load_file(path: Path) -> Loaded:
    """The scenario file at ``path`` and its network (kept while the files stay)."""

    def read() -> Loaded:
        scenario = load_scenario(path)
        return Loaded(path, scenario, load_network(scenario.network, scenario.base_dir))

    return _loaded.get((str(path), _modified(path)), read)


def changed(scenario: Scenario, basis: Basis) -> Scenario:
    """The scenario with the basis's closures and deadline."""
    update: dict[str, Any] = {}
    if basis.closures:
        update["closures"] = [*scenario.closures, *(Closure.model_validate(c) for c in basis.closures)]
    if basis.deadline is not None:
        update["deadline"] = basis.deadline
    return scenario.model_copy(update=update) if update else scenario


def problem(loaded: Loaded, basis: Basis) -> ConvoyProblem:
    """The convoy problem of the scenario with ``basis``; raises when the scenario has errors."""
    key = repr(basis.to_dict())
    found = loaded.problems.get(key)
    if found is not None:
        return found
    compiled, findings = compile_convoy(changed(loaded.scenario, basis), loaded.network, state=basis.state)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if compiled is None or errors:
        raise ScenarioError(
            "; ".join(f.render() for f in errors) or "the scenario does not compile",
            where=str(loaded.path),
            hint="run 'corridor check' on it to see every finding",
        )
    if len(loaded.problems) > 16:
        loaded.problems.clear()
    loaded.problems[key] = compiled
    return compiled


def verify(plan: ConvoyPlan, loaded: Loaded, basis: Basis) -> ConvoyProblem:
    """The problem ``plan`` is verified against; raises a 422 naming the first violations."""
    if plan.scenario != loaded.scenario.name:
        raise InputError(
            f"the convoy plan is for scenario {plan.scenario!r}, the operation for {loaded.scenario.name!r}",
            where="plan.scenario",
            hint="publish a convoy plan made from the operation's scenario",
        )
    compiled = problem(loaded, basis)
    violations = verify_convoy(plan, compiled)
    if violations:
        raise ViolationsError(
            f"the convoy plan breaks its scenario ({len(violations)} violations); the first: {violations[0]}",
            [{"where": "plan", "message": v} for v in violations[:SHOWN]],
            hint="publish a plan that `corridor convoy` made from the scenario as it is (it verifies them)",
        )
    return compiled


def sources(scenario: Scenario, compiled: ConvoyProblem) -> list[dict[str, Any]]:
    """The sources as manifests need them: id, node, group, and whether the group needs a stretcher."""
    stretcher = {g.name: g.stretcher for g in scenario.groups}
    flow = compiled.flow
    return [
        {
            "id": sid,
            "node": flow.network.node_ids[int(flow.source_node[i])],
            "group": flow.group_names[int(flow.source_group[i])],
            "stretcher": bool(stretcher.get(flow.group_names[int(flow.source_group[i])], False)),
        }
        for i, sid in enumerate(flow.source_ids)
    ]
