"""A start plan for the convoy search from the timed route programme of :mod:`.bounds`.

The programme's vehicles are a flow over time between the gathering and reception points (in buckets
of steps). :func:`route_walks` splits each timed class's flow into as many walks as the class has
vehicles (each walk follows, from its first drive on, the move that carries the most flow left, and
takes one vehicle's worth of flow off every move it makes), and :func:`route_start` makes those walks'
trips in the order of their buckets, each timed at the earliest from its vehicle's state (a trip that
cannot be made is left out), then lets the dispatcher fill the time left. The walks carry the
programme's choices of which gathering point serves which reception point and where each vehicle
goes next, which the dispatcher, one trip at a time, does not see. The programme times each move by
its departure, around the closures in force then, as the schedule does (but for the checkpoints'
queues and inspections longer than the shortest): with buckets of one step a walk the flow carries
whole is then one its vehicle can drive, each trip boarding no later than the programme says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import ROUTE_COLUMNS, _checkpoint_bound, solved_route_lp
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Chooser, Intent, Schedule, dispatch

Walk = list[tuple[int, int, int]]  # (gathering index, reception index, bucket of boarding)


@dataclass(frozen=True)
class RouteWalks:
    walks: dict[int, Walk]  # per vehicle (none for the classes kept aggregated over time)
    steps: int  # steps per bucket
    bound: int  # the programme's optimum, rounded down, with the people on board: the route bound


def route_walks(problem: ConvoyProblem, legs: Legs, *, columns: int = ROUTE_COLUMNS) -> RouteWalks | None:
    """Per vehicle, the walk of the timed route programme it follows (see the module); None when the
    programme does not apply or cannot be solved."""
    solved = solved_route_lp(problem, legs, _checkpoint_bound(problem, legs), timed=True, columns=columns)
    if solved is None:
        return None
    lp, value = solved
    assert lp.solution is not None
    left = {col: float(lp.solution[col]) for col in lp.arcs}
    out_of: dict[tuple[int, tuple[int, int]], list[int]] = {}  # (class, (place, bucket)) -> moves
    starts: dict[int, list[int]] = {}
    for col, (i, frm, _) in lp.arcs.items():
        if frm is None:
            starts.setdefault(i, []).append(col)
        else:
            out_of.setdefault((i, frm), []).append(col)
    members: dict[int, list[int]] = {}
    for v in range(problem.n_vehicles):
        key = (int(problem.vehicle_type[v]), int(problem.vehicle_node[v]), int(problem.vehicle_ready[v]))
        members.setdefault(lp.keys.index(key), []).append(v)
    walks: dict[int, Walk] = {}
    for i, vehicles in members.items():
        for v in vehicles:
            walk: Walk = []
            options = starts.get(i, [])
            while options:
                col = max(options, key=lambda c: (left[c], -c))
                if left[col] <= 1e-6:
                    break
                left[col] = max(0.0, left[col] - 1.0)
                _, frm, to = lp.arcs[col]
                if to is None:
                    break
                if frm is not None and frm[0] < lp.n_g <= to[0]:
                    walk.append((frm[0], to[0] - lp.n_g, frm[1]))
                options = out_of.get((i, to), [])
            walks[v] = walk
    board = sum(n for loads in problem.vehicle_on_board for _, n in loads)
    return RouteWalks(walks, lp.q, math.floor(value + 1e-6) + board)


def route_start(
    problem: ConvoyProblem, legs: Legs, *, columns: int = ROUTE_COLUMNS
) -> tuple[Schedule, int] | None:
    """The walks' trips made in order, then the dispatcher (see the module), and the route bound of
    the same programme; None without a programme."""
    found = route_walks(problem, legs, columns=columns)
    if found is None:
        return None
    walks = found.walks
    gathering = [int(g) for g in problem.gathering_nodes.tolist()]
    order = sorted((bucket, v, k) for v, walk in walks.items() for k, (_, _, bucket) in enumerate(walk))
    schedule = Schedule(problem, legs)
    for _, v, k in order:
        g, r, _ = walks[v][k]
        timed = schedule.trip(Intent(v, gathering[g], r))
        if timed is not None:
            schedule.commit(timed)
    return dispatch(schedule, Chooser(problem), lookahead=0), found.bound


__all__ = ["RouteWalks", "Walk", "route_start", "route_walks"]
