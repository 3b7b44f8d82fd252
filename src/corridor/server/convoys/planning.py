"""Convoy plans the server makes itself: the operation's scenario planned as it is, and re-plans
after a closure from the live state.

A re-plan uses ``corridor.solve.convoy.replan`` when the installed version has it; otherwise it
solves the changed scenario with ``solve_convoy`` from a :class:`LiveState` built here: trips of
the current plan that started boarding before the re-plan's time are kept (they are under way,
their people out or on board); every vehicle is where it will be when its kept trip ends (or where
its last trip ended), free from then or from the re-plan's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from corridor.core.errors import InputError
from corridor.plan.convoy import ConvoyPlan, Trip
from corridor.problem.convoy import ConvoyProblem, LiveState, VehicleState
from corridor.server.convoys.scenario import Basis, Loaded, problem
from corridor.solve.convoy import CONVOY_METHODS, solve_convoy


def plan_scenario(loaded: Loaded, method: str = "greedy") -> tuple[ConvoyPlan, ConvoyProblem]:
    """The scenario planned by ``method`` (verified by the caller on publication)."""
    if method not in CONVOY_METHODS:
        raise InputError(
            f"unknown convoy method {method!r}",
            where="method",
            hint=f"use one of {', '.join(CONVOY_METHODS)}",
        )
    compiled = problem(loaded, Basis())
    return solve_convoy(compiled, method=method, time_limit=20.0), compiled


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


def step_of(plan: ConvoyPlan, when: datetime) -> int:
    return max(0, int((when - plan.start).total_seconds() // 60 / plan.dt))


def live_state(
    old: ConvoyPlan, step: int, kept_out_by_group: Sequence[tuple[str, int]] = ()
) -> tuple[LiveState, tuple[Trip, ...]]:
    """The state at ``step`` if ``old`` went as planned: trips that began boarding are kept."""
    kept = tuple(t for t in old.trips if t.board_start < step)
    vehicles = []
    left: dict[str, int] = {}
    for vid in old.vehicles:
        mine = [t for t in kept if t.vehicle == vid]
        if mine:
            last = max(mine, key=lambda t: t.number)
            vehicles.append(VehicleState(vid, last.haul.nodes[-1], max(step, last.unload_end)))
        for t in mine:
            for source, n in t.load:
                left[source] = left.get(source, 0) + n
    return (
        LiveState(
            vehicles=tuple(vehicles), left=tuple(sorted(left.items())), out_by_group=tuple(kept_out_by_group)
        ),
        kept,
    )


def replan(
    loaded: Loaded,
    old: ConvoyPlan,
    *,
    when: datetime,
    closures: Sequence[dict[str, Any]] = (),
    deadline: datetime | None = None,
    method: str = "greedy",
) -> Replan:
    """Plan again from ``when`` with ``closures`` added (and an earlier ``deadline``)."""
    step = step_of(old, when)
    state, kept = live_state(old, step)
    # Vehicles with no kept trip wait where the plan had them at the start, free from the re-plan.
    placed = {v.vehicle for v in state.vehicles}
    base = problem(loaded, Basis())
    extra = [
        VehicleState(vid, base.network.node_ids[int(base.vehicle_node[i])], step)
        for i, vid in enumerate(base.vehicle_ids)
        if vid not in placed
    ]
    state = LiveState(vehicles=(*state.vehicles, *extra), left=state.left, out_by_group=state.out_by_group)
    basis = Basis(closures=tuple(dict(c) for c in closures), deadline=deadline, state=state)
    compiled = problem(loaded, basis)
    new = solve_convoy(compiled, method=method if method in CONVOY_METHODS else "greedy", time_limit=20.0)
    offsets = {vid: max((t.number for t in kept if t.vehicle == vid), default=0) for vid in old.vehicles}
    return Replan(new, basis, {v: n for v, n in offsets.items() if n}, kept, step, old)


def merged(new: ConvoyPlan, kept: Sequence[Trip], offsets: dict[str, int]) -> ConvoyPlan:
    """The whole plan a re-plan makes: the kept trips, then the new ones numbered after them
    (for the timeline and trip sheets; the version itself holds the new trips only)."""
    renumbered = [replace(t, number=t.number + offsets.get(t.vehicle, 0)) for t in new.trips]
    return replace(new, trips=(*kept, *renumbered), evacuated=new.evacuated + sum(t.people for t in kept))
