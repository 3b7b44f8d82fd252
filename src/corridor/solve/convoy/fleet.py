"""Fleet questions: plan the same scenario with other fleets and compare.

- :func:`plan_fleet`: the scenario with some ``[[fleet]]`` entries' counts or seats changed, planned
  and measured (people out, vehicles used, trips, and every bound: flow, fleet, checkpoint).
- :func:`sweep_counts` / :func:`sweep_seats`: one entry's count (or seats) over a range.
- :func:`smallest_fleet`: the fewest vehicles of each entry that still bring out as many people, in
  every priority level, as the whole fleet: how many of the vehicles the plan can actually use.

Answers are those of the method used (a heuristic's plan may not be monotone in the fleet), so
every point is a plan that was made and verified, not an estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from corridor.core.errors import InputError, SolverError
from corridor.core.findings import has_errors
from corridor.network.model import Network
from corridor.problem.convoy import ConvoyProblem, compile_convoy
from corridor.scenario.model import Scenario
from corridor.solve.convoy import solve_convoy
from corridor.solve.convoy.bounds import convoy_bounds, flow_relaxation
from corridor.solve.convoy.legs import Legs

SweepProgress = Callable[[int, int], None]  # (point number, points in all)


class FleetError(InputError):
    """A fleet change that names no entry of the scenario, or a fleet that cannot be planned."""


@dataclass(frozen=True)
class FleetPoint:
    """One fleet, planned: its counts and seats per entry and what the plan and the bounds give."""

    counts: tuple[tuple[str, int], ...]
    seats: tuple[tuple[str, int], ...]
    count: int  # the swept entry's count (or seats, for a seat sweep)
    vehicles: int
    vehicles_used: int
    trips: int
    evacuated: int
    by_group: tuple[tuple[str, int], ...]
    bound: int
    bound_kind: str
    flow_bound: int | None  # None when it does not hold (see bounds.flow_relaxation)
    fleet_bound: int
    checkpoint_bound: int | None
    verified: bool

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = dict(self.counts)
        data["seats"] = dict(self.seats)
        data["by_group"] = dict(self.by_group)
        data["vehicles_used"] = self.vehicles_used
        return data

    def reaches(self, other: FleetPoint) -> bool:
        """At least as many people out as ``other`` in every priority level, taken in order."""
        mine, theirs = [n for _, n in self.by_group], [n for _, n in other.by_group]
        return mine >= theirs


def with_fleet(
    scenario: Scenario, counts: Mapping[str, int] | None = None, seats: Mapping[str, int] | None = None
) -> Scenario:
    """``scenario`` with the count or the seats of some ``[[fleet]]`` entries (by id) changed."""
    counts, seats = dict(counts or {}), dict(seats or {})
    known = {part.id for part in scenario.fleet}
    for name in [*counts, *seats]:
        if name not in known:
            raise FleetError(
                f"no [[fleet]] entry {name!r}",
                where="fleet",
                hint=f"use one of {', '.join(sorted(known)) or '(none: the scenario has no fleet)'}",
            )
    fleet = tuple(
        part.model_copy(
            update={"count": counts.get(part.id, part.count), "seats": seats.get(part.id, part.seats)}
        )
        for part in scenario.fleet
    )
    return scenario.model_copy(update={"fleet": fleet})


def flow_bound_holds(scenario: Scenario) -> bool:
    """Whether the flow optimum bounds the convoys: the flow model counts a checkpoint's and a road's
    vehicles per hour as vehicles of the scenario's ``mode`` carrying its ``occupancy``, so a vehicle
    with more places than that can pass more people than the flow model lets through."""
    per_vehicle = scenario.occupancy[scenario.mode]
    return all(part.seats + part.stretchers <= per_vehicle for part in scenario.fleet if part.count)


def _compile(scenario: Scenario, network: Network) -> ConvoyProblem:
    problem, findings = compile_convoy(scenario, network)
    if problem is None or has_errors(findings):
        errors = "; ".join(f.render() for f in findings if f.severity == "error")
        raise FleetError(f"this fleet cannot be planned: {errors}", where="fleet")
    return problem


def plan_fleet(
    scenario: Scenario,
    network: Network,
    *,
    counts: Mapping[str, int] | None = None,
    seats: Mapping[str, int] | None = None,
    method: str = "greedy",
    time_limit: float = 60.0,
    flow_bound: int | None = None,
    swept: int = 0,
) -> FleetPoint:
    """Plan ``scenario`` with the fleet changed; ``flow_bound`` reuses a flow bound already proved."""
    changed = with_fleet(scenario, counts, seats)
    problem = _compile(changed, network)
    legs = Legs(problem)
    valid = flow_relaxation(problem)[0] is not None  # the fluid can do what these vehicles do
    bounds = convoy_bounds(problem, legs, flow=flow_bound is None and valid)
    flow = (bounds.flow if flow_bound is None else flow_bound) if valid else None
    plan = solve_convoy(problem, method=method, time_limit=time_limit, flow_bound=False)
    verified = not plan.verify(problem)
    if not verified:
        raise SolverError(
            f"the {method} plan of the fleet {[(p.id, p.count) for p in changed.fleet]} fails verification",
            hint="this is a defect; please report it with the scenario",
        )
    options = [(plan.bound, plan.bound_kind)] + ([(flow, "flow")] if flow is not None else [])
    bound, kind = min(options)
    if plan.status == "optimal" and plan.bound_kind == "exact":
        bound, kind = plan.bound, "exact"
    return FleetPoint(
        counts=tuple((p.id, p.count) for p in changed.fleet),
        seats=tuple((p.id, p.seats) for p in changed.fleet),
        count=swept,
        vehicles=len(plan.vehicles),
        vehicles_used=len({t.vehicle for t in plan.trips}),
        trips=len(plan.trips),
        evacuated=plan.evacuated,
        by_group=plan.by_group,
        bound=bound,
        bound_kind=kind,
        flow_bound=flow,
        fleet_bound=bounds.fleet,
        checkpoint_bound=bounds.checkpoint,
        verified=verified,
    )


def _entry(scenario: Scenario, entry: str) -> int:
    for part in scenario.fleet:
        if part.id == entry:
            return part.count
    with_fleet(scenario, {entry: 0})  # raises FleetError naming the known entries
    raise AssertionError  # pragma: no cover


def sweep_counts(
    scenario: Scenario,
    network: Network,
    entry: str,
    counts: Iterable[int] | None = None,
    *,
    largest: int | None = None,
    others: Mapping[str, int] | None = None,
    method: str = "greedy",
    time_limit: float = 60.0,
    progress: SweepProgress | None = None,
) -> list[FleetPoint]:
    """Plan with ``entry``'s count set to each of ``counts`` (default 1 .. ``largest`` or its count),
    the other entries' counts as ``others`` (default: as in the scenario)."""
    full = _entry(scenario, entry)
    chosen = list(counts) if counts is not None else list(range(1, (largest or full) + 1))
    changes: list[tuple[dict[str, int], dict[str, int], int]] = [
        ({**(others or {}), entry: n}, {}, n) for n in chosen
    ]
    return _sweep(scenario, network, changes, method, time_limit, progress)


