"""Convoy plans: a fleet shuttling between gathering and reception points, trip by trip.

``solve_convoy(problem, method=...)`` returns a :class:`~corridor.plan.convoy.ConvoyPlan` whose
``bound`` is the tightest proved bound of :mod:`corridor.solve.convoy.bounds` (or the optimum itself
when a method proves it). Methods: ``greedy`` (dispatch the vehicle free first to its best trip),
``search`` (the default: large-neighbourhood search from greedy, see :mod:`.search`), ``exact``
(CP-SAT, proves optimality on small instances, see :mod:`.exact`) and ``route`` (the timed route
programme's plan as the start, then search with restarts until the limit, see :mod:`.route_method`:
for large instances with minutes to spend).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from corridor.core.errors import SolverError
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import Bounds, convoy_bounds
from corridor.solve.convoy.exact import exact
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.outcome import MethodOutcome
from corridor.solve.convoy.route_method import route_method
from corridor.solve.convoy.schedule import Schedule, greedy
from corridor.solve.convoy.search import search_method

Progress = Callable[[int, int], None]  # (trips so far, people out so far)
# A method returns its plan and status, or a MethodOutcome (with its stats and a bound of its own).
ConvoyMethod = Callable[
    [ConvoyProblem, Legs, Bounds, float, Progress | None], tuple[Schedule, str] | MethodOutcome
]


def _greedy(
    problem: ConvoyProblem, legs: Legs, bounds: Bounds, time_limit: float, progress: Progress | None
) -> tuple[Schedule, str]:
    del bounds, time_limit
    return greedy(problem, legs, progress=progress), "feasible"


CONVOY_METHODS: dict[str, ConvoyMethod] = {
    "greedy": _greedy,
    "exact": exact,
    "search": search_method,
    "route": route_method,
}


def solve_convoy(
    problem: ConvoyProblem,
    *,
    method: str = "search",
    time_limit: float = 60.0,
    flow_bound: bool = True,
    progress: Progress | None = None,
) -> ConvoyPlan:
    """Plan the fleet of ``problem`` with ``method``; ``time_limit`` in seconds for anytime methods,
    counted from the call: the method is given what the bounds left of it (``stats["method_limit"]``).
    The plan is verified whatever the time left (the check is not optional: 0.2 s for a 900-trip plan
    on Helsinki's 224 road closures)."""
    try:
        run = CONVOY_METHODS[method]
    except KeyError:
        known = ", ".join(CONVOY_METHODS)
        raise SolverError(f"unknown convoy method {method!r}", hint=f"use one of {known}") from None
    began = time.perf_counter()
    legs = Legs(problem)
    bounds = convoy_bounds(problem, legs, flow=flow_bound)
    bound_time = time.perf_counter() - began
    left = max(0.0, time_limit - bound_time)
    outcome = run(problem, legs, bounds, left, progress)
    if not isinstance(outcome, MethodOutcome):
        outcome = MethodOutcome(outcome[0], outcome[1])
    schedule, status = outcome.schedule, outcome.status
    stats = {**outcome.stats, "bound_seconds": bound_time, "method_limit": left}
    best = bounds.best
    if outcome.bound is not None and outcome.bound < best[0]:
        best = (outcome.bound, outcome.bound_kind)  # a bound the method proved (e.g. its programme's)
    if method != "greedy":
        # No method is trusted: a plan its own checker refuses gives way to the dispatcher's plan.
        violations = _plan(schedule, method, status, best, 0.0, stats).verify(problem)
        if violations:
            stats["fallback_violations"] = float(len(violations))
            schedule, status = greedy(problem, legs, progress=progress), "feasible"
    stats["seconds"] = time.perf_counter() - began
    return _plan(schedule, method, status, best, time.perf_counter() - began, stats)


def _plan(
    schedule: Schedule,
    method: str,
    status: str,
    best: tuple[int, str],
    seconds: float,
    stats: dict[str, float],
) -> ConvoyPlan:
    bound, kind = best
    # Only a method's own proof makes a plan optimal: reaching the bound proves the people out, not
    # the priority levels, the completion or the number of trips.
    if status == "optimal":
        bound, kind = sum(t.people for t in schedule.trips), "exact"
    return schedule.plan(
        method=method, status=status, bound=bound, bound_kind=kind, stats={**stats, "seconds": seconds}
    )


__all__ = ["CONVOY_METHODS", "Progress", "solve_convoy"]
