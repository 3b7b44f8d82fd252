"""The walk relaxation (:mod:`.walks`) solved exactly: one column (trips per gathering point) per vehicle.

Covering people needs only how many trips each vehicle makes to each gathering point (its **count
vector** ``c``); the least time of the trips of ``c`` over every order is a small dynamic programme
over (counts, last point)::

    f(e_g, g) = first(g),   f(c, g) = min_h step(h, g, f(c - e_g, h)),   time(c) = min_g end(g, f(c, g))

where ``f`` is the step by which the vehicle has boarded at its last point, timed with the closures in
force (:class:`Timing`: every drive at its earliest around closures, inspections at their shortest
with no queue; a later departure never arrives sooner, so the earliest ``f`` of each state is the one
to keep). Every real plan times each vehicle's trips no sooner, and leaving a trip out never makes a
walk later, hence the columns can be cut: a vehicle makes no more trips to ``g`` than its places need
to carry ``g``'s people alone (seats for those who sit, stretcher places for the wounded, as
:func:`.walks.walk_programme` counts them), no more trips than its slots, and no column is later than
a known plan's completion (``ceiling``). Identical vehicles (type, start, ready time, slots) share
their columns. Without closures the times are those of :func:`.walks.vehicle_costs`.

A small integer programme (CP-SAT, in its worker process) then chooses a column per vehicle whose
places hold everyone: the least completion ``T`` is found by bisection over the columns' times (is
there a choice among the columns done by ``T``?; only the columns no other trip can be added to by
``T`` are needed, since times grow with counts), then, at ``T``, the fewest trips. Both are the exact
optimum of the relaxation, so ``T`` is a floor on the completion of every plan bringing everyone out,
and the trips a floor on the trips of every such plan completing by ``T``. The chosen columns in the
dynamic programme's orders are walks that :func:`.walks.walk_plan` books into a plan.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from corridor.problem.convoy import ConvoyProblem
from corridor.solve import cpsat_process
from corridor.solve.convoy.legs import NEVER, Legs
from corridor.solve.convoy.schedule import Schedule, objective_key
from corridor.solve.convoy.walks import Costs, Walk, WalkSolution, _demand, book_walks, vehicle_costs

Counts = tuple[int, ...]
MOST_STATES = 300_000  # (counts, last point) states of one class: beyond, no columns (memory)
Choice = list[tuple[int, int, int]]  # (class, column, vehicles taking it)


class Timing:
    """The least times of one vehicle's trips with the closures in force (see the module): a drive
    leaving at a step arrives at its earliest (:meth:`.legs.Legs.drive`, around closures, waiting
    allowed; later departures never arrive sooner), a haul around every checkpoint or through one
    inspected at its shortest from the arrival (no queue, no hold), boarding and unloading at their
    steps. Every real trip is timed no sooner; a walk's time is its last loaded arrival, and leaving a
    trip out never makes a walk later (an empty drive at its earliest is never later than the trips it
    replaces, themselves drives with waits)."""

    def __init__(self, problem: ConvoyProblem, legs: Legs, v: int) -> None:
        self.problem, self.legs = problem, legs
        self.kind = int(problem.vehicle_type[v])
        self.load = int(problem.load_steps[self.kind])
        self.unload = int(problem.unload_steps[self.kind])
        self.start, self.ready = int(problem.vehicle_node[v]), int(problem.vehicle_ready[v])
        self.dests = [int(d) for d in problem.flow.dest_node.tolist()]
        self.cps = frozenset(int(c) for c in problem.flow.checkpoint_node.tolist())
        self._hauls: dict[tuple[int, int], list[int]] = {}
        self._steps: dict[tuple[int, int, int], int] = {}

    def _arrival(self, origin: int, target: int, ready: int, avoid: frozenset[int] = frozenset()) -> int:
        if ready >= NEVER:
            return int(NEVER)
        path = self.legs.drive(self.kind, origin, target, ready, avoid)
        return int(NEVER) if path is None else path.arrival

    def haul(self, g: int, d: int, ready: int) -> int:
        """The least loaded arrival at ``d`` leaving ``g`` at ``ready`` (NEVER if none)."""
        ends = {g, d} & self.cps
        if len(ends) > 1:
            return int(NEVER)
        best = int(NEVER) if ends else self._arrival(g, d, ready, self.cps)
        for c, node in enumerate(self.problem.flow.checkpoint_node.tolist()):
            if ends and node not in ends:
                continue
            others = self.cps - {node}
            first = self._arrival(g, node, ready, others)
            if first >= NEVER:
                continue
            if node == d:
                best = min(best, first)
                continue
            need = self.problem.inspection_steps(c, 1)
            best = min(best, self._arrival(node, d, first + need, others))
        return best

    def hauls(self, g: int, ready: int) -> list[int]:
        """:meth:`haul` to each reception point."""
        hit = self._hauls.get((g, ready))
        if hit is None:
            hit = [self.haul(g, d, ready) for d in self.dests]
            self._hauls[g, ready] = hit
        return hit

    def first(self, g: int) -> int:
        """The least step by which the vehicle has boarded at ``g`` on its first trip."""
        arrival = self._arrival(self.start, g, self.ready)
        return arrival + self.load if arrival < NEVER else int(NEVER)

    def end(self, g: int, boarded: int) -> int:
        """The least loaded arrival of a trip boarded at ``g`` by ``boarded``."""
        return min(self.hauls(g, boarded), default=int(NEVER))

    def step(self, g: int, h: int, boarded: int) -> int:
        """The least step by which the vehicle has boarded at ``h`` after boarding at ``g`` by
        ``boarded`` (the trip from ``g`` to any reception point, unloading, the drive to ``h``)."""
        key = (g, h, boarded)
        hit = self._steps.get(key)
        if hit is None:
            hit = int(NEVER)
            for d, arrival in zip(self.dests, self.hauls(g, boarded), strict=True):
                if arrival < NEVER:
                    back = self._arrival(d, h, arrival + self.unload)
                    if back < NEVER:
                        hit = min(hit, back + self.load)
            self._steps[key] = hit
        return hit

    def time(self, walk: Walk) -> int:
        """The least last loaded arrival of ``walk`` (0 for no trip; NEVER if it cannot be driven)."""
        if not walk:
            return 0
        boarded = self.first(walk[0])
        for g, h in itertools.pairwise(walk):
            if boarded >= NEVER:
                return int(NEVER)
            boarded = self.step(g, h, boarded)
        return self.end(walk[-1], boarded) if boarded < NEVER else int(NEVER)


@dataclass
class Columns:
    """The columns of one class of identical vehicles: ``points`` (gathering nodes, in the order of
    the count vectors), ``counts`` (one count vector a row, the empty one first) and ``times`` (their
    least times; 0 for the empty one), and the programme's table ``(counts, last) -> (f, previous)``
    from which :meth:`walk` rebuilds the order."""

    vehicles: tuple[int, ...]
    points: tuple[int, ...]
    counts: np.ndarray
    times: np.ndarray
    last: list[int]  # per column: the last point's index of its best order (-1 for the empty one)
    table: dict[tuple[Counts, int], tuple[int, int]]

    def walk(self, column: int) -> Walk:
        """The gathering nodes of ``column``'s trips in its best order."""
        c = [int(x) for x in self.counts[column]]
        g = self.last[column]
        order: list[int] = []
        while g >= 0:
            order.append(self.points[g])
            key = tuple(c)
            _, previous = self.table[key, g]
            c[g] -= 1
            g = previous
        return tuple(reversed(order))


