"""The exact convoy method: its plans verify, beat the dispatcher, stay under every bound, and on tiny
instances reach the optimum found by the textbook MIP and by enumerating every plan."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import solve_convoy
from corridor.solve.convoy.bounds import convoy_bounds, trips_possible
from corridor.solve.convoy.cuts import completion_floor, floor_plan, people_ceiling, trips_needed
from corridor.solve.convoy.exact import solve_exact
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.mip import solve_mip
from corridor.solve.convoy.schedule import greedy, objective_key
from corridor.solve.convoy.walk_columns import level_weights
from factories import problem as flow_problem

Key = tuple[int, ...]


def convoy(
    seed: int,
    *,
    gathering: int,
    reception: int,
    vehicles: int,
    horizon: int,
    checkpoint: bool,
    closures: bool,
    people_rate: bool,
    nodes: int = 7,
    most_people: int = 6,
    on_board: bool = False,
) -> ConvoyProblem:
    """A ring of ``nodes`` with chords; vehicles start at node 0; one checkpoint on the ring, if any.

    Groups: "general" (priority 2, seated) and "wounded" (priority 1, on stretchers)."""
    rng = random.Random(seed)
    arcs: list[tuple[int, int, int, int]] = []
    for i in range(nodes):
        j, t = (i + 1) % nodes, rng.randint(1, 3)
        arcs += [(i, j, 100, t), (j, i, 100, t)]
    for _ in range(2):
        i, j = rng.sample(range(nodes), 2)
        t = rng.randint(1, 4)
        arcs += [(i, j, 100, t), (j, i, 100, t)]
    order = list(range(1, nodes))
    rng.shuffle(order)
    gs, rs = order[:gathering], order[gathering : gathering + reception]
    cnode = order[gathering + reception]
    sources: list[tuple[int, int, int]] = []
    for g in gs:
        sources.append((g, rng.randint(1, most_people), 0))
        if rng.random() < 0.5:
            sources.append((g, rng.randint(1, 2), 1))
    dests = [(r, rng.choice([-1, rng.randint(2, 2 * most_people)])) for r in rs]
    node_cap = {cnode: 100} if checkpoint else {}
    arc_closed: list[tuple[int, int, int]] = []
    node_closed: list[tuple[int, int, int]] = []
    if closures:
        begin = rng.randint(0, horizon // 2)
        arc_closed.append((rng.randrange(len(arcs)), begin, begin + rng.randint(2, 6)))
        if checkpoint:
            begin = rng.randint(0, horizon // 2)
            node_closed.append((cnode, begin, begin + rng.randint(1, 4)))
    flow = flow_problem(
        nodes,
        arcs,
        sources=sources,
        destinations=dests,
        horizon=horizon,
        node_cap=node_cap,
        arc_closed=arc_closed,
        node_closed=node_closed,
        groups=(("general", 2), ("wounded", 1)),
    )
    kinds = [rng.randrange(2) for _ in range(vehicles)]
    kinds[0] = 0
    n_cp = len(node_cap)
    problem = ConvoyProblem(
        flow=flow,
        type_ids=("bus", "ambulance"),
        type_seats=np.asarray([rng.randint(2, 3), 0]),
        type_stretchers=np.asarray([rng.randint(0, 1), rng.randint(1, 2)]),
        type_speed=np.asarray([1.0, 1.0]),
        load_steps=np.asarray([1, rng.randint(1, 2)]),
        unload_steps=np.asarray([1, 1]),
        vehicle_ids=tuple(f"v{i}" for i in range(vehicles)),
        vehicle_type=np.asarray(kinds),
        vehicle_node=np.zeros(vehicles, dtype=np.int64),
        vehicle_ready=np.asarray([rng.randint(0, 2) for _ in range(vehicles)]),
        vehicle_on_board=tuple(() for _ in range(vehicles)),
        group_stretcher=np.asarray([False, True]),
        checkpoint_inspection=np.asarray([rng.randint(1, 2)] * n_cp, dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(n_cp),
        checkpoint_people_rate=np.full(n_cp, 60.0 if people_rate else 0.0),
    )
    if on_board:
        # the first vehicle is at a node of the ring with one person of the first source on board
        node = order[-1]
        problem = replace(
            problem,
            vehicle_node=np.asarray([node, *problem.vehicle_node.tolist()[1:]]),
            vehicle_on_board=(((0, 1),), *problem.vehicle_on_board[1:]),
        )
    return problem


# -- an enumeration of every plan (tiny instances only) ---------------------------------------------


def _gap(booked: tuple[tuple[int, int], ...], earliest: int, need: int) -> int:
    s = earliest
    moved = True
    while moved:
        moved = False
        for a, b in booked:
            if s < b and a < s + need:
                s, moved = b, True
    return s


State = tuple[
    tuple[tuple[int, int], ...],
    tuple[int, ...],
    tuple[int, ...],
    tuple[tuple[tuple[int, int], ...], ...],
    int,
]


class _Enumeration:
    """Every sequence of trips, each timed at the earliest (see :func:`brute_force`)."""

    def __init__(self, problem: ConvoyProblem, legs: Legs) -> None:
        self.p, self.legs = problem, legs
        flow = problem.flow
        self.cps = [int(c) for c in flow.checkpoint_node.tolist()]
        self.cp_set = frozenset(self.cps)
        levels = sorted(set(flow.group_priority.tolist()))
        self.n_levels = len(levels)
        self.level_of = [levels.index(int(flow.group_priority[int(g)])) for g in flow.source_group.tolist()]
        nc = flow.node_closed
        rows = list(zip(nc.item.tolist(), nc.begin.tolist(), nc.end.tolist(), strict=True))
        self.closed = [tuple((int(a), int(b)) for it, a, b in rows if it == node) for node in self.cps]
        self.gathering = sorted({int(n) for n in flow.source_node.tolist()})
        self.best = cache(self._best)

    def loads(self, v: int, g: int, waiting: tuple[int, ...], room: int) -> list[tuple[tuple[int, int], ...]]:
        p = self.p
        seats, stretchers = p.capacity(v)
        here = [s for s in range(len(waiting)) if int(p.flow.source_node[s]) == g and waiting[s] > 0]
        out: list[tuple[tuple[int, int], ...]] = [()]
        for s in here:
            out = [(*load, (s, n)) for load in out for n in range(waiting[s] + 1)]
        ok = []
        for load in out:
            lying = sum(n for s, n in load if p.source_stretcher[s])
            seated = sum(n for s, n in load if not p.source_stretcher[s])
            if 0 < lying + seated <= room and lying <= stretchers and seated <= seats:
                ok.append(tuple((s, n) for s, n in load if n))
        return ok

    def routes(
        self,
        kind: int,
        g: int,
        dest: int,
        ready: int,
        people: int,
        booked: tuple[tuple[tuple[int, int], ...], ...],
    ) -> list[tuple[int, int, int, int]]:
        """(arrival, checkpoint or -1, inspection start, end) of every loaded route, by the deadline."""
        legs, p = self.legs, self.p
        out: list[tuple[int, int, int, int]] = []
        direct = legs.drive(kind, g, dest, ready, avoid=self.cp_set)
        if direct is not None:
            out.append((direct.arrival, -1, 0, 0))
        for c, cnode in enumerate(self.cps):
            others = self.cp_set - {cnode}
            first = legs.drive(kind, g, cnode, ready, avoid=others)
            if first is None:
                continue
            need = p.inspection_steps(c, people)
            start = _gap(booked[c] + self.closed[c], first.arrival, need)
            second = legs.drive(kind, cnode, dest, start + need, avoid=others)
            if second is not None:
                out.append((second.arrival, c, start, start + need))
        return [r for r in out if r[0] <= p.horizon]

    def _best(self, state: State) -> Key:
        p = self.p
        free, waiting, room, booked, completion = state
        result: Key = (*([0] * self.n_levels), completion, 0)  # stop here
        for v in range(p.n_vehicles):
            kind = int(p.vehicle_type[v])
            approach = {g: self.legs.drive(kind, free[v][0], g, free[v][1]) for g in self.gathering}
            for g, path in approach.items():
                if path is None or path.arrival > p.horizon:
                    continue
                ready = path.arrival + int(p.load_steps[kind])
                for r, dest in enumerate(p.flow.dest_node.tolist()):
                    for load in self.loads(v, g, waiting, room[r]):
                        people = sum(n for _, n in load)
                        for arrival, c, start, end in self.routes(kind, g, int(dest), ready, people, booked):
                            new_free = list(free)
                            new_free[v] = (int(dest), arrival + int(p.unload_steps[kind]))
                            new_waiting = list(waiting)
                            gained = [0] * self.n_levels
                            for s, n in load:
                                new_waiting[s] -= n
                                gained[self.level_of[s]] += n
                            new_room = list(room)
                            new_room[r] -= people
                            new_booked = list(booked)
                            if c >= 0:
                                new_booked[c] = tuple(sorted((*booked[c], (start, end))))
                            after = self.best(
                                (
                                    tuple(new_free),
                                    tuple(new_waiting),
                                    tuple(new_room),
                                    tuple(new_booked),
                                    max(completion, arrival),
                                )
                            )
                            out = [a - n for a, n in zip(after[:-2], gained, strict=True)]
                            result = min(result, (*out, after[-2], after[-1] + 1))
        return result


def brute_force(problem: ConvoyProblem, legs: Legs) -> Key:
    """The lexicographic optimum by trying every sequence of trips (any vehicle next, any gathering and
    reception point, any route, any load), each timed at the earliest; an inspection takes the first
    free time at its checkpoint given the trips placed before it (placing trips in the order of their
    inspections reaches every plan)."""
    p = problem
    flow = p.flow
    start: State = (
        tuple(
            (int(n), int(t)) for n, t in zip(p.vehicle_node.tolist(), p.vehicle_ready.tolist(), strict=True)
        ),
        tuple(int(n) for n in flow.source_people.tolist()),
        tuple(10**9 if c < 0 else int(c) for c in flow.dest_cap.tolist()),
        tuple(() for _ in flow.checkpoint_ids),
        0,
    )
    return _Enumeration(problem, legs).best(start)


# -- tests ------------------------------------------------------------------------------------------

SMALL = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@SMALL
@given(
    seed=st.integers(0, 10_000),
    gathering=st.integers(1, 3),
    reception=st.integers(1, 2),
    vehicles=st.integers(1, 3),
    checkpoint=st.booleans(),
    closures=st.booleans(),
    people_rate=st.booleans(),
)
def test_exact_plans_verify_beat_greedy_and_respect_every_bound(
    seed: int,
    gathering: int,
    reception: int,
    vehicles: int,
    checkpoint: bool,
    closures: bool,
    people_rate: bool,
) -> None:
    problem = convoy(
        seed,
        gathering=gathering,
        reception=reception,
        vehicles=vehicles,
        horizon=24,
        checkpoint=checkpoint,
        closures=closures,
        people_rate=people_rate,
    )
    plan = solve_convoy(problem, method="exact", time_limit=30)
    assert plan.verify(problem) == []
    legs = Legs(problem)
    assert objective_key(problem, plan.trips) <= objective_key(problem, greedy(problem, legs).trips)
    bounds = convoy_bounds(problem, legs)
    for bound in (bounds.people, bounds.fleet, bounds.flow, bounds.checkpoint):
        assert bound is None or plan.evacuated <= bound
    if plan.status == "optimal":
        assert plan.bound == plan.evacuated


TINY = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@TINY
@given(
    seed=st.integers(0, 10_000),
    gathering=st.integers(1, 2),
    vehicles=st.integers(1, 2),
    checkpoint=st.booleans(),
    closures=st.booleans(),
    people_rate=st.booleans(),
)
def test_exact_reaches_the_optimum_of_the_mip_and_of_every_plan(
    seed: int, gathering: int, vehicles: int, checkpoint: bool, closures: bool, people_rate: bool
) -> None:
    problem = convoy(
        seed,
        gathering=gathering,
        reception=1 + seed % 2,
        vehicles=vehicles,
        horizon=14,
        checkpoint=checkpoint,
        closures=closures,
        people_rate=people_rate,
        nodes=6,
        most_people=4,
    )
    legs = Legs(problem)
    result = solve_exact(problem, legs, time_limit=30)
    assert result.status == "optimal"
    key = objective_key(problem, result.schedule.trips)
    mip = solve_mip(problem, legs, time_limit=60)
    assert mip.status == "optimal"
    assert mip.key == key
    assert brute_force(problem, legs) == key


def test_a_busy_checkpoint_is_shared_one_vehicle_at_a_time() -> None:
    """Every loaded road to the reception point passes the checkpoint: inspections queue there, one at
    a time and never while it is closed, and the optimum is the enumeration's."""
    base = convoy(
        0,
        gathering=1,
        reception=1,
        vehicles=3,
        horizon=22,
        checkpoint=True,
        closures=False,
        people_rate=False,
    )
    # 0 depot, 1 and 2 gathering points, 3 the checkpoint, 4 the reception point
    arcs = [(0, 1, 100, 1), (1, 0, 100, 1), (0, 2, 100, 1), (2, 0, 100, 1), (1, 3, 100, 2), (3, 1, 100, 2)]
    arcs += [(2, 3, 100, 2), (3, 2, 100, 2), (3, 4, 100, 2), (4, 3, 100, 2)]
    flow = flow_problem(
        5,
        arcs,
        sources=[(1, 5, 0), (2, 4, 0), (2, 1, 1)],
        destinations=[4],
        horizon=22,
        node_cap={3: 100},
        node_closed=[(3, 6, 9)],
        groups=(("general", 2), ("wounded", 1)),
    )
    problem = replace(
        base,
        flow=flow,
        type_seats=np.asarray([3, 0]),
        type_stretchers=np.asarray([1, 1]),
        vehicle_type=np.asarray([0, 0, 0]),
        vehicle_ready=np.asarray([0, 0, 0]),
        checkpoint_inspection=np.asarray([3]),
    )
    legs = Legs(problem)
    result = solve_exact(problem, legs, time_limit=30)
    assert result.status == "optimal"
    plan = result.schedule.plan(method="exact", status=result.status, bound=10**6, bound_kind="t", stats={})
    assert plan.verify(problem) == []
    assert plan.trips and all(len(t.inspections) == 1 for t in plan.trips)
    spans = sorted((i.start, i.end) for t in plan.trips for i in t.inspections)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert all(e <= 6 or s >= 9 for s, e in spans)
    assert brute_force(problem, legs) == objective_key(problem, plan.trips)


