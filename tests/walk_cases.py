"""Small convoy problems for the walk tests (solve/convoy/walks.py, walk_columns.py): gathering points
spread along a road, two far-apart points, a dispatcher's trap; each vehicle's walk as a schedule
made it, and random schedules."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from convoy_cases import buses
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Intent, Schedule
from factories import problem as flow_problem

TINY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def spread_points(draw: st.DrawFn) -> ConvoyProblem:
    """A road of 4-6 nodes (1-6 steps each way, maybe a shortcut), 2-3 gathering points of 1-4 people,
    1-2 reception points elsewhere, 1-2 buses of 4 seats: every trip empties its point, so the
    enumeration stays small, and the deadline is late enough for everyone to get out."""
    n = draw(st.integers(4, 6))
    arcs = []
    for u in range(n - 1):
        t = draw(st.integers(1, 6))
        arcs += [(u, u + 1, 5, t), (u + 1, u, 5, t)]
    if draw(st.booleans()):
        u, w, t = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)), draw(st.integers(1, 3))
        if u != w:
            arcs += [(u, w, 5, t), (w, u, 5, t)]
    nodes = draw(st.permutations(range(n)))
    gathering = nodes[: draw(st.integers(2, 3))]
    reception = nodes[len(gathering) : len(gathering) + draw(st.integers(1, 2))]
    sources = [(g, draw(st.integers(1, 4))) for g in gathering]
    flow = flow_problem(n, arcs, sources=sources, destinations=list(reception), horizon=80)
    depots = [draw(st.integers(0, n - 1)) for _ in range(draw(st.integers(1, 2)))]
    return buses(flow, depots=depots, seats=4)


def far_apart() -> ConvoyProblem:
    """Reception points at both ends of a road (0 and 3), gathering points 1 and 2 next to each, 10 steps
    apart; one bus of 4 seats at node 1, 4 people at each gathering point, boarding and unloading 1 step.
    Whatever the order, the bus drives the long road once, empty or loaded: 16 steps at best (board at 1
    by 1, at 0 by 2, unloaded by 3, at 2 by 14, boarded by 15, at 3 by 16)."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 10), (2, 1, 5, 10), (2, 3, 5, 1), (3, 2, 5, 1)]
    flow = flow_problem(4, arcs, sources=[(1, 4), (2, 4)], destinations=[0, 3], horizon=40)
    return buses(flow, depots=[1], seats=4)


def dispatcher_leaves_two() -> ConvoyProblem:
    """A road 0 -3- 1 -6- 2 -2- 3 -4- 4, reception point 0, 4 people at 1 and 2 at 3, one bus of 4 seats
    at 3, deadline 30: the dispatcher takes the 4 at 1 first and has no time for the 2 at 3; the 2 first,
    then the 4, bring everyone out by 20 (board at 3 by 1, at 0 by 12, unloaded by 13, at 1 by 16,
    boarded by 17, at 0 by 20)."""
    arcs = [
        (0, 1, 5, 3),
        (1, 0, 5, 3),
        (1, 2, 5, 6),
        (2, 1, 5, 6),
        (2, 3, 5, 2),
        (3, 2, 5, 2),
        (3, 4, 5, 4),
        (4, 3, 5, 4),
    ]
    flow = flow_problem(5, arcs, sources=[(1, 4), (3, 2)], destinations=[0], horizon=30)
    return buses(flow, depots=[3], seats=4)


def walks_of(problem: ConvoyProblem, schedule: Schedule) -> dict[int, tuple[tuple[int, ...], int]]:
    """Per vehicle: its trips' gathering nodes in order and its last loaded arrival."""
    index = {vid: i for i, vid in enumerate(problem.vehicle_ids)}
    out: dict[int, tuple[tuple[int, ...], int]] = {}
    for trip in sorted(schedule.trips, key=lambda t: (t.vehicle, t.number)):
        v = index[trip.vehicle]
        walk, _ = out.get(v, ((), 0))
        out[v] = ((*walk, problem.network.index[trip.gathering]), trip.haul.arrival)
    return out


def random_schedule(problem: ConvoyProblem, legs: Legs, seed: int) -> Schedule:
    """Trips chosen at random (vehicle, gathering point, reception point) until none can be made."""
    rng = random.Random(seed)
    schedule = Schedule(problem, legs)
    gathering = sorted({int(n) for n in problem.flow.source_node.tolist()})
    choices = [
        Intent(v, g, r)
        for v in range(problem.n_vehicles)
        for g in gathering
        for r in range(len(problem.flow.dest_ids))
    ]
    while True:
        rng.shuffle(choices)
        timed = next((t for c in choices if (t := schedule.trip(c)) is not None), None)
        if timed is None:
            return schedule
        schedule.commit(timed)
