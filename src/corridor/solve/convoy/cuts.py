"""Redundant constraints and bounds for the exact convoy model (:mod:`.exact`): true of every plan
(the first where everyone must be brought out), added so that CP-SAT's bounds see what its linear
relaxation of the enforced constraints hides.

- **trips needed** (:func:`trips_needed`): the people of a gathering point who need a seat need at
  least ``ceil(people / most seats of any vehicle)`` trips there, and those who need a stretcher place
  likewise.
- **completion floor** (:func:`completion_floor`): a lower bound on the second objective (completion,
  then trips) proved on a small integer programme over trips per vehicle and gathering point
  (:func:`_floor_model`), where each vehicle's trips add up to its time. The big model's relaxation
  spreads a fraction of a trip over vehicles and gathering points; this one counts whole trips, so its
  bound is higher (SiouxFalls 10/10/6 seed 0: 81 steps where CP-SAT's bound on the big model stalls
  near 67), and it is proved in a second or two. Where not everyone can be brought out, the same
  programme bounds the plans whose people out reach a given value.
- **people ceiling** (:func:`people_ceiling`): the same programme with every loaded arrival by the
  deadline and the people out free bounds the people out from above with whole trips (a gathering
  point of 35 people costs a 30-seat bus two trips); on the 5/5/3 river grids it is the optimum.

Their CP-SAT solves run in a worker process (:mod:`corridor.solve.cpsat_process`): a crash of the
solver raises :class:`~corridor.solve.cpsat_process.SolverCrashError` to the caller instead of ending
the process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from ortools.sat.python import cp_model

from corridor.problem.convoy import ConvoyProblem
from corridor.solve import cpsat_process
from corridor.solve.convoy.legs import NEVER, Legs
from corridor.solve.convoy.schedule import Intent, Schedule
from corridor.solve.cpsat_process import Solved


def trips_needed(problem: ConvoyProblem) -> dict[int, int]:
    """Gathering node -> the fewest trips that bring all its people out (see the module)."""
    seats = int(problem.type_seats.max(initial=0))
    stretchers = int(problem.type_stretchers.max(initial=0))
    seated: dict[int, int] = {}
    lying: dict[int, int] = {}
    flow = problem.flow
    for s, (node, people) in enumerate(
        zip(flow.source_node.tolist(), flow.source_people.tolist(), strict=True)
    ):
        into = lying if problem.source_stretcher[s] else seated
        into[int(node)] = into.get(int(node), 0) + int(people)
    out: dict[int, int] = {}
    for node in {*seated, *lying}:
        need = 0
        for people, places in ((seated.get(node, 0), seats), (lying.get(node, 0), stretchers)):
            if people > 0 and places > 0:
                need = max(need, math.ceil(people / places))
        if need:
            out[node] = need
    return out


def completion_floor(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    weight: int,
    time_limit: float,
    workers: int = 1,
    people: tuple[Sequence[int], int] | None = None,
) -> int | None:
    """A lower bound on ``completion * weight + trips`` over the plans that bring everyone out with at
    most ``slots[v]`` trips of vehicle ``v`` (``weight`` more than every trip count), proved by a small
    integer programme (:func:`_floor_model`): first its least completion ``C``, then its fewest trips
    completing by ``C`` (a plan completing later is worse by at least ``weight``). With ``people`` =
    (weight of each priority level, most urgent first; a value), over the plans whose people out so
    weighted reach that value instead. None where vehicles start with people on board or nothing could
    be proved in ``time_limit`` seconds."""
    if len(slots) != problem.n_vehicles:
        raise ValueError(
            f"completion_floor needs one slot count per vehicle: {len(slots)} for {problem.n_vehicles}"
        )
    if weight <= sum(slots):
        raise ValueError(
            f"completion_floor needs a weight above every trip count: {weight} <= {sum(slots)} slots in all"
        )
    if any(problem.vehicle_on_board):
        return None
    began = time.perf_counter()
    m = cp_model.CpModel()
    out = None
    if people is not None:
        out, goal = _people_out(m, problem, people[0])
        m.add(goal >= people[1])
    m, completion, trips = _floor_model(problem, legs, slots, out, m)
    m.minimize(completion)
    solver = _floor_solve(m, time_limit / 2, workers)
    code = solver.status
    if code == cp_model.INFEASIBLE:
        return None  # no plan brings everyone out: nothing to bound here
    least = math.ceil(solver.best_objective_bound - 1e-6)
    if code != cp_model.OPTIMAL:
        return least * weight  # a plan completing at ``least`` or later
    m.add(completion <= least)
    m.minimize(trips)
    solver = _floor_solve(m, time_limit - (time.perf_counter() - began), workers)
    code = solver.status
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return least * weight
    return least * weight + math.ceil(solver.best_objective_bound - 1e-6)


def floor_plan(
    problem: ConvoyProblem, legs: Legs, slots: Sequence[int], time_limit: float, workers: int = 1
) -> Schedule | None:
    """A plan bringing everyone out made of the completion floor's own solution (:func:`_floor_model`
    with its completion least): each vehicle makes the trips from each gathering point that the
    solution gives it, booked one at a time, the trip arriving soonest first, to whichever reception
    point it arrives soonest (timed by :class:`~.schedule.Schedule`, closures, queues and capacities
    included). On SiouxFalls 10/10/6 it completes 10-12 steps sooner than the dispatcher's plan. None
    where vehicles start with people on board, no solution was found in ``time_limit`` seconds (the
    booking stops there too) or the trips booked leave people behind."""
    if len(slots) != problem.n_vehicles:
        raise ValueError(
            f"floor_plan needs one slot count per vehicle: {len(slots)} for {problem.n_vehicles}"
        )
    if any(problem.vehicle_on_board):
        return None
    began = time.perf_counter()
    trips: dict[tuple[int, int], cp_model.IntVar] = {}
    m, completion, _ = _floor_model(problem, legs, slots, trips=trips)
    m.minimize(completion)
    solver = _floor_solve(m, time_limit / 2, workers)  # the other half for booking the trips
    if solver.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    quota = {key: int(solver.value(n)) for key, n in trips.items() if solver.value(n) > 0}
    schedule = Schedule(problem, legs)
    receptions = range(len(problem.flow.dest_ids))
    while quota:
        if time.perf_counter() - began > time_limit:
            return None
        soonest = min(
            (
                (timed.trip.haul.arrival, -timed.trip.people, v, g, r)
                for (v, g) in quota
                for r in receptions
                if (timed := schedule.trip(Intent(v, g, r))) is not None
            ),
            default=None,
        )
        if soonest is None:
            break
        _, _, v, g, r = soonest
        timed = schedule.trip(Intent(v, g, r))
        assert timed is not None
        schedule.commit(timed)
        quota[v, g] -= 1
        if not quota[v, g]:
            del quota[v, g]
    return schedule if schedule.waiting_people() == 0 else None


def people_ceiling(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    weights: Sequence[int],
    time_limit: float,
    workers: int = 1,
) -> int | None:
    """An upper bound on the people out, each priority level ``i`` (most urgent first) weighing
    ``weights[i]``, over the plans with at most ``slots[v]`` trips of vehicle ``v``: the integer
    programme of :func:`_floor_model` with the people out per source free and every loaded arrival by
    the deadline. Whole trips: a gathering point of 35 people costs a 30-seat bus two trips. None
    where vehicles start with people on board or nothing could be proved in ``time_limit`` s."""
    if len(slots) != problem.n_vehicles:
        raise ValueError(
            f"people_ceiling needs one slot count per vehicle: {len(slots)} for {problem.n_vehicles}"
        )
    if any(problem.vehicle_on_board):
        return None
    m = cp_model.CpModel()
    out, goal = _people_out(m, problem, weights)
    _floor_model(problem, legs, slots, out, m)
    m.maximize(goal)
    solver = _floor_solve(m, time_limit, workers)
    code = solver.status
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return math.floor(solver.best_objective_bound + 1e-6)


def _people_out(
    m: cp_model.CpModel, problem: ConvoyProblem, weights: Sequence[int]
) -> tuple[dict[int, cp_model.IntVar], cp_model.LinearExprT]:
    """People out per source (variables of ``m``) and their sum, each priority level weighing as
    ``weights`` says (most urgent first)."""
    flow = problem.flow
    levels = sorted(set(flow.group_priority.tolist()))
    if len(weights) != len(levels):
        raise ValueError(f"one weight per priority level is needed: {len(weights)} for {len(levels)}")
    out = {s: m.new_int_var(0, int(n), f"out{s}") for s, n in enumerate(flow.source_people.tolist()) if n > 0}
    level_of = [levels.index(int(flow.group_priority[int(g)])) for g in flow.source_group.tolist()]
    goal = cp_model.LinearExpr.weighted_sum(list(out.values()), [weights[level_of[s]] for s in out])
    return out, goal


def _floor_solve(m: cp_model.CpModel, time_limit: float, workers: int) -> Solved:
    """Solve ``m`` in CP-SAT's worker process (:mod:`corridor.solve.cpsat_process`; a crash of the
    solver raises its :class:`~corridor.solve.cpsat_process.SolverCrashError`)."""
    parameters = cp_model.CpSolver().parameters
    parameters.max_time_in_seconds = max(0.05, time_limit)
    parameters.num_workers = workers
    return cpsat_process.solve(m, parameters)


def _floor_model(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    out: dict[int, cp_model.IntVar] | None = None,
    m: cp_model.CpModel | None = None,
    trips: dict[tuple[int, int], cp_model.IntVar] | None = None,
) -> tuple[cp_model.CpModel, cp_model.IntVar, cp_model.LinearExprT]:
    """``n[v, g]`` trips of vehicle ``v`` from gathering point ``g``; their seats and stretcher places
    hold the people of ``g``; a used vehicle's last loaded arrival is at least its ready step, plus its
    first trip from its start (the fastest drive to ``g``, boarding, the fastest haul to any reception
    point), plus for every other trip the least cycle from ``g`` (unloading, the fastest drive back to
    ``g`` from any reception point, boarding, the fastest haul on). Every drive is at its fastest with
    no closure, every inspection at its shortest: each plan's completion and trips are a solution's.
    Identical vehicles make non-increasing numbers of trips. Returns the model, the completion and the
    trip count. With ``out`` (people brought out per source, variables of ``m``), the trips need not
    hold everyone, only those. ``trips`` (if given) receives the variables ``n[v, g]``."""
    flow = problem.flow
    gathering = sorted({int(n) for n in flow.source_node.tolist()})
    dests = [int(d) for d in flow.dest_node.tolist()]
    seated = dict.fromkeys(gathering, 0)
    lying = dict.fromkeys(gathering, 0)
    for s, (node, people) in enumerate(
        zip(flow.source_node.tolist(), flow.source_people.tolist(), strict=True)
    ):
        (lying if problem.source_stretcher[s] else seated)[int(node)] += int(people)
    m = cp_model.CpModel() if m is None else m
    completion = m.new_int_var(0, problem.horizon, "completion")
    trips = {} if trips is None else trips
    totals: list[cp_model.LinearExprT] = []
    for v in range(problem.n_vehicles):
        kind = int(problem.vehicle_type[v])
        load, unload = int(problem.load_steps[kind]), int(problem.unload_steps[kind])
        start = int(problem.vehicle_node[v])
        time_terms: list[cp_model.LinearExprT] = []
        firsts: list[cp_model.IntVar] = []
        for g in gathering:
            haul = min((legs.static_haul_steps(kind, g, d) for d in dests), default=NEVER)
            back = min((legs.static_steps(kind, d, g) for d in dests), default=NEVER)
            to_g = legs.static_steps(kind, start, g)
            if haul >= NEVER or to_g >= NEVER:
                continue  # no trip from g
            n = m.new_int_var(0, slots[v], f"n{v}_{g}")
            first = m.new_bool_var(f"f{v}_{g}")
            trips[v, g] = n
            m.add(first <= n)
            firsts.append(first)
            # the first trip: to_g + load + haul; every other: unload + back + load + haul
            if back >= NEVER:
                m.add(n <= first)  # nothing comes back to g: its only trip is a first one
                time_terms.append((to_g + load + haul) * first)
                continue
            time_terms.append((unload + back + load + haul) * n)
            time_terms.append((to_g - unload - back) * first)
        total = cp_model.LinearExpr.sum([trips[v, g] for g in gathering if (v, g) in trips])
        used = cp_model.LinearExpr.sum(firsts)
        m.add(used <= 1)
        m.add(total <= slots[v] * used)
        m.add(completion >= int(problem.vehicle_ready[v]) * used + cp_model.LinearExpr.sum(time_terms))
        totals.append(total)
    for g in gathering:
        for people, places in ((seated[g], problem.type_seats), (lying[g], problem.type_stretchers)):
            held = [int(places[int(problem.vehicle_type[v])]) * n for (v, g2), n in trips.items() if g2 == g]
            if out is None:
                if people:
                    m.add(sum(held) >= people)
                continue
            carried = [
                out[s]
                for s in out
                if int(flow.source_node[s]) == g
                and bool(problem.source_stretcher[s]) == (places is problem.type_stretchers)
            ]
            if carried:
                m.add(sum(carried) <= sum(held))
    for v in range(1, problem.n_vehicles):
        if _same(problem, v, v - 1):
            m.add(totals[v] <= totals[v - 1])
    return m, completion, sum(totals)


def _same(problem: ConvoyProblem, v: int, w: int) -> bool:
    return (
        int(problem.vehicle_type[v]) == int(problem.vehicle_type[w])
        and int(problem.vehicle_node[v]) == int(problem.vehicle_node[w])
        and int(problem.vehicle_ready[v]) == int(problem.vehicle_ready[w])
    )


__all__ = ["completion_floor", "floor_plan", "people_ceiling", "trips_needed"]
