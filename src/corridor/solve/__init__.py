"""From a problem to a Plan: ``solve(problem, method=...)`` with a registry of methods.

Every method returns the same :class:`~corridor.plan.model.Plan`. The pipeline reads: compile
(time-expanded network) -> solve -> routes -> quickest time for everyone -> verify.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from corridor.core.errors import SolverError
from corridor.plan.model import Plan
from corridor.problem.model import Problem
from corridor.solve.bounds import lower_bound, proves_short
from corridor.solve.exact import Progress, solve_exact
from corridor.solve.quickest import people_out, quickest_steps

Method = Callable[[Problem, str, Progress | None], Plan]


def _exact(problem: Problem, objective: str, progress: Progress | None) -> Plan:
    return solve_exact(problem, objective=objective, progress=progress)


def _ccrp(problem: Problem, objective: str, progress: Progress | None) -> Plan:
    from corridor.solve.ccrp import solve_ccrp

    del objective
    return solve_ccrp(problem, progress=progress)


METHODS: dict[str, Method] = {"exact": _exact, "ccrp": _ccrp}


def _everyone_out(plan: Plan, problem: Problem, progress: Progress | None) -> Plan:
    """Add the quickest time for everyone, proved by max flows and bounds."""
    if plan.evacuation_steps_proved:
        return plan  # an earliest-arrival flow proved it already
    if plan.evacuated == problem.people and plan.method == "exact" and plan.objective == "earliest":
        # An earliest-arrival flow: its last arrival is the candidate; the static-flow bounds or
        # one max flow prove it.
        last = plan.last_arrival or 0
        bound = lower_bound(problem) or 0
        if last == 0 or bound >= last or people_out(problem, last - 1) < problem.people:
            return replace(plan, evacuation_steps=last, evacuation_steps_proved=True)
        steps = quickest_steps(problem, feasible=last, progress=progress)
    elif plan.evacuated == problem.people:
        steps = quickest_steps(problem, feasible=problem.horizon, progress=progress)
    else:
        steps = quickest_steps(
            problem, infeasible=problem.horizon, infeasible_out=plan.evacuated, progress=progress
        )
    return replace(plan, evacuation_steps=steps, evacuation_steps_proved=steps is not None)


def _side_by_side(problem: Problem, progress: Progress | None) -> Plan | None:
    """The earliest-arrival plan and the quickest time, on two cores, when the bounds already
    show that not everyone can be out by the horizon (so the search needs nothing from the plan).

    The plan's inner loop runs in a thread without the interpreter lock (one progress report, at
    its end), while this thread searches for the quickest time (OR-Tools holds the lock while it
    solves). ``None`` when the bounds do not show it: then the plan comes first, as the search
    starts from what it got out."""
    if not proves_short(problem, problem.horizon):
        return None
    started = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="earliest-arrival") as pool:
        planned = pool.submit(solve_exact, problem, objective="earliest", reports=1, on_start=started.set)
        # The plan's set-up needs the interpreter lock, which OR-Tools keeps while it solves: let
        # it reach its compiled loop before the search's max flows start.
        while not started.wait(0.05) and not planned.done():
            pass
        # The search computes its lower bound (static min-cost flows) now, beside the plan's
        # compiled loop, not before that loop starts.
        steps = quickest_steps(problem, infeasible=problem.horizon, progress=progress)
        if progress is not None and not planned.done():
            progress("earliest-arrival flow: finishing")
        plan = planned.result()
    return replace(plan, evacuation_steps=steps, evacuation_steps_proved=steps is not None)


def solve(
    problem: Problem,
    *,
    method: str = "exact",
    objective: str = "earliest",
    quickest: bool = True,
    prove: bool = True,
    progress: Progress | None = None,
    threads: int = 2,
) -> Plan:
    """Plan ``problem`` with ``method`` ("exact" or "ccrp").

    ``quickest``: for exact plans, also find the quickest time for everyone (proved by max flows);
    heuristics report the time of their own complete evacuation, unproved.
    ``prove``: for heuristics, replace their bound by the proved optimum (one max flow), so that
    the plan's ``gap`` is its distance to the optimum.
    ``threads``: with 2 or more, an earliest-arrival plan whose horizon is known too short for
    everyone is made beside the quickest-time search, on a second core.
    """
    try:
        run = METHODS[method]
    except KeyError:
        known = ", ".join(METHODS)
        raise SolverError(f"unknown method {method!r}", hint=f"use one of {known}") from None
    if quickest and threads > 1 and method == "exact" and objective == "earliest":
        both = _side_by_side(problem, progress)
        if both is not None:
            return both
    plan = run(problem, objective, progress)
    if prove and plan.status != "optimal":
        plan = replace(plan, bound=people_out(problem, problem.horizon))
    if quickest and plan.method == "exact":
        plan = _everyone_out(plan, problem, progress)
    return plan


__all__ = ["METHODS", "solve"]
