"""Convoy plans the server asks for: the operation's scenario planned as it is, and re-plans
after a closure from the live state. The planning runs on the Dask cluster
(:mod:`corridor.jobs.convoy`, called by name: the service never imports the planner); the
service waits for the answer.

A re-plan uses :func:`corridor.solve.convoy.replan.replan`: trips done by the re-plan's time stay
as they were (the operation's trips up to ``offsets``); trips under way are kept while they still
verify (the new plan's first trip of their vehicle); the rest is planned again, the previous trips
replayed first. The state the new plan verifies against is read back from the problem the re-plan
returns (vehicles' places, people no longer waiting, people out) and kept as the version's basis,
so that publishing verifies the plan again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from corridor.plan.convoy import ConvoyPlan, Trip
from corridor.problem.convoy import ConvoyProblem, LiveState, VehicleState
from corridor.server.convoys.scenario import Basis, Loaded, changed, problem
from corridor.server.jobs.service import JobService

# The planning tasks, run on the cluster by name.
SOLVE = "corridor.jobs.convoy:solve_problem"
REPLAN = "corridor.jobs.convoy:replan"


def plan_scenario(
    jobs: JobService, loaded: Loaded, method: str = "greedy"
) -> tuple[ConvoyPlan, ConvoyProblem]:
    """The scenario planned by ``method`` on the cluster (verified by the caller on publication);
    an unknown method is refused there (InputError naming ``method``)."""
    compiled = problem(loaded, Basis())
    plan: ConvoyPlan = jobs.call(SOLVE, compiled, method)
    return plan, compiled


@dataclass(frozen=True)
class Replan:
    """A re-plan: the new plan (its trips numbered after the kept ones: ``offsets``), its basis,
    the kept trips, and what changed against the plan it replaces."""

    plan: ConvoyPlan
    basis: Basis
    offsets: dict[str, int]
    kept: tuple[Trip, ...]
    step: int
    old: ConvoyPlan
    # (source, group, people newly left behind, reason) when the solver's re-plan says why
    left: tuple[tuple[str, str, int, str], ...] | None = None


def step_of(plan: ConvoyPlan, when: datetime) -> int:
    return max(0, int((when - plan.start).total_seconds() // 60 / plan.dt))


def replan(
    jobs: JobService,
    loaded: Loaded,
    old: ConvoyPlan,
    *,
    when: datetime,
    closures: Sequence[dict[str, Any]] = (),
    deadline: datetime | None = None,
    live: LiveState | None = None,
) -> Replan:
    """Plan again from ``when`` with ``closures`` added (and an earlier ``deadline``)."""
    step = step_of(old, when)
    return _from_solver(jobs, loaded, old, step, closures, deadline, live)


def _from_solver(
    jobs: JobService,
    loaded: Loaded,
    old: ConvoyPlan,
    step: int,
    closures: Sequence[dict[str, Any]],
    deadline: datetime | None,
    live: LiveState | None,
) -> Replan:
    scenario = changed(loaded.scenario, Basis(closures=tuple(dict(c) for c in closures), deadline=deadline))
    result = jobs.call(REPLAN, old, scenario, loaded.network, step, live)
    base = problem(loaded, Basis())
    compiled = result.problem
    flow, base_flow = compiled.flow, base.flow
    ids = compiled.network.node_ids
    state = LiveState(
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
    basis = Basis(closures=tuple(dict(c) for c in closures), deadline=deadline, state=state)
    done = tuple(result.done)
    offsets = {vid: max((t.number for t in done if t.vehicle == vid), default=0) for vid in old.vehicles}
    left = tuple(
        (source, group, people - before, reason)
        for source, group, people, before, reason in result.left
        if people > before
    )
    return Replan(result.plan, basis, {v: n for v, n in offsets.items() if n}, done, step, old, left)


def merged(new: ConvoyPlan, kept: Sequence[Trip], offsets: dict[str, int]) -> ConvoyPlan:
    """The whole plan a re-plan makes: the kept trips, then the new ones numbered after them
    (for the timeline and trip sheets; the version itself holds the new trips only)."""
    renumbered = [replace(t, number=t.number + offsets.get(t.vehicle, 0)) for t in new.trips]
    return replace(new, trips=(*kept, *renumbered), evacuated=new.evacuated + sum(t.people for t in kept))
