"""Each vehicle's trips in order (a walk): a lower bound on completion, and plans made of walks.

A vehicle's plan is a **walk** over gathering points ``g1, g2, ..., gk`` (one per trip). With every drive
at its fastest with no closure and every inspection at its shortest, its last loaded arrival is at
least

    first(g1) + step(g1, g2) + ... + step(g(k-1), gk) + end(gk)

where ``first(g)`` = ready + the drive from the start to ``g`` + boarding, ``step(g, h)`` = the least
over reception points ``r`` of (the haul ``g -> r`` + unloading + the empty drive ``r -> h``) +
boarding, and ``end(g)`` = the fastest haul from ``g``. Unlike the completion floor of :mod:`.cuts`,
the empty drive from one trip's reception point to the next trip's gathering point is counted where
it is (on SiouxFalls 10/10/6 the vehicles spend 5-10 steps there against the 2-3 the floor counts).

**The walk programme** (:func:`walk_programme`): slot ``k`` of vehicle ``v`` chooses a gathering
point, consecutive slots a step between them (a flow through the slots, so that each vehicle's trips
form one walk), the seats and stretcher places of the trips hold everyone, and the completion is at
least each walk's time; least completion first, then fewest trips. Every plan that brings everyone
out gives a solution no worse than its own completion and trips (its trips' gathering points in order,
each step at least the least one), so the programme's optimum (or CP-SAT's bound on it) is a lower
bound on the completion of every such plan. Unlike the completion floor of :mod:`.cuts`, the empty
drive from one trip's reception point to the next trip's gathering point is counted where it is (on
SiouxFalls 10/10/6 the vehicles spend 5-10 steps there against the 2-3 the floor counts).

**The plan** (:func:`walk_plan`, :func:`book_walks`): the walks of a solution booked trip by trip with
the real drive times, closures, queues and capacities (:class:`~.schedule.Schedule`), the trip arriving
soonest first, each to the reception point from which the vehicle can be soonest at its next trip's
gathering point.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model
from ortools.sat.python import cp_model_helper as cmh

from corridor.problem.convoy import ConvoyProblem
from corridor.solve import cpsat_process
from corridor.solve.convoy.legs import NEVER, Legs
from corridor.solve.convoy.schedule import Intent, Schedule

Walk = tuple[int, ...]  # gathering nodes, one per trip, in order


@dataclass(frozen=True)
class Costs:
    """The least times of one vehicle's walks (see the module): ``first[g]``, ``step[g, h]``, ``end[g]``."""

    first: dict[int, int]
    step: dict[tuple[int, int], int]
    end: dict[int, int]

    def time(self, walk: Walk) -> int:
        """The least last loaded arrival of ``walk`` (0 for no trip)."""
        if not walk:
            return 0
        t = self.first[walk[0]] + self.end[walk[-1]]
        return t + sum(self.step[g, h] for g, h in itertools.pairwise(walk))


def vehicle_costs(problem: ConvoyProblem, legs: Legs, v: int) -> Costs:
    """The least times of vehicle ``v``'s walks (gathering points it cannot serve are left out)."""
    kind = int(problem.vehicle_type[v])
    load, unload = int(problem.load_steps[kind]), int(problem.unload_steps[kind])
    start, ready = int(problem.vehicle_node[v]), int(problem.vehicle_ready[v])
    dests = [int(d) for d in problem.flow.dest_node.tolist()]
    gathering = sorted({int(n) for n in problem.flow.source_node.tolist()})
    first: dict[int, int] = {}
    end: dict[int, int] = {}
    for g in gathering:
        to_g = legs.static_steps(kind, start, g)
        hauls = [legs.static_haul_steps(kind, g, d) for d in dests]
        if to_g >= NEVER or not hauls or min(hauls) >= NEVER:
            continue
        first[g] = ready + to_g + load
        end[g] = min(hauls)
    step: dict[tuple[int, int], int] = {}
    for g in first:
        hauls = [legs.static_haul_steps(kind, g, d) for d in dests]
        for h in first:
            ways = [
                haul + unload + back
                for haul, d in zip(hauls, dests, strict=True)
                if haul < NEVER and (back := legs.static_steps(kind, d, h)) < NEVER
            ]
            if ways:
                step[g, h] = min(ways) + load
    return Costs(first, step, end)


@dataclass
class WalkSolution:
    """The walks chosen (vehicle -> gathering nodes in order), their least completion and trips, and a
    lower bound on the completion of every plan bringing everyone out (``floor``; ``proved`` where both
    solves of the programme were solved to the end: ``floor`` is then the completion, and ``trips`` the
    fewest of every plan completing then)."""

    walks: dict[int, Walk]
    completion: int
    trips: int
    floor: int
    proved: bool
    costs: dict[int, Costs]


def _demand(problem: ConvoyProblem) -> tuple[list[tuple[int, bool]], list[int]]:
    """People to bring out per (gathering node, needs a stretcher)."""
    need: dict[tuple[int, bool], int] = {}
    flow = problem.flow
    for s, (node, people) in enumerate(
        zip(flow.source_node.tolist(), flow.source_people.tolist(), strict=True)
    ):
        if people > 0:
            key = (int(node), bool(problem.source_stretcher[s]))
            need[key] = need.get(key, 0) + int(people)
    rows = sorted(need)
    return rows, [need[r] for r in rows]


