"""Benchmark instances: TNTP networks with seeded evacuees, and grids for the quickest-time target.

Every instance is a :class:`~corridor.problem.model.Problem` on corridor's time model
(``docs/performance.md`` states it): dt = 1 min, an arc takes ``max(1, ceil(minutes))`` steps and
carries ``floor(people_per_hour / 60)`` people per step; one person per vehicle, so road
capacities in vehicles per hour are people per hour. No closures, no checkpoints, one group,
destinations without capacity limits.

**TNTP** (``$CORRIDOR_TNTP`` or ``../shared/data/tntp``). Units per network, from each README
(:data:`TNTP`); Berlin-Center's README gives none (see its note). Zones below ``<FIRST THRU NODE>``
are not through nodes in TNTP: the arcs *into* them are dropped, so a zone can only be a starting
point. Destinations (reception points) sit at the periphery: the coordinates are cut into equal
angular sectors around the median point, and in each sector the through node with the largest
inbound road capacity among the outer quarter of that sector's nodes is taken (no randomness).
Sources: 10 % of the other nodes (at least 2), drawn with ``numpy.random.default_rng(seed)``,
each with a uniform integer number of people in ``[100, 1000]``.

**Grid** (:func:`grid_instance`): a rows x cols lattice of two-way roads, each road taking 1-3
minutes and carrying 300-900 vehicles/hour (seeded), 10 % of the nodes as sources sharing the
evacuees, and four reception points on the border.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from corridor.core.timeaxis import TimeAxis
from corridor.network.build import network_from_tntp
from corridor.network.model import Network, network_from_arrays
from corridor.network.transform import keep_arcs
from corridor.problem.model import UNLIMITED, IntArray, Problem, Windows
from corridor.problem.reach import UNREACHABLE, steps_to_destinations

TNTP_ENV = "CORRIDOR_TNTP"
DEFAULT_TNTP = Path(__file__).resolve().parents[2] / "shared" / "data" / "tntp"
START = datetime(2016, 12, 15, 6, 0, tzinfo=UTC)
DEFAULT_SEED = 20161215
SOURCE_SHARE = 0.10
PEOPLE_RANGE = (500, 5000)


@dataclass(frozen=True)
class TntpSpec:
    """Where a TNTP network's files are and which units we read them in."""

    folder: str
    net: str
    nodes: str
    time_unit: str
    length_unit: str
    crs: str
    n_dest: int
    units: str


TNTP: dict[str, TntpSpec] = {
    "SiouxFalls": TntpSpec(
        "SiouxFalls",
        "SiouxFalls_net.tntp",
        "SiouxFalls_node.tntp",
        "0.01h",
        "m",
        "EPSG:4326",
        3,
        "free-flow time in 0.01 h (README: 'The units of free flow travel times are 0.01 hours'),"
        " i.e. 0.6 min per unit; capacity in vehicles/hour; lengths arbitrary (README: set equal"
        " to the free-flow times; unused); lon/lat drawn to match the paper's figure",
    ),
    "Anaheim": TntpSpec(
        "Anaheim",
        "Anaheim_net.tntp",
        "anaheim_nodes.geojson",
        "min",
        "ft",
        "EPSG:4326",
        6,
        "free-flow time in minutes, length in feet (README); capacity in vehicles/hour (file"
        " header 'Capacity (veh/h)'); lon/lat from anaheim_nodes.geojson; zones 1-38 not thru",
    ),
    "Chicago-Sketch": TntpSpec(
        "Chicago-Sketch",
        "ChicagoSketch_net.tntp",
        "ChicagoSketch_node.tntp",
        "min",
        "mi",
        "local",
        8,
        "free-flow time in minutes, length in miles (README); capacity in vehicles/hour (file"
        " header 'capacity (veh/h)'); zone connectors have time 0 and take one step;"
        " coordinates Illinois State Plane, feet; every node may be passed through",
    ),
    "Berlin-Center": TntpSpec(
        "Berlin-Center",
        "berlin-center_net.tntp",
        "berlin-center_node.tntp",
        "min",
        "m",
        "local",
        8,
        "README gives no units. Read as: free-flow time in minutes, capacity in vehicles/hour,"
        " length in metres (unused). This is the reading behind issue 2's reference size"
        " (about 9.8M naive arcs over 240 steps). Caveat: lengths/times then give a median"
        " speed of about 2.2 km/h, so the times may be in a finer unit (a tenth of a minute"
        " would give 22 km/h); at minutes the roads are slow and take several steps each."
        " Zone connectors have time 0 (one step); zones 1-865 not thru",
    ),
}


@dataclass(frozen=True)
class Instance:
    """A benchmark problem and how it was made."""

    name: str
    problem: Problem
    units: str
    recipe: str


def tntp_root(override: str | Path | None = None) -> Path:
    """The folder holding the TNTP networks: ``override``, else ``$CORRIDOR_TNTP``, else default."""
    if override:
        return Path(override)
    env = os.environ.get(TNTP_ENV)
    return Path(env) if env else DEFAULT_TNTP


