"""Local search on convoy plans: large-neighbourhood search around the greedy dispatcher.

A plan is the greedy plan first. Each step of the search destroys part of the best plan so far and
repairs it:

- **vehicles**: a few vehicles lose their trips from a random moment on;
- **window**: every vehicle loses its trips from a random moment on;
- **last**: a few vehicles lose their last trip (fewer, fuller trips);
- **gap**: the vehicles inspected just after the longest idle spell of a checkpoint lose their trips
  from a while before it (so that another order may fill it).

The trips kept stay exactly as they were (removing trips only frees people, room at the reception
points and inspection slots), and the repair sends every vehicle, the free first, on the trip a
randomised greedy choice prefers (:class:`~corridor.solve.convoy.schedule.Chooser` with noise on the
people moved per step). The new plan replaces the current one when it is no worse under
:func:`~corridor.solve.convoy.schedule.objective_key` (most people out by priority level, then the
earliest completion, then the fewest trips), so the result is never worse than greedy.

The search is anytime: it stops at ``time_limit`` seconds, after ``iterations`` steps, or after
``stall`` steps without improvement, or when the plan reaches the bound (every person out, or as many
as the bound allows, with nothing left to shorten). For a given ``seed`` and a search that stops by
its step counts (not by the clock), the plan is always the same.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import Bounds
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Chooser, Schedule, Timed, dispatch, objective_key

Progress = Callable[[int, int], None]  # (trips, people out) of the best plan so far
_LOOKAHEADS: tuple[int | None, ...] = (0, 0, 15, 60, None)


@dataclass(frozen=True)
class SearchSettings:
    """Budget and randomness of :func:`search` (see the module's documentation)."""

    seed: int = 0
    iterations: int = 2_000
    stall: int = 300
    noise: float = 0.35
    temperature: float = 0.0  # people; > 0 accepts a worse plan with probability exp(-loss / t)


@dataclass
class SearchResult:
    schedule: Schedule
    iterations: int
    improvements: int
    seconds: float
    stopped: str  # "time", "iterations", "stall" or "bound"


def _key(problem: ConvoyProblem, schedule: Schedule) -> tuple[int, ...]:
    return objective_key(problem, schedule.trips)


def _loss(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """How much worse key ``b`` is than ``a`` in its first differing component (0 if not worse)."""
    for x, y in zip(a, b, strict=True):
        if x != y:
            return float(max(0, y - x))
    return 0.0


class _Search:
    def __init__(
        self, problem: ConvoyProblem, legs: Legs, settings: SearchSettings, bound: int | None
    ) -> None:
        self.problem = problem
        self.legs = legs
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.chooser = Chooser(problem, noise=settings.noise, rng=self.rng)
        self.bound = problem.people if bound is None else min(bound, problem.people)

    # -- destroy ---------------------------------------------------------------------------------
    def _cut(self, timed: list[Timed], vehicles: set[int], moment: int) -> list[Timed]:
        """``timed`` without the trips of ``vehicles`` whose approach starts at ``moment`` or later."""
        return [t for t in timed if t.vehicle not in vehicles or t.trip.approach.start < moment]

    def _some_vehicles(self, timed: list[Timed]) -> set[int]:
        n = self.problem.n_vehicles
        used = sorted({t.vehicle for t in timed}) or list(range(n))
        k = self.rng.randint(1, max(1, min(len(used), 2 + n // 8)))
        return set(self.rng.sample(used, k))

    def _moment(self, timed: list[Timed]) -> int:
        if timed and self.rng.random() < 0.7:
            return self.rng.choice(timed).trip.approach.start
        return self.rng.randint(0, max(0, self.problem.horizon))

    def destroy(self, timed: list[Timed]) -> tuple[str, list[Timed]]:
        roll = self.rng.random()
        if roll < 0.45 or not timed:
            return "vehicles", self._cut(timed, self._some_vehicles(timed), self._moment(timed))
        if roll < 0.7:
            everyone = set(range(self.problem.n_vehicles))
            return "window", self._cut(timed, everyone, self._moment(timed))
        if roll < 0.85:
            last: dict[int, Timed] = {}
            for t in timed:
                last[t.vehicle] = t
            chosen = self._some_vehicles(timed)
            drop = {id(last[v]) for v in chosen if v in last}
            return "last", [t for t in timed if id(t) not in drop]
        return "gap", self._gap(timed)

    def _gap(self, timed: list[Timed]) -> list[Timed]:
        """Cut the vehicles inspected right after the longest idle spell of a checkpoint."""
        spells: list[tuple[int, int, int]] = []  # (length, checkpoint, end of the spell)
        by_checkpoint: dict[int, list[tuple[int, int, int]]] = {}
        for t in timed:
            for c, s, e in t.bookings:
                by_checkpoint.setdefault(c, []).append((s, e, t.vehicle))
        for c, items in sorted(by_checkpoint.items()):
            items.sort()
            for (_, e0, _), (s1, _, _) in itertools.pairwise(items):
                if s1 > e0:
                    spells.append((s1 - e0, c, s1))
        if not spells:
            return self._cut(timed, self._some_vehicles(timed), self._moment(timed))
        spells.sort(reverse=True)
        length, c, end = spells[self.rng.randrange(min(3, len(spells)))]
        after = sorted(by_checkpoint[c], key=lambda x: x[0])
        vehicles = {v for s, _, v in after if end <= s < end + 4 * length + 1}
        vehicles |= self._some_vehicles(timed) if self.rng.random() < 0.5 else set()
        return self._cut(timed, vehicles, max(0, end - 3 * length - self.rng.randint(0, 60)))

    # -- run -------------------------------------------------------------------------------------
    def run(self, start: Schedule, time_limit: float, progress: Progress | None) -> SearchResult:
        began = time.perf_counter()
        problem, settings = self.problem, self.settings
        best = current = start
        best_key = current_key = _key(problem, start)
        since = 0
        improvements = 0
        stopped = "iterations"
        i = 0
        for i in range(1, settings.iterations + 1):  # noqa: B007 (i is reported)
            if time.perf_counter() - began >= time_limit:
                stopped = "time"
                break
            if since >= settings.stall:
                stopped = "stall"
                break
            if -sum(best_key[:-2]) >= self.bound and since >= settings.stall // 4:
                stopped = "bound"
                break
            _, kept = self.destroy(current.timed)
            self.chooser.cycle = self.rng.random() < 0.5
            lookahead = self.rng.choice(_LOOKAHEADS)
            candidate = dispatch(current.rebuilt(kept), self.chooser, lookahead=lookahead)
            key = _key(problem, candidate)
            since += 1
            if key < best_key:
                best, best_key = candidate, key
                since = 0
                improvements += 1
                if progress is not None:
                    progress(len(best.trips), problem.people - best.waiting_people())
            if key <= current_key or (
                settings.temperature > 0
                and self.rng.random() < math.exp(-_loss(current_key, key) / settings.temperature)
            ):
                current, current_key = candidate, key
            elif since and since % 50 == 0:
                current, current_key = best, best_key
        return SearchResult(best, i, improvements, time.perf_counter() - began, stopped)


def _portfolio(problem: ConvoyProblem, legs: Legs) -> Schedule:
    """The best of the deterministic greedy variants (free first or by type; cycle-aware or not)."""
    best: Schedule | None = None
    best_key: tuple[int, ...] | None = None
    for cycle in (True, False):
        for lookahead in (0, None):
            schedule = dispatch(Schedule(problem, legs), Chooser(problem, cycle=cycle), lookahead=lookahead)
            key = _key(problem, schedule)
            if best_key is None or key < best_key:
                best, best_key = schedule, key
    assert best is not None
    return best


def search(
    problem: ConvoyProblem,
    legs: Legs,
    *,
    time_limit: float = 30.0,
    settings: SearchSettings = SearchSettings(),
    bound: int | None = None,
    start: Schedule | None = None,
    progress: Progress | None = None,
) -> SearchResult:
    """Improve ``start`` (default: the greedy plan) for at most ``time_limit`` seconds."""
    began = time.perf_counter()
    if start is None:
        start = _portfolio(problem, legs)
    if progress is not None:
        progress(len(start.trips), problem.people - start.waiting_people())
    left = max(0.0, time_limit - (time.perf_counter() - began))
    return _Search(problem, legs, settings, bound).run(start, left, progress)


def search_method(
    problem: ConvoyProblem, legs: Legs, bounds: Bounds, time_limit: float, progress: Progress | None
) -> tuple[Schedule, str]:
    """``solve_convoy``'s method "search": :func:`search` up to ``time_limit`` seconds."""
    result = search(problem, legs, time_limit=time_limit, bound=bounds.best[0], progress=progress)
    return result.schedule, "feasible"


__all__ = ["SearchResult", "SearchSettings", "search", "search_method"]
