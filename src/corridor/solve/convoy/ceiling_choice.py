"""The exact model searched within the walk ceiling's choice, where people are left behind.

The walk ceiling (:func:`.walk_columns.people_ceiling_walks`) picks a column per vehicle: how many
trips it makes to each gathering point by the deadline. Booked greedily with the real times
(:func:`.walk_columns.people_plans`), the queues at the checkpoints may leave people behind that a
better timing of the same trips brings out. Here the whole model (:mod:`.exact`) is solved with the
trips of each class of interchangeable vehicles (type, place, ready time) to each gathering point
fixed at the choice's, and the people out above the plan to beat and at most the ceiling: a small
neighbourhood where CP-SAT finds the timing, the reception points, the checkpoints and the loads, and
stops as soon as a plan reaches the ceiling (then no plan brings out more). On the 10/10/6 river grid
of seed 0 it finds a plan at the ceiling (306) that neither the greedy bookings (303) nor the whole
model in 42 s found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ortools.sat.python import cp_model

from corridor.problem.convoy import ConvoyProblem
from corridor.solve import cpsat_process
from corridor.solve.cpsat_process import Solved

Walk = tuple[int, ...]


def _key(problem: ConvoyProblem, v: int) -> tuple[int, int, int]:
    return int(problem.vehicle_type[v]), int(problem.vehicle_node[v]), int(problem.vehicle_ready[v])


def point_counts(
    problem: ConvoyProblem, walks: Mapping[int, Walk]
) -> dict[tuple[tuple[int, int, int], int], int]:
    """(class of interchangeable vehicles, gathering node) -> the trips of ``walks`` there."""
    out: dict[tuple[tuple[int, int, int], int], int] = {}
    for v, walk in walks.items():
        for g in walk:
            key = (_key(problem, v), int(g))
            out[key] = out.get(key, 0) + 1
    return out


def solve_within(
    problem: ConvoyProblem,
    m: cp_model.CpModel,
    slot_points: Sequence[Sequence[tuple[Sequence[int], Sequence[cp_model.IntVar]]]],
    walks: Mapping[int, Walk],
    goal: cp_model.LinearExprT,
    least: int,
    ceiling: int,
    time_limit: float,
    workers: int,
) -> Solved | None:
    """Solve a copy of ``m`` (the exact model; ``slot_points[v]``: per slot of vehicle ``v`` its
    gathering nodes and their selection literals) with the trips of each class to each gathering node
    those of ``walks``, maximising ``goal`` (the weighted people out) from ``least`` up to ``ceiling``
    (a floor above the plan to beat is what makes the neighbourhood quick to search), given
    ``time_limit`` seconds; the solve if it found a plan, else None. Raises
    :class:`~corridor.solve.cpsat_process.SolverCrashError` where CP-SAT crashes."""
    wanted = point_counts(problem, walks)
    chosen: dict[tuple[tuple[int, int, int], int], list[cp_model.IntVar]] = {}
    for v, slots in enumerate(slot_points):
        for nodes, lits in slots:
            for g, lit in zip(nodes, lits, strict=True):
                chosen.setdefault((_key(problem, v), int(g)), []).append(lit)
    if any(key not in chosen for key in wanted):
        return None
    clone = m.clone()
    clone.clear_hints()  # type: ignore[no-untyped-call]  # the plan to beat's: outside the neighbourhood
    for key, lits in chosen.items():
        clone.add(sum(lits) == wanted.get(key, 0))
    clone.add(goal >= least)
    clone.add(goal <= ceiling)
    clone.maximize(goal)
    parameters = cp_model.CpSolver().parameters
    parameters.max_time_in_seconds = max(0.05, time_limit)
    parameters.num_workers = workers
    solved = cpsat_process.solve(clone, parameters)
    if solved.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return solved


__all__ = ["point_counts", "solve_within"]