def test_people_on_board_at_the_start_are_delivered_first() -> None:
    problem = convoy(
        3,
        gathering=2,
        reception=2,
        vehicles=2,
        horizon=24,
        checkpoint=True,
        closures=False,
        people_rate=False,
        on_board=True,
    )
    plan = solve_convoy(problem, method="exact", time_limit=30)
    assert plan.verify(problem) == []
    first = plan.trips_of("v0")[0]
    assert first.load == (("s0", 1),) and first.board_start == first.board_end
    with pytest.raises(ValueError, match="on board"):
        solve_mip(problem, Legs(problem))


def test_a_plan_cut_short_is_not_called_optimal() -> None:
    """With almost no time, the method returns a feasible plan (at least the dispatcher's), not a claim
    of optimality, and the exact optimum is at least as good."""
    problem = convoy(
        11, gathering=3, reception=2, vehicles=3, horizon=40, checkpoint=True, closures=True, people_rate=True
    )
    legs = Legs(problem)
    quick = solve_exact(problem, legs, time_limit=0.01)
    assert quick.status == "feasible"
    plan = quick.schedule.plan(method="exact", status=quick.status, bound=10**6, bound_kind="t", stats={})
    assert plan.verify(problem) == []
    assert objective_key(problem, quick.schedule.trips) <= objective_key(problem, greedy(problem, legs).trips)