def _class_key(problem: ConvoyProblem, v: int, slots: Sequence[int]) -> tuple[int, int, int, int]:
    return (
        int(problem.vehicle_type[v]),
        int(problem.vehicle_node[v]),
        int(problem.vehicle_ready[v]),
        int(slots[v]),
    )


def _caps(
    problem: ConvoyProblem,
    v: int,
    points: Sequence[int],
    rows: Sequence[tuple[int, bool]],
    people: Sequence[int],
) -> list[int]:
    """The most trips vehicle ``v`` needs to make to each point: enough to carry its people alone."""
    seats, stretchers = problem.capacity(v)
    need = dict(zip(rows, people, strict=True))
    caps = []
    for g in points:
        cap = 0
        for places, row in ((seats, (g, False)), (stretchers, (g, True))):
            if places and need.get(row, 0) > 0:
                cap = max(cap, math.ceil(need[row] / places))
        caps.append(cap)
    return caps


def class_columns(
    timing: Timing, nodes: Sequence[int], caps: Sequence[int], most: int, ceiling: int, stop: float
) -> (
    tuple[tuple[int, ...], list[Counts], list[int], list[int], dict[tuple[Counts, int], tuple[int, int]]]
    | None
):
    """The count vectors over ``nodes`` (at most ``caps`` trips per point, ``most`` in all) whose least
    time under ``timing`` is at most ``ceiling``, with their times, last points and the programme's
    table; None where ``stop`` (a perf_counter time) passed or the states exceed :data:`MOST_STATES`."""
    points = tuple(g for g, cap in zip(nodes, caps, strict=True) if cap > 0)
    pcaps = [cap for cap in caps if cap > 0]
    n = len(points)
    big = 1 << 60
    table: dict[tuple[Counts, int], tuple[int, int]] = {}
    level: dict[Counts, dict[int, int]] = {}
    zero = [0] * n
    for i in range(n):
        first = timing.first(points[i])
        if first < NEVER and timing.end(points[i], first) <= ceiling:
            one = zero.copy()
            one[i] = 1
            key = tuple(one)
            level.setdefault(key, {})[i] = first
            table[key, i] = (first, -1)
    counts: list[Counts] = [tuple(zero)]
    times: list[int] = [0]
    lasts: list[int] = [-1]
    size = 1
    while level:
        if time.perf_counter() > stop:
            return None
        for c, ends in level.items():
            done = {i: timing.end(points[i], f) for i, f in ends.items()}
            best = min(done, key=lambda i: done[i])
            counts.append(c)
            times.append(done[best])
            lasts.append(best)
        if size >= most:
            break
        size += 1
        nxt: dict[Counts, dict[int, int]] = {}
        for made, (c, ends) in enumerate(level.items()):
            if made % 256 == 0 and (time.perf_counter() > stop or len(table) > MOST_STATES):
                return None
            for h in range(n):
                if c[h] >= pcaps[h]:
                    continue
                options = [(timing.step(points[g], points[h], f), g) for g, f in ends.items()]
                f, g = min(options)
                if f >= NEVER or timing.end(points[h], f) > ceiling:
                    continue
                lc = list(c)
                lc[h] += 1
                key = tuple(lc)
                row = nxt.setdefault(key, {})
                if f < row.get(h, big):
                    row[h] = f
                    table[key, h] = (f, g)
        level = nxt
    return points, counts, times, lasts, table


