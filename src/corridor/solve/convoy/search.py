"""Local search on convoy plans: large-neighbourhood search around the greedy dispatcher.

A plan is the greedy plan first. Each step of the search destroys part of the best plan so far and
repairs it:

- **vehicles**: a few vehicles lose their trips from a random moment on;
- **window**: every vehicle loses its trips from a random moment on;
- **last**: a few vehicles lose their last trip (fewer, fuller trips);
- **gap**: the vehicles inspected just after the longest idle spell of a checkpoint lose their trips
  from a while before it (so that another order may fill it);
- **reception**: a vehicle loses its trips from one of them on, and makes that trip again to another
  reception point (one of the nearest to its gathering point with room) before the repair;
- **swap**: two vehicles lose their trips from two trips that start close in time, and each makes the
  other's trip (same gathering and reception point) before the repair;
- **end**: a few vehicles lose their last one to three trips and make, instead, the sequence of trips
  that brings out the most people by the deadline by the fastest drives (a small enumeration of the
  trips that arrive soonest; then the earliest arrival), so that one more may fit before the deadline.

The trips kept stay exactly as they were (removing trips only frees people, room at the reception
points and inspection slots); the trips a move prescribes are timed after them (skipped if they cannot
be made), and the repair sends every vehicle, the free first, on the trip a
randomised greedy choice prefers (:class:`~corridor.solve.convoy.schedule.Chooser` with noise on the
people moved per step). The new plan replaces the current one when it is no worse under
:func:`~corridor.solve.convoy.schedule.objective_key` (most people out by priority level, then the
earliest completion, then the fewest trips), so the result is never worse than greedy.

The search is anytime: it stops at ``time_limit`` seconds, after ``iterations`` steps, or after
``stall`` steps without improvement, or when the plan reaches the bound (every person out, or as many
as the bound allows, with nothing left to shorten). For a given ``seed`` and a search that stops by
its step counts (not by the clock), the plan is always the same. The clock counts from the start: the
greedy variants the search starts from (four dispatches) are tried only while there is time (the
first always, as a plan is needed), and what the limit left out is named in ``SearchResult.skipped``.
A caller may also stop it between two steps (``stop``: asked before each step; e.g. when a better
start has come from elsewhere).
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import Bounds
from corridor.solve.convoy.legs import NEVER, Legs
from corridor.solve.convoy.schedule import Chooser, Intent, Schedule, Timed, dispatch, objective_key

Progress = Callable[[int, int], None]  # (trips, people out) of the best plan so far
_LOOKAHEADS: tuple[int | None, ...] = (0, 0, 15, 60, None)
_END_WIDTH = 6  # trips tried at each level of the "end" move's enumeration (those that arrive soonest)


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
    stopped: str  # "time", "iterations", "stall", "bound" or "asked" (by ``stop``)
    moves: dict[str, tuple[int, int]] = field(default_factory=dict)  # move: (steps, improvements)
    # phases left out because the time limit was spent: "portfolio" (greedy variants after the first),
    # "steps" (not one step of the search)
    skipped: list[str] = field(default_factory=list)


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
        self._haul_steps: dict[int, np.ndarray] = {}
        self.end_width = _END_WIDTH

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

    def destroy(self, timed: list[Timed]) -> tuple[str, list[Timed], list[Intent]]:
        """A move: its name, the trips kept and the trips it prescribes next (before the repair)."""
        roll = self.rng.random()
        if roll < 0.35 or not timed:
            return "vehicles", self._cut(timed, self._some_vehicles(timed), self._moment(timed)), []
        if roll < 0.55:
            everyone = set(range(self.problem.n_vehicles))
            return "window", self._cut(timed, everyone, self._moment(timed)), []
        if roll < 0.65:
            last: dict[int, Timed] = {}
            for t in timed:
                last[t.vehicle] = t
            chosen = self._some_vehicles(timed)
            drop = {id(last[v]) for v in chosen if v in last}
            return "last", [t for t in timed if id(t) not in drop], []
        if roll < 0.75:
            return "gap", self._gap(timed), []
        if roll < 0.83:
            return "reception", *self._reception(timed)
        if roll < 0.9:
            return "swap", *self._swap(timed)
        return "end", *self._end(timed)

    def _reception(self, timed: list[Timed]) -> tuple[list[Timed], list[Intent]]:
        """Cut a vehicle from one of its trips on; that trip again, to another reception point."""
        chosen = self.rng.choice(timed)
        kept = self._cut(timed, {chosen.vehicle}, chosen.trip.approach.start)
        kind = int(self.problem.vehicle_type[chosen.vehicle])
        dests = self.problem.flow.dest_node.tolist()
        others = sorted(
            (self.legs.static_haul_steps(kind, chosen.gathering, int(d)), r)
            for r, d in enumerate(dests)
            if r != chosen.reception
        )
        others = [(steps, r) for steps, r in others if steps < NEVER][:3]
        if not others:
            return kept, []
        _, r = self.rng.choice(others)
        return kept, [Intent(chosen.vehicle, chosen.gathering, r)]

    def _swap(self, timed: list[Timed]) -> tuple[list[Timed], list[Intent]]:
        """Cut two vehicles from two trips that start close in time; each makes the other's trip."""
        a = self.rng.choice(timed)
        start = a.trip.approach.start
        near = sorted(
            (abs(t.trip.approach.start - start), i)
            for i, t in enumerate(timed)
            if t.vehicle != a.vehicle and t.gathering != a.gathering
        )[:8]
        if not near:
            return self._cut(timed, {a.vehicle}, start), []
        b = timed[self.rng.choice(near)[1]]
        kept = [
            t
            for t in timed
            if not (t.vehicle == a.vehicle and t.trip.approach.start >= start)
            and not (t.vehicle == b.vehicle and t.trip.approach.start >= b.trip.approach.start)
        ]
        forced = [Intent(a.vehicle, b.gathering, b.reception), Intent(b.vehicle, a.gathering, a.reception)]
        return kept, forced

    def _end(self, timed: list[Timed]) -> tuple[list[Timed], list[Intent]]:
        """Cut a few vehicles' last one to three trips; planned again below (:meth:`_end_trips`)."""
        chosen = self._some_vehicles(timed)
        by_vehicle: dict[int, list[Timed]] = {}
        for t in timed:
            if t.vehicle in chosen:
                by_vehicle.setdefault(t.vehicle, []).append(t)
        drop: set[int] = set()
        for trips in by_vehicle.values():
            drop |= {id(t) for t in trips[-self.rng.randint(1, 3) :]}
        return [t for t in timed if id(t) not in drop], [Intent(v, -1, -1) for v in sorted(chosen)]

    def _hauls(self, kind: int) -> np.ndarray:
        """Static haul steps from each gathering node to each reception point (fastest drives)."""
        hit = self._haul_steps.get(kind)
        if hit is None:
            p = self.problem
            hit = np.asarray(
                [
                    [self.legs.static_haul_steps(kind, int(g), int(d)) for d in p.flow.dest_node.tolist()]
                    for g in p.gathering_nodes.tolist()
                ],
                dtype=np.int64,
            ).reshape(len(p.gathering_nodes), len(p.flow.dest_ids))
            self._haul_steps[kind] = hit
        return hit

    def _end_trips(self, schedule: Schedule, vehicle: int) -> list[Intent]:
        """The trips (at most three) that bring out the most people for ``vehicle`` from its state in
        ``schedule`` by the deadline, then arrive earliest, by the fastest drives; at each level only
        the ``end_width`` trips that arrive soonest are tried."""
        p, legs = self.problem, self.legs
        if schedule.on_board(vehicle):
            return []
        kind = int(p.vehicle_type[vehicle])
        places = int(p.type_seats[kind] + p.type_stretchers[kind])
        load, unload = int(p.load_steps[kind]), int(p.unload_steps[kind])
        nodes = p.gathering_nodes
        at_node = schedule.waiting_at()
        waiting = np.asarray([at_node.get(int(g), 0) for g in nodes.tolist()], dtype=np.int64)
        dests = [int(d) for d in p.flow.dest_node.tolist()]
        rooms = np.asarray([r for r in range(len(dests)) if schedule.spare(r) > 0], dtype=np.int64)
        if not len(rooms) or not len(nodes):
            return []
        hauls = self._hauls(kind)[:, rooms]
        best: tuple[int, int, tuple[tuple[int, int], ...]] = (0, 0, ())

        def walk(
            node: int, at: int, left: np.ndarray, path: tuple[tuple[int, int], ...], people: int
        ) -> None:
            nonlocal best
            if (people, -at, -len(path)) > (best[0], best[1], -len(best[2])):
                best = (people, -at, path)
            if len(path) == 3:
                return
            arrive = at + legs.static_from(kind, node)[nodes][:, None] + load + hauls
            arrive[left <= 0, :] = NEVER
            flat = np.flatnonzero(arrive.ravel() <= p.horizon)
            if not len(flat):
                return
            soonest = flat[np.argsort(arrive.ravel()[flat], kind="stable")[: self.end_width]]
            for cell in soonest.tolist():
                i, j = divmod(cell, len(rooms))
                n = int(min(places, left[i]))
                after = left.copy()
                after[i] -= n
                walk(dests[int(rooms[j])], int(arrive[i, j]) + unload, after, (*path, (i, j)), people + n)

        walk(schedule.free_node[vehicle], schedule.free_at[vehicle], waiting, (), 0)
        return [Intent(vehicle, int(nodes[i]), int(rooms[j])) for i, j in best[2]]

    def repair(self, schedule: Schedule, forced: list[Intent]) -> Schedule:
        """Make the trips a move prescribes (those that can be made), in order; an intent with
        gathering point -1 stands for the "end" move's trips of its vehicle (:meth:`_end_trips`)."""
        for intent in forced:
            todo = self._end_trips(schedule, intent.vehicle) if intent.gathering < 0 else [intent]
            for step in todo:
                found = schedule.trip(step)
                if found is None:
                    break
                schedule.commit(found)
        return schedule

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
    def run(
        self,
        start: Schedule,
        time_limit: float,
        progress: Progress | None,
        stop: Callable[[], bool] | None = None,
    ) -> SearchResult:
        began = time.perf_counter()
        problem, settings = self.problem, self.settings
        best = current = start
        best_key = current_key = _key(problem, start)
        since = 0
        improvements = 0
        stopped = "iterations"
        moves: dict[str, tuple[int, int]] = {}
        i = 0
        for i in range(1, settings.iterations + 1):  # noqa: B007 (i is reported)
            if time.perf_counter() - began >= time_limit:
                stopped = "time"
                break
            if stop is not None and stop():
                stopped = "asked"
                break
            if since >= settings.stall:
                stopped = "stall"
                break
            if -sum(best_key[:-2]) >= self.bound and since >= settings.stall // 4:
                stopped = "bound"
                break
            move, kept, forced = self.destroy(current.timed)
            self.chooser.cycle = self.rng.random() < 0.5
            lookahead = self.rng.choice(_LOOKAHEADS)
            rebuilt = self.repair(current.rebuilt(kept), forced)
            candidate = dispatch(rebuilt, self.chooser, lookahead=lookahead)
            key = _key(problem, candidate)
            since += 1
            tried, better = moves.get(move, (0, 0))
            moves[move] = (tried + 1, better + (key < best_key))
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
        return SearchResult(best, i, improvements, time.perf_counter() - began, stopped, moves)


