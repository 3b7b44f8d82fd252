"""A fair convoy plan: gathering points served in proportion to the people waiting there.

When not everyone can get out, the plan that gets the most out may empty the near gathering points
and leave the far ones. The fair plan here is defined as the plan that **maximises the least share
out over gathering points** (people out from a point / people waiting there at the start), then the
people out (by priority level, as in the plan objective), then the earliest completion and the
fewest trips.

Method (deterministic): for a target share ``t`` every source may give at most ``ceil(t * people)``
people; the greedy dispatcher plans under these quotas, then every vehicle with time left carries on
without quotas (which only adds people). A bisection on ``t`` keeps the plan with the best
(least share, objective); if no plan found beats the most-out plan's least share, the most-out plan
is the fair plan too. The fair plan is verified against the problem; if it would not verify, the
most-out plan is the fair plan, with a note saying why. The cost of fairness is the most-out plan's
people out minus the fair plan's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from corridor.plan.convoy import ConvoyPlan
from corridor.plan.convoy_verify import verify_convoy
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Chooser, Schedule, dispatch, objective_key


@dataclass(frozen=True)
class PointShare:
    """People waiting at gathering node ``gathering`` and out in the most-out and the fair plan."""

    gathering: str
    waiting: int
    most_out: int
    fair_out: int

    @property
    def most_share(self) -> float:
        return self.most_out / self.waiting if self.waiting else 1.0

    @property
    def fair_share(self) -> float:
        return self.fair_out / self.waiting if self.waiting else 1.0


@dataclass(frozen=True)
class FairPlans:
    fair: ConvoyPlan
    most: ConvoyPlan
    points: tuple[PointShare, ...]
    notes: tuple[str, ...] = ()

    @property
    def cost(self) -> int:
        """People the fair plan leaves behind that the most-out plan gets out."""
        return self.most.evacuated - self.fair.evacuated

    @property
    def least_share_most(self) -> float:
        return min((p.most_share for p in self.points), default=1.0)

    @property
    def least_share_fair(self) -> float:
        return min((p.fair_share for p in self.points), default=1.0)


def point_out(problem: ConvoyProblem, plan: ConvoyPlan) -> dict[str, int]:
    """People out per gathering node id (boarded there) in ``plan``; people on board at the start are
    not counted at any point."""
    out: dict[str, int] = {}
    on_board = {problem.vehicle_ids[v] for v, loads in enumerate(problem.vehicle_on_board) if loads}
    for t in plan.trips:
        if t.number == 1 and t.vehicle in on_board and t.board_end == t.board_start:
            continue
        out[t.gathering] = out.get(t.gathering, 0) + t.people
    return out


def _waiting(problem: ConvoyProblem) -> dict[str, int]:
    flow = problem.flow
    out: dict[str, int] = {}
    for node, people in zip(flow.source_node.tolist(), flow.source_people.tolist(), strict=True):
        if people > 0:
            nid = problem.network.node_ids[int(node)]
            out[nid] = out.get(nid, 0) + int(people)
    return out


def least_share(problem: ConvoyProblem, plan: ConvoyPlan) -> float:
    """The least share out over gathering points of ``plan`` (1 with nobody waiting)."""
    out = point_out(problem, plan)
    return min((out.get(g, 0) / w for g, w in _waiting(problem).items()), default=1.0)


def _quota_plan(problem: ConvoyProblem, legs: Legs, share: float) -> Schedule:
    schedule = Schedule(problem, legs)
    people = problem.flow.source_people.tolist()
    held = [max(0, int(p) - math.ceil(share * int(p) - 1e-9)) for p in people]
    for s, h in enumerate(held):
        schedule.waiting[s] -= h
    dispatch(schedule, Chooser(problem))
    for s, h in enumerate(held):
        schedule.waiting[s] += h
    return dispatch(schedule, Chooser(problem))


def _fair_key(problem: ConvoyProblem, schedule: Schedule) -> tuple[float, ...]:
    flow = problem.flow
    waiting: dict[int, int] = {}
    left: dict[int, int] = {}
    for s, people in enumerate(flow.source_people.tolist()):
        if people > 0:
            g = int(flow.source_node[s])
            waiting[g] = waiting.get(g, 0) + int(people)
            left[g] = left.get(g, 0) + schedule.waiting[s]
    least = min(((waiting[g] - left[g]) / waiting[g] for g in waiting), default=1.0)
    return (-least, *objective_key(problem, schedule.trips))


def fair_plans(
    problem: ConvoyProblem, most: ConvoyPlan, *, legs: Legs | None = None, steps: int = 12
) -> FairPlans:
    """The fair plan beside ``most`` (the plan that gets the most out), compared per gathering point."""
    legs = Legs(problem) if legs is None else legs
    best: Schedule | None = None
    best_key: tuple[float, ...] | None = None
    low, high = 0.0, 1.0
    for _ in range(steps):
        share = (low + high) / 2
        schedule = _quota_plan(problem, legs, share)
        key = _fair_key(problem, schedule)
        if best_key is None or key < best_key:
            best, best_key = schedule, key
        if -key[0] + 1e-9 >= share:
            low = share
        else:
            high = share
    fair = most
    notes: list[str] = []
    if best is not None and best_key is not None and -best_key[0] > least_share(problem, most) + 1e-12:
        candidate = best.plan(
            method="fair", status="feasible", bound=most.bound, bound_kind=most.bound_kind, stats={}
        )
        violations = verify_convoy(candidate, problem)
        if violations:
            notes.append(
                "the fair plan found does not verify ("
                + "; ".join(violations[:3])
                + "): the plan that gets the most out is shown as the fair plan"
            )
        else:
            fair = candidate
    most_out, fair_out = point_out(problem, most), point_out(problem, fair)
    points = tuple(
        PointShare(g, w, most_out.get(g, 0), fair_out.get(g, 0)) for g, w in sorted(_waiting(problem).items())
    )
    return FairPlans(fair=fair, most=most, points=points, notes=tuple(notes))


__all__ = ["FairPlans", "PointShare", "fair_plans", "least_share", "point_out"]