def _columns(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    ceiling: int,
    rows: Sequence[tuple[int, bool]],
    people: Sequence[int],
    stop: float,
) -> tuple[list[Columns], dict[int, Costs]] | None:
    classes: dict[tuple[int, int, int, int], list[int]] = {}
    for v in range(problem.n_vehicles):
        classes.setdefault(_class_key(problem, v, slots), []).append(v)
    out: list[Columns] = []
    costs: dict[int, Costs] = {}
    for vehicles in classes.values():
        v = vehicles[0]
        cost = vehicle_costs(problem, legs, v)
        for w in vehicles:
            costs[w] = cost
        nodes = sorted({int(g) for g in problem.flow.source_node.tolist()})
        caps = _caps(problem, v, nodes, rows, people)
        made = class_columns(Timing(problem, legs, v), nodes, caps, int(slots[v]), ceiling, stop)
        if made is None:
            return None
        points, counts, times, lasts, table = made
        out.append(
            Columns(
                tuple(vehicles),
                points,
                np.asarray(counts, dtype=np.int64).reshape(len(counts), len(points)),
                np.asarray(times, dtype=np.int64),
                lasts,
                table,
            )
        )
    return out, costs


def _choose(
    problem: ConvoyProblem,
    classes: Sequence[Columns],
    picked: Sequence[np.ndarray],
    rows: Sequence[tuple[int, bool]],
    people: Sequence[int],
    trips: bool,
    time_limit: float,
    workers: int,
) -> tuple[str, list[tuple[int, int, int]]]:
    """How many vehicles of each class take each picked column (``picked[k]``: column indices of
    class ``k``) so that their places hold everyone (fewest trips if ``trips``, else any), by CP-SAT
    in its worker process: the status (``"optimal"``, ``"infeasible"`` or ``"unknown"``) and the
    choice (class, column, vehicles)."""
    m = cp_model.CpModel()
    held: dict[tuple[int, bool], list[cp_model.LinearExprT]] = {r: [] for r in rows}
    chosen: list[tuple[int, int, cp_model.IntVar]] = []
    sizes: list[cp_model.LinearExprT] = []
    for k, (cl, columns) in enumerate(zip(classes, picked, strict=True)):
        seats, stretchers = problem.capacity(cl.vehicles[0])
        per_point: dict[int, list[cp_model.LinearExprT]] = {}
        ys = []
        for j in columns.tolist():
            c = cl.counts[j]
            if not c.any():
                continue
            y = m.new_int_var(0, len(cl.vehicles), f"y{k}_{j}")
            ys.append(y)
            chosen.append((k, j, y))
            sizes.append(int(c.sum()) * y)
            for i in np.flatnonzero(c).tolist():
                per_point.setdefault(cl.points[i], []).append(int(c[i]) * y)
        if not ys:
            continue
        m.add(sum(ys) <= len(cl.vehicles))
        for g, terms in per_point.items():
            n = m.new_int_var(0, len(cl.vehicles) * int(cl.counts.max(initial=0)), f"n{k}_{g}")
            m.add(n == sum(terms))
            for places, row in ((seats, (g, False)), (stretchers, (g, True))):
                if places and row in held:
                    held[row].append(places * n)
    for row, need in zip(rows, people, strict=True):
        m.add(sum(held[row]) >= need)
    if trips:
        m.minimize(sum(sizes))
    parameters = cp_model.CpSolver().parameters
    parameters.max_time_in_seconds = max(0.05, time_limit)
    parameters.num_workers = workers
    solved = cpsat_process.solve(m, parameters)
    if solved.status == cp_model.INFEASIBLE:
        return "infeasible", []
    if solved.status != cp_model.OPTIMAL:
        return "unknown", []
    return "optimal", [(k, j, v) for k, j, y in chosen if (v := int(solved.value(y))) > 0]


