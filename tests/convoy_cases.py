"""Small random convoy problems (roads, closures, a checkpoint with holds, stretcher groups, a fleet)
and a brute-force enumeration of trip decisions, for the convoy solvers' property tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from corridor.network.build import load_network
from corridor.problem.convoy import ConvoyProblem, compile_convoy
from corridor.problem.model import Problem
from corridor.scenario import load_scenario
from corridor.scenario.model import Scenario
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Intent, Schedule, objective_key
from factories import problem

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "east-aleppo-2016" / "scenario.toml"


def example() -> tuple[Scenario, ConvoyProblem]:
    scenario = load_scenario(EXAMPLE)
    compiled, findings = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert compiled is not None, [f.render() for f in findings]
    return scenario, compiled


@st.composite
def convoy_problems(
    draw: st.DrawFn, *, vehicles: int = 3, horizon: tuple[int, int] = (4, 24)
) -> ConvoyProblem:
    """A connected road network of 3-5 nodes (a two-way path plus random roads), 1-3 sources of the
    wounded (stretchers) or the general population, 1-2 reception points, maybe a checkpoint with
    inspection times, a rate and holds, road closures, and 1-``vehicles`` vehicles of 1-2 types."""
    n = draw(st.integers(3, 5))
    steps = st.integers(1, 3)
    arcs = []
    for u in range(n - 1):
        t = draw(steps)
        arcs += [(u, u + 1, 5, t), (u + 1, u, 5, t)]
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1])
    arcs += [(u, v, 5, draw(steps)) for u, v in draw(st.lists(pairs, max_size=3))]
    nodes = st.integers(0, n - 1)
    sources = draw(st.lists(st.tuples(nodes, st.integers(0, 12), st.integers(0, 1)), min_size=1, max_size=3))
    dest = draw(st.lists(nodes, min_size=1, max_size=2, unique=True))
    dests = [(d, draw(st.sampled_from([-1, 4, 10]))) for d in dest]
    checkpoint = draw(st.lists(nodes, max_size=1))
    node_cap = {c: 5 for c in checkpoint}
    at, span = st.integers(0, 8), st.integers(1, 6)
    road_closed = draw(st.lists(st.tuples(st.integers(0, len(arcs) - 1), at, span), max_size=2))
    holds = draw(st.lists(st.tuples(st.sampled_from(checkpoint), at, span), max_size=1)) if checkpoint else []
    flow = problem(
        n,
        arcs,
        sources=sources,
        destinations=dests,
        horizon=draw(st.integers(*horizon)),
        node_cap=node_cap,
        arc_closed=[(a, b, b + c) for a, b, c in road_closed],
        node_closed=[(v, b, b + c) for v, b, c in holds],
        groups=[("wounded", 1), ("general", 2)],
    )
    kinds = draw(st.integers(1, 2))
    seats = [draw(st.integers(0, 5)) for _ in range(kinds)]
    stretchers = [draw(st.integers(0 if s else 1, 2)) for s in seats]
    count = draw(st.integers(1, vehicles))
    vehicle_type = [draw(st.integers(0, kinds - 1)) for _ in range(count)]
    c = len(checkpoint)
    return ConvoyProblem(
        flow=flow,
        type_ids=tuple(f"t{k}" for k in range(kinds)),
        type_seats=np.asarray(seats, dtype=np.int64),
        type_stretchers=np.asarray(stretchers, dtype=np.int64),
        type_speed=np.ones(kinds),
        load_steps=np.asarray([draw(st.integers(0, 2)) for _ in range(kinds)], dtype=np.int64),
        unload_steps=np.asarray([draw(st.integers(0, 2)) for _ in range(kinds)], dtype=np.int64),
        vehicle_ids=tuple(f"v{i}" for i in range(count)),
        vehicle_type=np.asarray(vehicle_type, dtype=np.int64),
        vehicle_node=np.asarray([draw(nodes) for _ in range(count)], dtype=np.int64),
        vehicle_ready=np.zeros(count, dtype=np.int64),
        vehicle_on_board=((),) * count,
        group_stretcher=np.asarray([True, False]),
        checkpoint_inspection=np.asarray([draw(st.integers(1, 3)) for _ in range(c)], dtype=np.int64),
        checkpoint_vehicle_rate=np.asarray([draw(st.sampled_from([0.0, 20.0])) for _ in range(c)]),
        checkpoint_people_rate=np.zeros(c),
    )


def brute_force(problem: ConvoyProblem, legs: Legs) -> tuple[int, ...]:
    """The best objective key over every sequence of decisions (vehicle, gathering node, reception
    point) until no more trip can be made, each timed at the earliest and filled as full as it can be."""
    flow = problem.flow
    choices = list(
        itertools.product(
            range(problem.n_vehicles), sorted(set(flow.source_node.tolist())), range(len(flow.dest_ids))
        )
    )
    best = objective_key(problem, ())

    def walk(schedule: Schedule) -> None:
        nonlocal best
        for v, g, r in choices:
            timed = schedule.trip(Intent(v, int(g), r))
            if timed is None:
                continue
            child = schedule.rebuilt(schedule.timed)
            child.commit(timed)
            best = min(best, objective_key(problem, child.trips))
            walk(child)

    walk(Schedule(problem, legs))
    return best


def buses(
    flow: Problem,
    *,
    depots: Sequence[int] = (0,),
    seats: int = 4,
    load: int = 1,
    unload: int = 1,
    ready: Sequence[int] | None = None,
    ids: Sequence[str] | None = None,
) -> ConvoyProblem:
    """A fleet of one bus type (``seats`` seats, no stretcher places, boarding ``load`` and unloading
    ``unload`` steps) with a bus at each of ``depots``, ready at ``ready`` (0); no checkpoint. The
    buses are ``bus-1``, ``bus-2``, ... unless ``ids`` names them."""
    count = len(depots)
    return ConvoyProblem(
        flow=flow,
        type_ids=("bus",),
        type_seats=np.asarray([seats], dtype=np.int64),
        type_stretchers=np.zeros(1, dtype=np.int64),
        type_speed=np.ones(1),
        load_steps=np.asarray([load], dtype=np.int64),
        unload_steps=np.asarray([unload], dtype=np.int64),
        vehicle_ids=tuple(ids) if ids is not None else tuple(f"bus-{i + 1}" for i in range(count)),
        vehicle_type=np.zeros(count, dtype=np.int64),
        vehicle_node=np.asarray(depots, dtype=np.int64),
        vehicle_ready=np.asarray(ready if ready is not None else [0] * count, dtype=np.int64),
        vehicle_on_board=tuple(() for _ in range(count)),
        group_stretcher=np.asarray([False]),
        checkpoint_inspection=np.zeros(0, dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(0),
        checkpoint_people_rate=np.zeros(0),
    )