def _portfolio(problem: ConvoyProblem, legs: Legs, deadline: float = math.inf) -> tuple[Schedule, bool]:
    """The best of the deterministic greedy variants (free first or by type; cycle-aware or not) made
    by ``deadline`` (a ``time.perf_counter()``; the first is always made), and whether any was left out."""
    best: Schedule | None = None
    best_key: tuple[int, ...] | None = None
    for cycle, lookahead in itertools.product((True, False), (0, None)):
        if best is not None and time.perf_counter() >= deadline:
            return best, True
        schedule = dispatch(Schedule(problem, legs), Chooser(problem, cycle=cycle), lookahead=lookahead)
        key = _key(problem, schedule)
        if best_key is None or key < best_key:
            best, best_key = schedule, key
    assert best is not None
    return best, False


def search(
    problem: ConvoyProblem,
    legs: Legs,
    *,
    time_limit: float = 30.0,
    settings: SearchSettings = SearchSettings(),
    bound: int | None = None,
    start: Schedule | None = None,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> SearchResult:
    """Improve ``start`` (default: the greedy plan) for at most ``time_limit`` seconds, counted from the
    call (the greedy variants of the default start included), or until ``stop()`` is true before a
    step."""
    began = time.perf_counter()
    skipped: list[str] = []
    if start is None:
        start, short = _portfolio(problem, legs, began + time_limit)
        skipped += ["portfolio"] if short else []
    if progress is not None:
        progress(len(start.trips), problem.people - start.waiting_people())
    left = max(0.0, time_limit - (time.perf_counter() - began))
    result = _Search(problem, legs, settings, bound).run(start, left, progress, stop)
    if result.stopped == "time" and not result.moves:
        skipped.append("steps")
    result.skipped = skipped
    result.seconds = time.perf_counter() - began
    return result


def search_method(
    problem: ConvoyProblem, legs: Legs, bounds: Bounds, time_limit: float, progress: Progress | None
) -> tuple[Schedule, str]:
    """``solve_convoy``'s method "search": :func:`search` up to ``time_limit`` seconds."""
    result = search(problem, legs, time_limit=time_limit, bound=bounds.best[0], progress=progress)
    return result.schedule, "feasible"


__all__ = ["SearchResult", "SearchSettings", "search", "search_method"]