def _maximal(cl: Columns, within: float) -> np.ndarray:
    """The columns done by ``within`` to which no trip can be added by then (times grow with counts,
    so every column done by then is below one of them)."""
    ok = cl.times <= within
    index = {tuple(int(x) for x in c): j for j, c in enumerate(cl.counts)}
    out = []
    for j in np.flatnonzero(ok).tolist():
        c = list(int(x) for x in cl.counts[j])
        grows = False
        for i in range(len(c)):
            c[i] += 1
            other = index.get(tuple(c))
            c[i] -= 1
            if other is not None and cl.times[other] <= within:
                grows = True
                break
        if not grows:
            out.append(j)
    return np.asarray(out, dtype=np.int64)


def _bisect(
    times: Sequence[int], feasible: Callable[[int], tuple[str, Choice]], known_top: bool
) -> tuple[int, int, Choice]:
    """The least of ``times`` at which ``feasible`` finds a choice, by bisection: ``(lo, hi, choice)``
    with ``times[lo]`` proved infeasible (-1: none) and ``times[hi]`` feasible by ``choice``
    (``len(times)``: none found; ``hi - lo > 1`` where a solve ran out of time). Where ``known_top``
    (a plan's walks are a choice by the last time), the last time is taken as feasible without a
    choice (the solves far above the least are the slow ones)."""
    lo, hi = -1, len(times) - 1 if known_top else len(times)
    choice: Choice = []
    while hi - lo > 1:
        mid = (lo + hi) // 2 if hi < len(times) else len(times) - 1
        status, found = feasible(times[mid])
        if status == "unknown":
            break
        if status == "optimal":
            hi, choice = mid, found
        else:
            lo = mid
    return lo, hi, choice


@dataclass
class ColumnSolution:
    """The walk relaxation's optimum as far as it was solved: ``floor`` (a lower bound on the
    completion of every plan bringing everyone out; ``least`` says whether it is the relaxation's
    exact optimum), ``trips_floor`` (at completion ``floor``, a lower bound on the trips of every plan
    bringing everyone out by then, or None where not proved), the walks chosen (None where no choice
    was found), the other choices found on the way (later ones, soonest first: their real times may
    book better) and what was solved (``columns`` per class, ``solves`` with seconds)."""

    floor: int
    least: bool
    trips_floor: int | None
    walks: WalkSolution | None
    others: list[WalkSolution]
    columns: list[int]
    solves: list[str]
    seconds: float

    def note(self) -> str:
        """A line for the exact method's log."""
        walks = "" if self.walks is None else f":walks:{self.walks.completion}+{self.walks.trips}"
        trips = "" if self.trips_floor is None else f"+{self.trips_floor}"
        return f"columns:floor:{self.floor}{trips}{'' if self.least else '?'}{walks}:{self.seconds:.1f}s"


