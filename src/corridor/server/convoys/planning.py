"""Convoy plans the server asks for: the operation's scenario planned as it is, and re-plans
after a closure from the live state. The planning runs on the Dask cluster
(:mod:`corridor.jobs.convoy`, by name: the service never imports the planner) as jobs
(:mod:`corridor.server.convoys.jobs`) that the pages, the API's ``POST .../convoy`` without a plan
and the demo's seeding start; none of them waits for the planner.

A re-plan (job kind ``convoy-replan``) uses :func:`corridor.solve.convoy.replan.replan` on the
worker: trips done by the re-plan's time stay as they were (the operation's trips up to
``offsets``); trips under way are kept while they still verify (the new plan's first trip of their
vehicle); the rest is planned again, the previous trips replayed first. The state the new plan
verifies against is read back on the worker from the problem the re-plan returns (vehicles'
places, people no longer waiting, people out) and kept as the version's basis, so that publishing
verifies the plan again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from corridor.plan.convoy import ConvoyPlan, Trip
from corridor.server.convoys.scenario import Basis


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


def merged(new: ConvoyPlan, kept: Sequence[Trip], offsets: dict[str, int]) -> ConvoyPlan:
    """The whole plan a re-plan makes: the kept trips, then the new ones numbered after them
    (for the timeline and trip sheets; the version itself holds the new trips only)."""
    renumbered = [replace(t, number=t.number + offsets.get(t.vehicle, 0)) for t in new.trips]
    return replace(new, trips=(*kept, *renumbered), evacuated=new.evacuated + sum(t.people for t in kept))