def _same(problem: ConvoyProblem, v: int, w: int) -> bool:
    return (
        int(problem.vehicle_type[v]) == int(problem.vehicle_type[w])
        and int(problem.vehicle_node[v]) == int(problem.vehicle_node[w])
        and int(problem.vehicle_ready[v]) == int(problem.vehicle_ready[w])
    )


def walk_programme(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    time_limit: float,
    workers: int = 1,
    hint: Schedule | None = None,
) -> WalkSolution | None:
    """The walks (at most ``slots[v]`` trips of vehicle ``v``) whose seats and stretcher places hold
    everyone with the least completion, then the fewest trips, by the walks' least times (see the
    module). Solved by CP-SAT in its worker process within ``time_limit`` seconds, starting from the
    gathering points of ``hint``'s trips. None where vehicles start with people on board or no choice
    was found (raises :class:`~corridor.solve.cpsat_process.SolverCrashError` where CP-SAT crashes)."""
    if len(slots) != problem.n_vehicles:
        raise ValueError(
            f"walk_programme needs one slot count per vehicle: {len(slots)} for {problem.n_vehicles}"
        )
    if any(problem.vehicle_on_board):
        return None
    rows, people = _demand(problem)
    m = cp_model.CpModel()
    completion = m.new_int_var(0, problem.horizon, "completion")
    held: dict[tuple[int, bool], list[cp_model.LinearExprT]] = {r: [] for r in rows}
    chosen: list[list[dict[int, cp_model.IntVar]]] = []
    costs: dict[int, Costs] = {}
    for v in range(problem.n_vehicles):
        costs[v] = vehicle_costs(problem, legs, v)
        chosen.append(_vehicle_walk(m, problem, v, costs[v], slots[v], completion, held))
    for row, need in zip(rows, people, strict=True):
        m.add(sum(held[row]) >= need)
    counts = [sum(sum(xk.values()) for xk in x) for x in chosen]
    for v in range(1, problem.n_vehicles):
        if _same(problem, v, v - 1):
            m.add(counts[v] <= counts[v - 1])
    if hint is not None:
        _hint(m, problem, hint, chosen)
    # least completion first (three quarters of the time), then the fewest trips completing by then
    began = time.perf_counter()
    m.minimize(completion)
    solved = cpsat_process.solve(m, _parameters(0.75 * time_limit, workers))
    if solved.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    least = round(solved.objective_value)
    floor = math.ceil(solved.best_objective_bound - 1e-6)
    proved = solved.status == cp_model.OPTIMAL
    m.add(completion <= least)
    m.clear_hints()  # type: ignore[no-untyped-call]
    for x in chosen:
        for xk in x:
            for lit in xk.values():
                m.add_hint(lit, solved.boolean_value(lit))
    m.minimize(sum(counts))
    fewer = cpsat_process.solve(m, _parameters(time_limit - (time.perf_counter() - began), workers))
    if fewer.status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        solved = fewer
    proved = proved and fewer.status == cp_model.OPTIMAL
    walks = {
        v: tuple(g for xk in x for g, lit in xk.items() if solved.boolean_value(lit))
        for v, x in enumerate(chosen)
    }
    trips = sum(len(w) for w in walks.values())
    completion_of = max((costs[v].time(w) for v, w in walks.items()), default=0)
    return WalkSolution(walks, completion_of, trips, floor, proved, costs)


def _parameters(seconds: float, workers: int) -> cmh.SatParameters:
    parameters = cp_model.CpSolver().parameters
    parameters.max_time_in_seconds = max(0.05, seconds)
    parameters.num_workers = workers
    return parameters