def walk_columns(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    time_limit: float,
    ceiling: int | None = None,
    workers: int = 1,
) -> ColumnSolution | None:
    """The walk relaxation's exact optimum (least completion, then fewest trips; see the module) with
    at most ``slots[v]`` trips per vehicle ``v`` and no walk later than ``ceiling`` (the horizon if
    None; a plan bringing everyone out by ``ceiling`` with at most ``slots`` trips per vehicle is then
    taken to be known). None where vehicles start with people on board, the columns were not made within
    ``time_limit`` seconds or no choice holds everyone by ``ceiling``. Raises
    :class:`~corridor.solve.cpsat_process.SolverCrashError` where CP-SAT crashes."""
    began = time.perf_counter()
    stop = began + time_limit
    if len(slots) != problem.n_vehicles:
        raise ValueError(
            f"walk_columns needs one slot count per vehicle: {len(slots)} for {problem.n_vehicles}"
        )
    if any(problem.vehicle_on_board):
        return None
    rows, people = _demand(problem)
    top = problem.horizon if ceiling is None else min(ceiling, problem.horizon)
    made = _columns(problem, legs, slots, top, rows, people, stop)
    if made is None:
        return None
    classes, costs = made
    solves: list[str] = [f"columns:{time.perf_counter() - began:.1f}s"]
    found_on_the_way: list[Choice] = []

    def walks_of(choice: Choice, floor: int, proved: bool) -> WalkSolution:
        walks: dict[int, Walk] = {v: () for v in range(problem.n_vehicles)}
        for k, j, count in choice:
            cl = classes[k]
            free = [v for v in cl.vehicles if not walks[v]]
            for v in free[:count]:
                walks[v] = cl.walk(j)
        completion = max((costs[v].time(w) for v, w in walks.items() if w), default=0)
        trips = sum(len(w) for w in walks.values())
        return WalkSolution(walks, completion, trips, floor, proved, costs)

    def feasible(t: int) -> tuple[str, Choice]:
        left = stop - time.perf_counter()
        if left < 0.05:
            return "unknown", []
        found = _choose(
            problem, classes, [_maximal(cl, t) for cl in classes], rows, people, False, left, workers
        )
        solves.append(f"{t}:{found[0]}:{time.perf_counter() - began:.1f}s")
        if found[0] == "optimal":
            found_on_the_way.append(found[1])
        return found

    times = sorted({int(t) for cl in classes for t in cl.times.tolist()})
    lo, hi, choice = _bisect(times, feasible, ceiling is not None)
    columns = [len(cl.times) for cl in classes]
    if hi - lo > 1 or hi >= len(times):
        if lo < 0 and not found_on_the_way:
            return None
        # the least completion not found: a floor only (the next time after one proved too soon)
        floor = times[lo + 1] if lo + 1 < len(times) else times[lo] + 1
        others = [walks_of(c, floor, False) for c in reversed(found_on_the_way)]
        walks = others.pop(0) if others else None
        seconds = time.perf_counter() - began
        return ColumnSolution(floor, False, None, walks, others, columns, solves, seconds)
    least = times[hi]
    left = stop - time.perf_counter()
    status, fewest = "unknown", list[tuple[int, int, int]]()
    if left >= 0.05:
        status, fewest = _choose(
            problem,
            classes,
            [np.flatnonzero(cl.times <= least) for cl in classes],
            rows,
            people,
            True,
            left,
            workers,
        )
        solves.append(f"trips:{status}:{time.perf_counter() - began:.1f}s")
    if status == "optimal":
        choice = fewest
    solution = walks_of(choice, least, status == "optimal") if choice or status == "optimal" else None
    trips_floor = solution.trips if solution is not None and solution.proved else None
    others = [walks_of(c, least, False) for c in reversed(found_on_the_way) if c is not choice]
    seconds = time.perf_counter() - began
    return ColumnSolution(least, True, trips_floor, solution, others, columns, solves, seconds)


def _places_sent(
    m: cp_model.CpModel, problem: ConvoyProblem, classes: Sequence[Columns], rows: Sequence[tuple[int, bool]]
) -> dict[tuple[int, bool], list[cp_model.LinearExprT]]:
    """A column done by the deadline per vehicle (variables of ``m``), only those to which no trip
    can be added by then: the places they send to each demand row."""
    places: dict[tuple[int, bool], list[cp_model.LinearExprT]] = {r: [] for r in rows}
    for k, cl in enumerate(classes):
        seats, stretchers = problem.capacity(cl.vehicles[0])
        per_point: dict[int, list[cp_model.LinearExprT]] = {}
        ys = []
        for j in _maximal(cl, problem.horizon).tolist():
            c = cl.counts[j]
            if not c.any():
                continue
            y = m.new_int_var(0, len(cl.vehicles), f"y{k}_{j}")
            ys.append(y)
            for i in np.flatnonzero(c).tolist():
                per_point.setdefault(cl.points[i], []).append(int(c[i]) * y)
        if ys:
            m.add(sum(ys) <= len(cl.vehicles))
        for g, terms in per_point.items():
            for room, row in ((seats, (g, False)), (stretchers, (g, True))):
                if room and row in places:
                    places[row].append(room * sum(terms))
    return places