def first_thru_node(net_path: Path) -> int:
    """``<FIRST THRU NODE>`` from a TNTP net file's metadata (1 when absent)."""
    with net_path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            text = line.strip()
            if text.upper().startswith("<FIRST THRU NODE>"):
                return int(float(text.split(">", 1)[1].strip()))
            if text.upper().startswith("<END OF METADATA>"):
                break
    return 1


def load_tntp_network(name: str, root: str | Path | None = None) -> Network:
    """A TNTP network in corridor's units, arcs into non-thru zones dropped."""
    spec = TNTP[name]
    folder = tntp_root(root) / spec.folder
    net_path = folder / spec.net
    network = network_from_tntp(
        net_path,
        folder / spec.nodes,
        time_unit=spec.time_unit,
        length_unit=spec.length_unit,
        name=name,
        crs=spec.crs,
    )
    zones = first_thru_node(net_path) - 1  # node ids 1..zones are not thru nodes
    if zones > 0:
        network = keep_arcs(network, network.head >= zones)
    return network


def peripheral_nodes(network: Network, count: int, candidates: NDArray[np.bool_]) -> IntArray:
    """One reception point per angular sector: the candidate with the most inbound capacity (from
    other candidates) among the outer quarter of the sector's candidates (ties: the farthest)."""
    inner = candidates[network.tail]
    inbound = np.bincount(network.head[inner], weights=network.capacity[inner], minlength=network.n_nodes)
    cx, cy = float(np.median(network.x)), float(np.median(network.y))
    dx, dy = network.x - cx, network.y - cy
    radius = np.hypot(dx, dy)
    sector = np.floor((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * count).astype(np.int64)
    sector = np.minimum(sector, count - 1)
    chosen: list[int] = []
    for k in range(count):
        pool = np.flatnonzero(candidates & (sector == k) & (inbound > 0))
        if len(pool) == 0:
            continue
        outer = pool[radius[pool] >= np.quantile(radius[pool], 0.75)]
        order = np.lexsort((-radius[outer], -inbound[outer]))
        chosen.append(int(outer[order[0]]))
    return np.asarray(sorted(set(chosen)), dtype=np.int64)


def make_problem(
    name: str,
    network: Network,
    source_node: IntArray,
    source_people: IntArray,
    dest_node: IntArray,
    horizon: int,
    *,
    dt: float = 1.0,
    people_per_vehicle: float = 1.0,
) -> Problem:
    """A problem on corridor's time model: one group, no closures, unlimited destinations."""
    axis = TimeAxis(START, dt, horizon)
    n_src, n_dest = len(source_node), len(dest_node)
    return Problem(
        name=name,
        network=network,
        axis=axis,
        tau=axis.steps_for(network.travel_time),
        arc_cap=axis.per_step(network.capacity * people_per_vehicle),
        node_cap=np.full(network.n_nodes, UNLIMITED, dtype=np.int64),
        arc_closed=Windows.empty(),
        node_closed=Windows.empty(),
        source_ids=tuple(f"S{network.node_ids[int(v)]}" for v in source_node),
        source_node=np.asarray(source_node, dtype=np.int64),
        source_people=np.asarray(source_people, dtype=np.int64),
        source_group=np.zeros(n_src, dtype=np.int64),
        group_names=("everyone",),
        group_priority=np.ones(1, dtype=np.int64),
        dest_ids=tuple(f"D{network.node_ids[int(v)]}" for v in dest_node),
        dest_node=np.asarray(dest_node, dtype=np.int64),
        dest_cap=np.full(n_dest, UNLIMITED, dtype=np.int64),
    )


def tntp_instance(
    name: str, horizon: int, *, root: str | Path | None = None, seed: int = DEFAULT_SEED
) -> Instance:
    """TNTP network ``name`` with seeded sources and peripheral reception points."""
    spec = TNTP[name]
    network = load_tntp_network(name, root)
    zones = first_thru_node(tntp_root(root) / spec.folder / spec.net) - 1
    thru = np.arange(network.n_nodes) >= zones
    dest = peripheral_nodes(network, spec.n_dest, thru)
    rng = np.random.default_rng(seed)
    others = np.setdiff1d(np.arange(network.n_nodes, dtype=np.int64), dest)
    n_src = max(2, round(SOURCE_SHARE * network.n_nodes))
    src = np.sort(rng.choice(others, size=n_src, replace=False))
    people = rng.integers(PEOPLE_RANGE[0], PEOPLE_RANGE[1] + 1, size=n_src).astype(np.int64)
    problem = make_problem(f"{name}-{horizon}", network, src, people, dest, horizon)
    recipe = (
        f"{n_src} sources (10% of nodes, seed {seed}, people uniform in"
        f" [{PEOPLE_RANGE[0]}, {PEOPLE_RANGE[1]}]), {len(dest)} peripheral reception points"
    )
    return Instance(name, problem, spec.units, recipe)


def grid_instance(
    rows: int = 60,
    cols: int = 100,
    people: int = 30_000,
    horizon: int = 350,
    *,
    seed: int = DEFAULT_SEED,
) -> Instance:
    """A ``rows`` x ``cols`` grid of two-way roads with ``people`` evacuees (quickest-time target).

    Roads take 1-3 minutes and carry 300, 600 or 900 vehicles/hour (uniform, seeded, the same
    both ways). 10 % of the nodes are sources; the evacuees are split among them at random (each
    at least one). Four reception points, at the middle of each side. (Calibrated so that the
    quickest time falls inside the 350 steps and a naive search takes about as long as issue 2
    says: around a minute.)
    """
    rng = np.random.default_rng(seed)
    ids = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    horiz = np.column_stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()])
    vert = np.column_stack([ids[:-1, :].ravel(), ids[1:, :].ravel()])
    edges = np.concatenate([horiz, vert])
    minutes = rng.integers(1, 4, size=len(edges)).astype(np.float64)
    vph = rng.choice(np.array([300.0, 600.0, 900.0]), size=len(edges))
    tail = np.concatenate([edges[:, 0], edges[:, 1]])
    head = np.concatenate([edges[:, 1], edges[:, 0]])
    yy, xx = np.divmod(np.arange(rows * cols), cols)
    network = network_from_arrays(
        f"grid-{rows}x{cols}",
        [str(i) for i in range(rows * cols)],
        tail.tolist(),
        head.tolist(),
        np.concatenate([vph, vph]).tolist(),
        np.concatenate([minutes, minutes]).tolist(),
        x=xx.astype(float).tolist(),
        y=yy.astype(float).tolist(),
        crs="local",
    )
    mid_r, mid_c = rows // 2, cols // 2
    border = [ids[0, mid_c], ids[rows - 1, mid_c], ids[mid_r, 0], ids[mid_r, cols - 1]]
    dest = np.asarray(sorted({int(v) for v in border}), dtype=np.int64)
    others = np.setdiff1d(np.arange(rows * cols, dtype=np.int64), dest)
    n_src = max(1, round(SOURCE_SHARE * rows * cols))
    src = np.sort(rng.choice(others, size=n_src, replace=False))
    split = rng.multinomial(people - n_src, np.full(n_src, 1.0 / n_src)) + 1
    problem = make_problem(network.name, network, src, split.astype(np.int64), dest, horizon)
    recipe = (
        f"{rows}x{cols} grid, {n_src} sources (seed {seed}) sharing {people:,} people,"
        f" {len(dest)} reception points on the border, horizon {horizon} steps"
    )
    units = "synthetic: minutes and vehicles/hour as generated"
    return Instance(network.name, problem, units, recipe)