def sweep_seats(
    scenario: Scenario,
    network: Network,
    entry: str,
    seats: Iterable[int],
    *,
    counts: Mapping[str, int] | None = None,
    method: str = "greedy",
    time_limit: float = 60.0,
    progress: SweepProgress | None = None,
) -> list[FleetPoint]:
    """Plan with ``entry``'s seats set to each of ``seats`` (and the fleet's counts as ``counts``)."""
    _entry(scenario, entry)
    changes = [(dict(counts or {}), {entry: s}, s) for s in seats]
    return _sweep(scenario, network, changes, method, time_limit, progress)


def _sweep(
    scenario: Scenario,
    network: Network,
    changes: list[tuple[dict[str, int], dict[str, int], int]],
    method: str,
    time_limit: float,
    progress: SweepProgress | None,
) -> list[FleetPoint]:
    points: list[FleetPoint] = []
    flow: int | None = None
    for k, (counts, seats, swept) in enumerate(changes):
        if progress is not None:
            progress(k + 1, len(changes))
        point = plan_fleet(
            scenario,
            network,
            counts=counts,
            seats=seats,
            method=method,
            time_limit=time_limit,
            flow_bound=flow,
            swept=swept,
        )
        if point.flow_bound is not None:
            flow = point.flow_bound
        points.append(point)
    return points


@dataclass(frozen=True)
class SmallestFleet:
    """The whole fleet's plan, and the smallest fleet found whose plan reaches it."""

    full: FleetPoint
    smallest: FleetPoint
    tried: tuple[FleetPoint, ...]


def smallest_fleet(
    scenario: Scenario,
    network: Network,
    *,
    method: str = "greedy",
    time_limit: float = 60.0,
    progress: SweepProgress | None = None,
) -> SmallestFleet:
    """The fewest vehicles of each entry with which the plan still gets as many people out.

    For each entry in turn (the others as found so far), the smallest count from 0 up whose plan
    reaches the whole fleet's people out in every priority level, taken in order. Each count is
    tried with a real plan; a count with which the scenario cannot be planned (a group left with no
    vehicle that fits it) is skipped.
    """
    full = plan_fleet(scenario, network, method=method, time_limit=time_limit)
    counts = dict(full.counts)
    tried: list[FleetPoint] = [full]
    total = sum(counts.values())
    best = full
    for entry in list(counts):
        for n in range(counts[entry]):
            if progress is not None:
                progress(len(tried), total)
            try:
                point = plan_fleet(
                    scenario,
                    network,
                    counts={**counts, entry: n},
                    method=method,
                    time_limit=time_limit,
                    flow_bound=full.flow_bound,
                    swept=n,
                )
            except FleetError:
                continue
            tried.append(point)
            if point.reaches(full):
                counts[entry] = n
                best = point
                break
    return SmallestFleet(full, best, tuple(tried))


__all__ = [
    "FleetError",
    "FleetPoint",
    "SmallestFleet",
    "flow_bound_holds",
    "plan_fleet",
    "smallest_fleet",
    "sweep_counts",
    "sweep_seats",
    "with_fleet",
]
