"""The quickest time to get everyone out: the least horizon at which the maximum flow is everyone.

The search is proved, not estimated: it ends with a horizon ``h`` where everyone gets out (a max
flow) and a horizon ``h - 1`` shown to fall short, by a max flow or by a bound of
:mod:`corridor.solve.bounds`. Max flows on the time-expanded network cost seconds at city scale
and the bounds milliseconds, so the search starts at the bounds' answer and, after a max flow that
falls short, goes straight to the first horizon neither the growth bound nor the max flow's min cut
has ruled out. The min cut names the sources whose people are not all out (those on its source
side); the repeated-flow bound of that set alone (:func:`~corridor.solve.bounds.set_bound`) is
usually the quickest time itself, so one or two max flows after the first settle it.

Those sources are found before any max flow at full length: a *scout*, one max flow at a quarter
of the lower bound (a few percent of the cost of one at the bound), names the sources its minimum
cut leaves behind; on networks with a bottleneck (one exit, a bridge) they are the same sources
at every horizon, and their bound is the quickest time. One max flow then proves that everyone
gets out by it. The scout proves nothing by itself: only the bound of the set it names is used,
and that bound holds for any set.

A max flow that falls short by little (``WARM_SHARE`` of everyone at most) is kept, and the next
probe at a longer horizon grows its max flow from it (:mod:`corridor.solve.warm`): near the
quickest time that costs about half a max flow from nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from ortools.graph.python import max_flow

from corridor.core.errors import SolverError
from corridor.problem.model import Problem
from corridor.solve.bounds import BoolArray, growth_rate, lower_bound, set_bound, short_until
from corridor.solve.expand import expand
from corridor.solve.flows import maximum_flow
from corridor.solve.warm import ExpandedFlow, WarmStarts, carry, max_flow_from

Progress = Callable[[str], None]
SCOUT_MIN = 8  # no scout below 4 x this many steps: the search is cheap there anyway
# A max flow that falls short by at most this share of everyone starts the next, longer one (a
# warm start, corridor.solve.warm); from further below it would cost as much as one from nothing.
WARM_SHARE = 0.1


def people_out(problem: Problem, horizon: int) -> int:
    """The maximum number of people out by ``horizon`` steps."""
    exp = expand(problem, horizon)
    return maximum_flow(exp.tail, exp.head, exp.capacity, exp.source, exp.sink).value


def people_out_and_cut(problem: Problem, horizon: int) -> tuple[int, BoolArray]:
    """The maximum number of people out by ``horizon`` and the sources on the source side of a
    minimum cut (with people who cannot start by then): the sources not all out in every
    maximum flow's cut, whose own bound says how much longer they need."""
    out, short, _ = probe_flow(problem, horizon)
    return out, short


def probe_flow(
    problem: Problem, horizon: int, warm: ExpandedFlow | None = None, keep: bool = False
) -> tuple[int, BoolArray, ExpandedFlow | None]:
    """:func:`people_out_and_cut`, and with ``keep`` the max flow itself when it falls short by at
    most ``WARM_SHARE`` of everyone (for a longer horizon's to start from). ``warm``: a max flow for
    fewer steps to start from (:mod:`corridor.solve.warm`)."""
    exp = expand(problem, horizon)
    flow: ExpandedFlow | None = None
    if warm is not None:
        flow, side = max_flow_from(exp, carry(warm, exp), warm.value)
        out = flow.value
    else:
        solver = max_flow.SimpleMaxFlow()
        arcs = solver.add_arcs_with_capacity(exp.tail, exp.head, exp.capacity)
        status = solver.solve(exp.source, exp.sink)
        if status != solver.OPTIMAL:
            raise SolverError(f"max flow ended with status {status}")
        side = np.zeros(exp.n_nodes, dtype=bool)
        side[np.asarray(solver.get_source_side_min_cut(), dtype=np.int64)] = True
        out = int(solver.optimal_flow())
        if keep and _close(problem, out):
            flow = ExpandedFlow(exp, np.asarray(solver.flows(arcs), dtype=np.int64), out)
    short = problem.source_people > 0
    entered = np.zeros(len(short), dtype=bool)
    entered[exp.entry_source] = True
    short &= ~entered  # those who cannot leave by ``horizon`` at all
    entry_heads = exp.head[exp.blocks["entry"]]
    short[exp.entry_source[side[entry_heads]]] = True
    return out, short, flow if keep and _close(problem, out) else None


def _close(problem: Problem, out: int) -> bool:
    """Short of everyone, by at most ``WARM_SHARE`` of them."""
    return out < problem.people and problem.people - out <= WARM_SHARE * problem.people


def _scout(problem: Problem, lo: int, say: Progress) -> int:
    """``lo`` raised by the bound of the sources a minimum cut leaves behind at a quarter of it.

    Those are mostly the sources behind the bottleneck at every horizon, and their own bound is
    often the quickest time itself. That max flow costs a few percent of one at ``lo``; it proves
    nothing by itself: ``lo`` only moves by the bound of the set, which holds for any set."""
    if lo < 4 * SCOUT_MIN:
        return lo
    scout = lo // 4
    say(f"quickest time: scouting the bottleneck at {scout} steps")
    _, short = people_out_and_cut(problem, scout)
    return max(lo, set_bound(problem, short, lo + 1) - 1)


def quickest_steps(
    problem: Problem,
    *,
    feasible: int | None = None,
    infeasible: int = -1,
    infeasible_out: int | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    bound: int | None = None,
) -> int | None:
    """Least horizon (steps) at which everyone is out, or ``None`` if none up to ``limit``.

    ``feasible``: a horizon known to get everyone out; ``infeasible``: one known not to, and
    ``infeasible_out`` the people out by it if known. ``limit`` defaults to 16 times the larger of
    the horizon and the lower bound; ``bound``: :func:`~corridor.solve.bounds.lower_bound` if the
    caller has it already.
    """
    say = progress or (lambda _: None)
    bound = lower_bound(problem) if bound is None else bound
    if bound is None:
        return None
    rate = max(1, growth_rate(problem))
    if infeasible_out is not None and infeasible >= 0:
        infeasible = short_until(problem, infeasible, infeasible_out, rate)
    lo = max(infeasible, bound - 1)  # largest horizon known to fall short
    limit = limit or 16 * max(problem.horizon, bound, 1)
    hi, guess, misses = feasible, lo + 1, 0
    warm = WarmStarts()  # the longest max flow so far that fell short, if close

    def probe(h: int) -> bool:
        """Is ``h`` enough? When not, raise ``lo`` as far as the growth bound proves."""
        nonlocal lo, guess
        start = warm.start_for(h)
        say(
            f"quickest time: trying {h} steps"
            + (f" (from the flow for {start.exp.horizon})" if start else "")
        )
        out, short, flow = probe_flow(problem, h, start, keep=True)
        if out >= problem.people:
            return True
        warm.offer(flow)
        lo = max(lo, short_until(problem, h, out, rate))
        # Proved with or without closures: the sources left short need at least this long.
        lo = max(lo, set_bound(problem, short, h + 1) - 1)
        # Without closures the growth jump is proved; with them it is a guess, checked below.
        guess = max(lo + 1, h + max(1, math.ceil((problem.people - out) / rate)))
        return False

    if hi is None:
        lo = _scout(problem, lo, say)
        guess = lo + 1
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