def _vehicle_walk(
    m: cp_model.CpModel,
    problem: ConvoyProblem,
    v: int,
    cost: Costs,
    count: int,
    completion: cp_model.IntVar,
    held: dict[tuple[int, bool], list[cp_model.LinearExprT]],
) -> list[dict[int, cp_model.IntVar]]:
    """Vehicle ``v``'s slots in ``m``: ``x[k][g]`` (slot ``k`` boards at ``g``), used in order, one
    walk (a step ``z`` between consecutive used slots), its time within ``completion``, its places
    added to ``held`` (per demand row)."""
    seats, stretchers = problem.capacity(v)
    nodes = [g for g in cost.first if cost.first[g] + cost.end[g] <= problem.horizon]
    x = [{g: m.new_bool_var(f"x{v}_{k}_{g}") for g in nodes} for k in range(count)]
    if not x:
        return x
    for k, xk in enumerate(x):
        m.add(sum(xk.values()) <= 1)
        if k:
            m.add(sum(xk.values()) <= sum(x[k - 1].values()))
        for g, lit in xk.items():
            for row, places in (((g, False), seats), ((g, True), stretchers)):
                if row in held and places:
                    held[row].append(places * lit)
    time_terms: list[cp_model.LinearExprT] = [cost.first[g] * x[0][g] for g in nodes]
    for k, xk in enumerate(x):
        ends: dict[int, cp_model.LinearExprT] = dict(xk)
        if k + 1 < len(x):
            z = {(g, h): m.new_bool_var("") for g in nodes for h in nodes if (g, h) in cost.step}
            for g in nodes:
                out = [z[g, h] for h in nodes if (g, h) in z]
                m.add(sum(out) <= xk[g])
                ends[g] = xk[g] - sum(out)
            for h in nodes:
                m.add(sum(z[g, h] for g in nodes if (g, h) in z) == x[k + 1][h])
            time_terms += [cost.step[key] * lit for key, lit in z.items()]
        time_terms += [cost.end[g] * ends[g] for g in nodes]
    m.add(completion >= sum(time_terms))
    # implied, for the linear relaxation: every trip but the first costs at least its least way in
    way_in = {
        h: min([cost.step[g, h] - cost.end[g] for g in nodes if (g, h) in cost.step] + [problem.horizon])
        for h in nodes
    }
    trips = {g: sum(xk[g] for xk in x) for g in nodes}
    m.add(
        completion
        >= sum((cost.end[g] + way_in[g]) * trips[g] for g in nodes)
        + sum((cost.first[g] - way_in[g]) * x[0][g] for g in nodes)
    )
    return x


def _hint(
    m: cp_model.CpModel,
    problem: ConvoyProblem,
    schedule: Schedule,
    chosen: list[list[dict[int, cp_model.IntVar]]],
) -> None:
    """Hint the slots with the gathering points of ``schedule``'s trips, vehicle by vehicle in order
    (identical vehicles sorted by trips, most first, as the programme wants them)."""
    index = {vid: i for i, vid in enumerate(problem.vehicle_ids)}
    nodes = problem.network.index
    per: dict[int, list[int]] = {v: [] for v in range(problem.n_vehicles)}
    for trip in sorted(schedule.trips, key=lambda t: (t.vehicle, t.number)):
        per[index[trip.vehicle]].append(nodes[trip.gathering])
    runs: list[list[int]] = []
    for v in range(problem.n_vehicles):
        if runs and _same(problem, v, runs[-1][-1]):
            runs[-1].append(v)
        else:
            runs.append([v])
    for run in runs:
        ordered = sorted((per[v] for v in run), key=len, reverse=True)
        for v, walk in zip(run, ordered, strict=True):
            for k, xk in enumerate(chosen[v]):
                for g, lit in xk.items():
                    m.add_hint(lit, int(k < len(walk) and walk[k] == g))


def walk_plan(
    problem: ConvoyProblem, legs: Legs, solution: WalkSolution, time_limit: float
) -> Schedule | None:
    """The walks of ``solution`` booked with real times (:func:`book_walks`)."""
    return book_walks(problem, legs, solution.walks, time.perf_counter() + time_limit)


def book_walks(
    problem: ConvoyProblem,
    legs: Legs,
    walks: dict[int, Walk],
    stop: float,
    bias: Mapping[tuple[int, int], int] | None = None,
    everyone: bool = True,
) -> Schedule | None:
    """Book each vehicle's walk in order, the trip arriving soonest first (``bias[v, k]`` steps added
    to the arrival of vehicle ``v``'s ``k``-th trip of its walk in that order: a trip with less is
    booked sooner, taking the checkpoints' earlier slots), each to the reception point from which the
    vehicle (timed for real: closures, queues, capacities) can be soonest at its next trip's gathering
    point (by the fastest drive; for a walk's last trip, the soonest arrival); a trip that would carry
    nobody or arrive after the deadline is skipped. None where ``stop`` (a perf_counter time) passed
    or, if ``everyone``, people are left behind."""
    late = bias or {}
    schedule = Schedule(problem, legs)
    position = dict.fromkeys(walks, 0)
    receptions = range(len(problem.flow.dest_ids))
    while True:
        if time.perf_counter() > stop:
            return None
        best: tuple[int, int, int] | None = None
        pick = None
        for v, walk in walks.items():
            kind = int(problem.vehicle_type[v])
            while position[v] < len(walk):
                k = position[v]
                g, after = walk[k], walk[k + 1] if k + 1 < len(walk) else None
                options = [t for r in receptions if (t := schedule.trip(Intent(v, g, r))) is not None]
                if options:
                    timed = min(
                        options,
                        key=lambda t: (
                            t.trip.haul.arrival
                            if after is None
                            else t.free_at + legs.static_steps(kind, t.free_node, after),
                            t.trip.haul.arrival,
                        ),
                    )
                    key = (timed.trip.haul.arrival + late.get((v, k), 0), -timed.trip.people, v)
                    if best is None or key < best:
                        best, pick = key, timed
                    break
                position[v] += 1
        if pick is None:
            break
        schedule.commit(pick)
        position[pick.vehicle] += 1
    return schedule if not everyone or schedule.waiting_people() == 0 else None


__all__ = ["Costs", "WalkSolution", "book_walks", "vehicle_costs", "walk_plan", "walk_programme"]
