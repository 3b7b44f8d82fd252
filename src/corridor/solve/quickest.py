"""The quickest time to get everyone out: the least horizon at which the maximum flow is everyone.

The search is proved, not estimated: it ends with a horizon ``h`` where everyone gets out (a max
flow) and a horizon ``h - 1`` shown to fall short, by a max flow or by a bound of
:mod:`corridor.solve.bounds`. Max flows on the time-expanded network cost seconds at city scale
and the bounds milliseconds, so the search starts at the bounds' answer and, after a max flow that
falls short, goes straight to the first horizon the growth bound has not ruled out.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from corridor.problem.model import Problem
from corridor.solve.bounds import growth_rate, lower_bound, short_until
from corridor.solve.expand import expand
from corridor.solve.flows import maximum_flow

Progress = Callable[[str], None]


def people_out(problem: Problem, horizon: int) -> int:
    """The maximum number of people out by ``horizon`` steps."""
    exp = expand(problem, horizon)
    return maximum_flow(exp.tail, exp.head, exp.capacity, exp.source, exp.sink).value


def quickest_steps(
    problem: Problem,
    *,
    feasible: int | None = None,
    infeasible: int = -1,
    infeasible_out: int | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> int | None:
    """Least horizon (steps) at which everyone is out, or ``None`` if none up to ``limit``.

    ``feasible``: a horizon known to get everyone out; ``infeasible``: one known not to, and
    ``infeasible_out`` the people out by it if known. ``limit`` defaults to 16 times the larger of
    the horizon and the lower bound.
    """
    say = progress or (lambda _: None)
    bound = lower_bound(problem)
    if bound is None:
        return None
    rate = max(1, growth_rate(problem))
    if infeasible_out is not None and infeasible >= 0:
        infeasible = short_until(problem, infeasible, infeasible_out, rate)
    lo = max(infeasible, bound - 1)  # largest horizon known to fall short
    limit = limit or 16 * max(problem.horizon, bound, 1)
    hi, guess, misses = feasible, lo + 1, 0

    def probe(h: int) -> bool:
        """Is ``h`` enough? When not, raise ``lo`` as far as the growth bound proves."""
        nonlocal lo, guess
        say(f"quickest time: trying {h} steps")
        out = people_out(problem, h)
        if out >= problem.people:
            return True
        lo = max(lo, short_until(problem, h, out, rate))
        # Without closures this jump is proved; with them it is a guess, checked by the search.
        guess = h + max(1, math.ceil((problem.people - out) / rate))
        return False

    while hi is None:
        h = max(guess, lo + 1)
        if misses > 2:  # the guesses keep falling short: grow geometrically too
            h = max(h, lo + 1 + lo // 8)
        if h > limit:
            return None
        if probe(h):
            hi = h
        misses += 1
    # Close the gap: the guesses land close, so try one step less before bisecting.
    if hi - lo > 1:
        if probe(hi - 1):
            hi -= 1
        else:
            return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if probe(mid):
            hi = mid
    return hi