def people_ceiling_walks(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    weights: Sequence[int],
    time_limit: float,
    workers: int = 1,
) -> int | None:
    """An upper bound on the people out by the deadline, each priority level ``i`` (most urgent
    first) weighing ``weights[i]``, over the plans with at most ``slots[v]`` trips of vehicle ``v``:
    each vehicle's trips arriving by the deadline are a walk whose least time (see the module) is
    within it, so a column done by the deadline; the people out of a gathering point are at most its
    people and the places sent there (seats for those who sit, stretcher places for the wounded). Only
    the columns to which no trip can be added by the deadline are needed. None where vehicles start
    with people on board or nothing was proved in ``time_limit`` seconds. Raises
    :class:`~corridor.solve.cpsat_process.SolverCrashError` where CP-SAT crashes."""
    if len(slots) != problem.n_vehicles:
        raise ValueError(
            f"people_ceiling_walks needs one slot count per vehicle: {len(slots)} for {problem.n_vehicles}"
        )
    if any(problem.vehicle_on_board):
        return None
    began = time.perf_counter()
    flow = problem.flow
    levels = sorted(set(flow.group_priority.tolist()))
    if len(weights) != len(levels):
        raise ValueError(f"one weight per priority level is needed: {len(weights)} for {len(levels)}")
    rows, people = _demand(problem)
    made = _columns(problem, legs, slots, problem.horizon, rows, people, began + time_limit)
    if made is None:
        return None
    classes, _ = made
    m = cp_model.CpModel()
    places = _places_sent(m, problem, classes, rows)
    out: dict[tuple[int, bool], list[cp_model.LinearExprT]] = {r: [] for r in rows}
    goal: list[cp_model.LinearExprT] = []
    for s, (node, n, group) in enumerate(
        zip(flow.source_node.tolist(), flow.source_people.tolist(), flow.source_group.tolist(), strict=True)
    ):
        if n <= 0:
            continue
        x = m.new_int_var(0, int(n), f"out{s}")
        out[int(node), bool(problem.source_stretcher[s])].append(x)
        goal.append(weights[levels.index(int(flow.group_priority[int(group)]))] * x)
    for row in rows:
        m.add(sum(out[row]) <= sum(places[row]))
    m.maximize(sum(goal))
    parameters = cp_model.CpSolver().parameters
    parameters.max_time_in_seconds = max(0.05, time_limit - (time.perf_counter() - began))
    parameters.num_workers = workers
    solved = cpsat_process.solve(m, parameters)
    if solved.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return math.floor(solved.best_objective_bound + 1e-6)