def evacuation_instance(
    name: str,
    horizon: int,
    *,
    exits: int = 2,
    people_per_node: tuple[int, int] = (20, 200),
    unlimited_connectors: bool = False,
    root: str | Path | None = None,
    seed: int = DEFAULT_SEED,
) -> Instance:
    """Evacuation shape (issue 12): people at *every* node of TNTP network ``name`` but the exits
    (thousands of sources on the larger networks), ``exits`` peripheral reception points, and a
    horizon up to the quickest time (a few hundred steps). People per node uniform in
    ``people_per_node`` (seeded). Zone connectors keep their capacity as written (often
    unlimited, 2^31 - 1 or 49,500 vehicles/hour), as a user's file would;
    ``unlimited_connectors`` writes every zero-time arc (a zone connector) as 2^31 - 1."""
    spec = TNTP[name]
    network = load_tntp_network(name, root)
    if unlimited_connectors:
        connector = network.travel_time == 0
        network = replace(network, capacity=np.where(connector, float(2**31 - 1), network.capacity))
    zones = first_thru_node(tntp_root(root) / spec.folder / spec.net) - 1
    thru = np.arange(network.n_nodes) >= zones
    dest = peripheral_nodes(network, exits, thru)
    rng = np.random.default_rng(seed)
    src = np.setdiff1d(np.arange(network.n_nodes, dtype=np.int64), dest)
    people = rng.integers(people_per_node[0], people_per_node[1] + 1, size=len(src)).astype(np.int64)
    problem = make_problem(f"{name}-evac{len(dest)}-{horizon}", network, src, people, dest, horizon)
    reach = steps_to_destinations(problem)[src] < UNREACHABLE  # nodes with a way out
    if not reach.all():
        src, people = src[reach], people[reach]
        problem = make_problem(f"{name}-evac{len(dest)}-{horizon}", network, src, people, dest, horizon)
    unlimited = ", connectors written as 2^31 - 1" if unlimited_connectors else ""
    recipe = (
        f"people at all {len(src):,} nodes with a way out but the exits (seed {seed}, uniform in"
        f" [{people_per_node[0]}, {people_per_node[1]}], {int(people.sum()):,} in all),"
        f" {len(dest)} peripheral exit(s){unlimited}"
    )
    label = f"{name} (evacuation, {len(dest)} exits{unlimited and ', unlimited connectors'})"
    return Instance(label, problem, spec.units, recipe)