# -- the completion floor and the trips needed (solve/convoy/cuts.py) --------------------------------


@TINY
@given(
    seed=st.integers(0, 10_000),
    gathering=st.integers(1, 2),
    vehicles=st.integers(1, 2),
    checkpoint=st.booleans(),
    closures=st.booleans(),
)
def test_the_ceiling_and_the_floor_hold_the_optimum_of_every_plan(
    seed: int, gathering: int, vehicles: int, checkpoint: bool, closures: bool
) -> None:
    """The people ceiling is never below the enumeration's people out (weighted by level); the floor,
    given those people out, never above its completion and trips; the exact method, which uses both,
    still reaches the enumeration's optimum; a plan bringing everyone out makes the trips each
    gathering point needs."""
    problem = convoy(
        seed,
        gathering=gathering,
        reception=1 + seed % 2,
        vehicles=vehicles,
        horizon=16,
        checkpoint=checkpoint,
        closures=closures,
        people_rate=False,
        nodes=6,
        most_people=3,
    )
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    weight = sum(slots) + 1
    key = brute_force(problem, legs)
    weights = level_weights(problem)
    people = sum(w * -n for w, n in zip(weights, key[:-2], strict=True))
    ceiling = people_ceiling(problem, legs, slots, weights, 10.0)
    assert ceiling is not None and people <= ceiling
    everyone = -sum(key[:-2]) == int(problem.flow.source_people.sum())
    floor = completion_floor(problem, legs, slots, weight, 10.0, 1, None if everyone else (weights, people))
    assert floor is not None  # the optimum is a solution of the programme
    assert floor <= key[-2] * weight + key[-1], (floor // weight, floor % weight, key)
    result = solve_exact(problem, legs, time_limit=30)
    assert result.status == "optimal" and objective_key(problem, result.schedule.trips) == key
    made = floor_plan(problem, legs, slots, 10.0)
    if made is not None:  # the floor's solution as a plan: it verifies, everyone out, not above the optimum
        plan = made.plan(method="x", status="feasible", bound=10**6, bound_kind="x", stats={})
        assert plan.verify(problem) == []
        assert made.waiting_people() == 0 and objective_key(problem, made.trips) >= key
    if everyone:
        node_of = {nid: i for i, nid in enumerate(problem.network.node_ids)}
        for node, need in trips_needed(problem).items():
            assert sum(1 for t in result.schedule.trips if node_of[t.gathering] == node) >= need


def test_the_completion_floor_is_the_optimum_where_one_bus_shuttles() -> None:
    """One bus of 3 seats, 7 people at one gathering point, one reception point: three trips, and the
    floor (first trip, then two cycles) is the enumeration's optimum; the exact method proves it. With
    an earlier deadline, the ceiling is the people of the trips that fit."""
    base = convoy(
        0,
        gathering=1,
        reception=1,
        vehicles=1,
        horizon=40,
        checkpoint=False,
        closures=False,
        people_rate=False,
    )
    # 0 depot, 1 gathering point, 2 reception point
    arcs = [(0, 1, 100, 2), (1, 0, 100, 2), (1, 2, 100, 3), (2, 1, 100, 3)]
    flow = flow_problem(
        3, arcs, sources=[(1, 7, 0)], destinations=[2], horizon=40, groups=(("general", 2), ("wounded", 1))
    )
    problem = replace(
        base,
        flow=flow,
        type_seats=np.asarray([3, 0]),
        type_stretchers=np.asarray([0, 1]),
        vehicle_type=np.asarray([0]),
        vehicle_ready=np.asarray([0]),
        load_steps=np.asarray([1, 1]),
        unload_steps=np.asarray([1, 1]),
    )
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    weight = sum(slots) + 1
    floor = completion_floor(problem, legs, slots, weight, 10.0)
    # first: 2 to the point + 1 boarding + 3 haul = 6; then twice 1 unloading + 3 back + 1 + 3 = 8
    assert floor == 22 * weight + 3
    assert trips_needed(problem) == {1: 3}
    assert brute_force(problem, legs) == (0, -7, 22, 3)
    result = solve_exact(problem, legs, time_limit=30)
    assert result.status == "optimal"
    # proved by the walk relaxation's floors (.walk_columns), 22 steps and 3 trips, without the model
    assert "OPTIMAL:walk-floor" in result.levels
    assert any(note.startswith("columns:floor:22+3:") for note in result.levels), result.levels
    made = floor_plan(problem, legs, slots, 10.0)  # three trips of the one bus: the optimum
    assert made is not None and objective_key(problem, made.trips) == (0, -7, 22, 3)
    # with a deadline at step 15 two trips fit (arrivals 6 and 14): the ceiling is 6 people, the optimum
    early = replace(problem, flow=replace(flow, axis=replace(flow.axis, horizon=15)))
    legs = Legs(early)
    slots = trips_possible(early, legs)
    assert people_ceiling(early, legs, slots, level_weights(early), 10.0) == 6
    assert brute_force(early, legs) == (0, -6, 14, 2)
    assert floor_plan(early, legs, slots, 10.0) is None  # not everyone can be brought out


def test_the_floor_and_the_ceiling_refuse_weights_and_slots_that_do_not_fit() -> None:
    problem = convoy(
        1,
        gathering=2,
        reception=1,
        vehicles=2,
        horizon=20,
        checkpoint=False,
        closures=False,
        people_rate=False,
    )
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    with pytest.raises(ValueError, match="weight above every trip count"):
        completion_floor(problem, legs, slots, sum(slots), 1.0)
    with pytest.raises(ValueError, match="one slot count per vehicle"):
        completion_floor(problem, legs, slots[:1], 10**6, 1.0)
    with pytest.raises(ValueError, match="one slot count per vehicle"):
        people_ceiling(problem, legs, slots[:1], [1, 1], 1.0)
    with pytest.raises(ValueError, match="one weight per priority level"):
        people_ceiling(problem, legs, slots, [1], 1.0)
    with pytest.raises(ValueError, match="one weight per priority level"):
        completion_floor(problem, legs, slots, 10**6, 1.0, 1, ([1, 1, 1], 3))
    with pytest.raises(ValueError, match="one slot count per vehicle"):
        floor_plan(problem, legs, slots[:1], 1.0)


def test_the_floor_and_the_ceiling_leave_out_vehicles_with_people_on_board() -> None:
    """A vehicle with people on board starts off the gathering points: the programmes do not model it
    and say so (None) rather than bound the plans wrongly."""
    problem = convoy(
        3,
        gathering=2,
        reception=2,
        vehicles=2,
        horizon=24,
        checkpoint=True,
        closures=False,
        people_rate=False,
        on_board=True,
    )
    legs = Legs(problem)
    slots = trips_possible(problem, legs)
    assert completion_floor(problem, legs, slots, sum(slots) + 1, 1.0) is None
    assert people_ceiling(problem, legs, slots, level_weights(problem), 1.0) is None
    assert floor_plan(problem, legs, slots, 1.0) is None