def _people_choice(
    problem: ConvoyProblem,
    classes: Sequence[Columns],
    rows: Sequence[tuple[int, bool]],
    weights: Sequence[int],
    deadline: int,
    time_limit: float,
) -> tuple[dict[int, Walk], int | None] | None:
    """The walks of a choice of columns done by ``deadline`` (one per vehicle) sending the most
    weighted people out as :func:`people_ceiling_walks` counts them (HiGHS, in this process: the model
    is small) and, where HiGHS proved the choice optimal, its weighted people out (by the horizon, the
    walk ceiling itself), or None where no solution was found in ``time_limit`` seconds."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    flow = problem.flow
    levels = sorted(set(flow.group_priority.tolist()))
    chosen = [
        (k, j) for k, cl in enumerate(classes) for j in _maximal(cl, deadline).tolist() if cl.counts[j].any()
    ]
    sources = [s for s, n in enumerate(flow.source_people.tolist()) if n > 0]
    nv = len(chosen)
    if not nv or not sources:
        return None
    row_of = {row: i for i, row in enumerate(rows)}
    a = lil_matrix((len(classes) + len(rows), nv + len(sources)))
    for i, (k, j) in enumerate(chosen):
        cl = classes[k]
        a[k, i] = 1
        seats, stretchers = problem.capacity(cl.vehicles[0])
        for p in np.flatnonzero(cl.counts[j]).tolist():
            for room, row in ((seats, (cl.points[p], False)), (stretchers, (cl.points[p], True))):
                if room and row in row_of:
                    a[len(classes) + row_of[row], i] -= room * int(cl.counts[j][p])
    cost = np.zeros(nv + len(sources))
    for i, s in enumerate(sources):
        row = (int(flow.source_node[s]), bool(problem.source_stretcher[s]))
        a[len(classes) + row_of[row], nv + i] = 1
        cost[nv + i] = -weights[levels.index(int(flow.group_priority[int(flow.source_group[s])]))]
    upper = [len(classes[k].vehicles) for k, _ in chosen] + [int(flow.source_people[s]) for s in sources]
    lower_rows = [0.0] * len(classes) + [-np.inf] * len(rows)
    upper_rows = [float(len(cl.vehicles)) for cl in classes] + [0.0] * len(rows)
    solved = milp(
        cost,
        constraints=LinearConstraint(a.tocsr(), lower_rows, upper_rows),
        bounds=Bounds(0, np.asarray(upper, dtype=np.float64)),
        integrality=np.ones(nv + len(sources)),
        options={"time_limit": max(0.05, time_limit)},
    )
    if solved.x is None:
        return None
    walks: dict[int, Walk] = {v: () for v in range(problem.n_vehicles)}
    for (k, j), y in zip(chosen, np.round(solved.x[:nv]).astype(np.int64).tolist(), strict=True):
        cl = classes[k]
        free = [v for v in cl.vehicles if not walks[v]]
        for v in free[:y]:
            walks[v] = cl.walk(j)
    proved = round(-float(solved.fun)) if solved.status == 0 else None  # 0: HiGHS's optimal
    return walks, proved


def level_weights(problem: ConvoyProblem) -> list[int]:
    """Each priority level's weight (most urgent first): more than everyone of the levels after it,
    so that a weighted sum of people out orders plans lexicographically by level."""
    flow = problem.flow
    levels = sorted(set(flow.group_priority.tolist()))
    most = [0] * len(levels)
    for n, g in zip(flow.source_people.tolist(), flow.source_group.tolist(), strict=True):
        most[levels.index(int(flow.group_priority[int(g)]))] += int(n)
    weights: list[int] = []
    weight = 1
    for m in reversed(most):
        weights.insert(0, weight)
        weight *= m + 1
    return weights


def weighted_out(problem: ConvoyProblem, plan: Schedule, weights: Sequence[int]) -> int:
    """The people ``plan`` brings out, each priority level ``i`` (most urgent first) weighing
    ``weights[i]``."""
    key = objective_key(problem, plan.trips)
    return sum(w * -out for w, out in zip(weights, key[:-2], strict=True))


@dataclass
class PeoplePlans:
    """What :func:`people_plans` found: the ``plans``, the best first; the walk ceiling proved by its
    first choice (``ceiling``, weighted people out, None where HiGHS did not prove it); ``reached``
    where a plan brings out that many, so that the search stopped there (no plan can bring out more);
    ``orders``, the random orders booked; ``valued``, the choices HiGHS proved (each vehicle's trips
    by a deadline, the first by the deadline itself: the ceiling's) with their weighted people out;
    ``by_deadline``, deadline -> that proved value: no plan whose trips all arrive by the deadline
    brings out more (:func:`completion_floor_walks`)."""

    plans: list[Schedule]
    ceiling: int | None = None
    reached: bool = False
    orders: int = 0
    valued: list[tuple[dict[int, Walk], int]] = field(default_factory=list)
    by_deadline: dict[int, int] = field(default_factory=dict)


def people_plans(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    weights: Sequence[int],
    time_limit: float,
    slack: int = 15,
    seed: int = 0,
    stop_at_ceiling: bool = True,
) -> PeoplePlans:
    """Plans where not everyone can get out: the walks of the walk ceiling's choice (the most weighted
    people out, each vehicle's trips a column done by the deadline; see :func:`people_ceiling_walks`)
    with the columns done by each of the deadline and up to ``slack`` steps before it (the slack lets
    the checkpoints' queues and closures delay a walk's trips and still arrive; the choices get at
    most half of ``time_limit``), each booked by
    :func:`.walks.book_walks` in its order and then, while ``time_limit`` seconds last, with random
    trips booked ahead or behind (``seed``). The plans found (those of the choices, and the random orders'
    that were better than the best so far), the best first (:func:`objective_key`). Where
    ``stop_at_ceiling`` and a plan brings out as many weighted people as the first choice proves can
    get out (the walk ceiling), the search stops there: no plan brings out more, and the exact method's
    solves see to the completion and the trips."""
    began = time.perf_counter()
    stop = began + time_limit
    if len(slots) != problem.n_vehicles or any(problem.vehicle_on_board):
        return PeoplePlans([])
    rows, people = _demand(problem)
    made = _columns(problem, legs, slots, problem.horizon, rows, people, began + time_limit / 3)
    if made is None:
        return PeoplePlans([])
    classes, _ = made
    choices: list[dict[int, Walk]] = []
    plans: list[Schedule] = []
    ceiling: int | None = None
    valued: list[tuple[dict[int, Walk], int]] = []
    by_deadline: dict[int, int] = {}
    chosen_by = began + time_limit / 2  # the other half for the orders
    for deadline in range(problem.horizon, max(0, problem.horizon - slack) - 1, -1):
        left = chosen_by - time.perf_counter()
        if left < 0.05:
            break
        found = _people_choice(problem, classes, rows, weights, deadline, min(left, time_limit / 8))
        if found is None:
            continue
        walks, proved = found
        if proved is not None:
            ceiling = proved if deadline == problem.horizon else ceiling
            _value(walks, proved, deadline, valued, by_deadline)
        if deadline == problem.horizon and stop_at_ceiling and proved is not None:
            plan = book_walks(problem, legs, walks, stop, everyone=False)
            if plan is not None and weighted_out(problem, plan, weights) >= proved:
                return PeoplePlans([plan], ceiling, True, 0, valued, by_deadline)
            if plan is not None:  # booked once only, below
                choices.append(walks)
                plans.append(plan)
            continue
        if walks not in choices:
            choices.append(walks)
    for i, walks in enumerate(choices[len(plans) :], len(plans)):
        plan = book_walks(problem, legs, walks, stop, everyone=False)
        if plan is None:  # out of time
            choices = choices[:i]
            break
        plans.append(plan)
    target = ceiling if stop_at_ceiling else None
    orders, reached = _search_orders(problem, legs, choices, plans, stop, seed, weights, target)
    plans.sort(key=lambda plan: objective_key(problem, plan.trips))
    return PeoplePlans(plans, ceiling, reached, orders, valued, by_deadline)


def _value(
    walks: dict[int, Walk],
    proved: int,
    deadline: int,
    valued: list[tuple[dict[int, Walk], int]],
    by_deadline: dict[int, int],
) -> None:
    """Keep a proved choice's value by its deadline, and the choice once."""
    by_deadline[deadline] = proved
    if all(walks != other for other, _ in valued):
        valued.append((walks, proved))


def completion_floor_walks(by_deadline: dict[int, int], people: int) -> int | None:
    """A floor on the completion of every plan bringing out at least ``people`` weighted people, from
    :attr:`PeoplePlans.by_deadline`: one step after the latest deadline by which the walk ceiling's
    choice proves fewer (each vehicle's trips of a plan completing by then are a column done by then);
    None where no deadline proves fewer."""
    short = [deadline for deadline, value in by_deadline.items() if value < people]
    return max(short) + 1 if short else None


def _search_orders(
    problem: ConvoyProblem,
    legs: Legs,
    choices: Sequence[dict[int, Walk]],
    plans: list[Schedule],
    stop: float,
    seed: int,
    weights: Sequence[int],
    ceiling: int | None,
) -> tuple[int, bool]:
    """Book ``choices`` (``plans``: each booked in its own order) with random trips booked ahead or
    behind (up to twice the longest of the shortest inspections), half the time a fresh order of a
    choice, half the best so far with one or two trips moved, till ``stop`` or till the best brings
    out ``ceiling`` weighted people (``weights``; no plan brings out more); each plan as good as the
    best so far into ``plans`` where better. The orders booked, and whether the ceiling was reached."""
    rng = random.Random(seed)
    needs = [problem.inspection_steps(c, 1) for c in range(len(problem.flow.checkpoint_node))]
    spread = 2 * max([1, *needs])
    best: list[tuple[dict[int, Walk], dict[tuple[int, int], int]]] = [(choices[0], {})] if choices else []
    best_key = None
    best_plan: Schedule | None = None
    for walks, plan in zip(choices, plans, strict=True):
        key = objective_key(problem, plan.trips)
        if best_key is None or key < best_key:
            best_key, best, best_plan = key, [(walks, {})], plan
    orders = 0

    def reached() -> bool:
        return (
            ceiling is not None
            and best_plan is not None
            and weighted_out(problem, best_plan, weights) >= ceiling
        )

    while best and time.perf_counter() < stop and not reached():
        # half the time a fresh random order of one choice, half the best so far with a trip moved
        if rng.random() < 0.5:
            walks = rng.choice(choices)
            bias = {
                (v, k): rng.randrange(-spread, spread + 1) for v, w in walks.items() for k in range(len(w))
            }
        else:
            walks, bias = best[0][0], dict(best[0][1])
            trips = [(v, k) for v, w in walks.items() for k in range(len(w))]
            for _ in range(rng.randint(1, 2)):
                if trips:
                    bias[rng.choice(trips)] = rng.randrange(-spread, spread + 1)
        made = book_walks(problem, legs, walks, stop, bias=bias, everyone=False)
        if made is None:
            continue
        orders += 1
        key = objective_key(problem, made.trips)
        if best_key is None or key < best_key:
            plans.append(made)
            best_plan = made
        if best_key is None or key <= best_key:  # moves on along a plateau too
            best_key, best = key, [(walks, bias)]
    return orders, reached()


__all__ = [
    "ColumnSolution",
    "Columns",
    "PeoplePlans",
    "Timing",
    "class_columns",
    "completion_floor_walks",
    "level_weights",
    "people_ceiling_walks",
    "people_plans",
    "walk_columns",
    "weighted_out",
]
