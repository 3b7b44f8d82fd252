"""Benchmark: corridor's exact planner against bare OR-Tools and HiGHS on TNTP networks.

    python -m bench.planner [--networks ...] [--horizons ...] [--skip-highs] [--markdown FILE]

Every row runs in its own subprocess (``python -m bench.planner --worker SPEC``), so that its
peak memory (``ru_maxrss``, C++ allocations included) is its own; rows run one after another.
Tables:

1. per network and horizon: corridor exact (max flow; least total time), corridor CCRP, and the
   peers on the naive expansion (OR-Tools max flow, OR-Tools min-cost flow, HiGHS LP), with a
   check that the objectives agree;
2. the quickest time for everyone on a grid (corridor vs a naive bisection of max flows);
3. Berlin-Center over 24 h at 1-min steps (peak memory).

Exit status 1 when an objective differs from the peers'.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

NETWORKS = ("SiouxFalls", "Anaheim", "Chicago-Sketch", "Berlin-Center")
HORIZONS = (120, 240)
DAY = 1440
ROWS: dict[str, str] = {
    "exact-max": "corridor exact (max-flow)",
    "exact-earliest": "corridor exact (earliest)",
    "exact-mincost": "OR-Tools min-cost (corridor's pruned network)",
    "ccrp": "corridor CCRP",
    "ortools-max": "OR-Tools max flow (naive)",
    "ortools-mincost": "OR-Tools min-cost (naive)",
    "highs": "HiGHS LP (naive)",
    "quickest-corridor": "corridor quickest_steps",
    "quickest-solve": "corridor solve (earliest + quickest)",
    "quickest-naive": "naive bisection of max flows",
}
Spec = dict[str, Any]
Result = dict[str, Any]


# --- worker (one row, in its own process) ---------------------------------------------------


def _mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _instance(spec: Spec) -> Any:
    from bench.instances import DEFAULT_SEED, evacuation_instance, grid_instance, tntp_instance

    if spec["type"] == "evacuation":
        return evacuation_instance(
            spec["name"],
            spec["horizon"],
            exits=spec["exits"],
            people_per_node=tuple(spec["people_per_node"]),
            unlimited_connectors=spec["unlimited_connectors"],
            root=spec.get("root"),
            seed=spec["seed"] if spec.get("seed") is not None else DEFAULT_SEED,
        )
    if spec["type"] == "grid":
        return grid_instance(spec["rows"], spec["cols"], spec["people"], spec["horizon"], seed=spec["seed"])
    return tntp_instance(spec["name"], spec["horizon"], root=spec.get("root"), seed=spec["seed"])


def _corridor_row(kind: str, problem: Any, verify: bool) -> Result:
    from corridor.solve.exact import solve_exact

    t0 = time.perf_counter()
    if kind == "exact-mincost":
        # The planner's method before the earliest-arrival flow: separates the gain of the
        # pruning from that of the successive augmentation.
        plan = solve_exact(problem, least_time="min-cost")
    elif kind == "ccrp":
        from corridor.solve.ccrp import solve_ccrp

        plan = solve_ccrp(problem)
    else:
        objective = "max-flow" if kind == "exact-max" else "earliest"
        plan = solve_exact(problem, objective=objective)
    wall = time.perf_counter() - t0
    s = plan.stats
    out: Result = {
        "expanded_arcs": int(s.get("expanded_arcs", 0)) or None,
        "build_s": s.get("build_s"),
        "solve_s": s.get("solve_s"),
        "plan_s": s.get("plan_s"),
        "total_s": wall,
        "out": plan.evacuated,
        "total_steps": plan.total_steps,
        "status": plan.status,
        "routes": len(plan.routes),
        "peak_mib": _mib(),
    }
    if kind == "ccrp":
        out["extra"] = {"iterations": s.get("iterations"), "everyone_steps": plan.evacuation_steps}
    if verify:
        t1 = time.perf_counter()
        violations = plan.verify(problem)
        out["verify"] = {"violations": len(violations), "first": violations[:3]}
        out["verify_s"] = time.perf_counter() - t1
    return out


def _peer_row(kind: str, problem: Any, spec: Spec) -> Result:
    from bench import peers

    if kind == "highs":
        r = peers.highs_lp(
            problem, time_limit=spec.get("time_limit", 600.0), solver=spec.get("solver", "ipm")
        )
    elif kind == "ortools-max":
        r = peers.ortools_max_flow(problem)
    else:
        r = peers.ortools_min_cost(problem)
    return {
        "expanded_arcs": r.expanded_arcs,
        "build_s": r.build_s,
        "solve_s": r.solve_s,
        "plan_s": None,
        "total_s": r.build_s + r.solve_s,
        "out": r.out,
        "total_steps": r.total_steps,
        "status": r.status,
        "peak_mib": _mib(),
    }


def _quickest_row(kind: str, problem: Any, naive_horizon: int | None = None) -> Result:
    from bench.peers import naive_quickest
    from corridor.solve import solve
    from corridor.solve.quickest import quickest_steps

    probes = 0

    def count(message: str) -> None:
        nonlocal probes
        if message.startswith("quickest time"):
            probes += 1

    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    if kind == "quickest-corridor":
        steps = quickest_steps(problem, progress=count)
    elif kind == "quickest-solve":
        plan = solve(problem, method="exact", objective="earliest", progress=count)
        steps = plan.evacuation_steps
        extra = {"proved": plan.evacuation_steps_proved, "out": plan.evacuated}
        extra["stats"] = {k: v for k, v in plan.stats.items() if k.endswith("_s")}
    else:
        r = naive_quickest(problem, naive_horizon)
        steps, probes = r.steps, r.probes
    return {
        "steps": steps,
        "probes": probes,
        "total_s": time.perf_counter() - t0,
        "peak_mib": _mib(),
        "extra": extra,
    }


def run_worker(spec: Spec) -> Result:
    """Run one row and return its measurements (printed as JSON by ``--worker``)."""
    t0 = time.perf_counter()
    instance = _instance(spec)
    problem = instance.problem
    head: Result = {
        "nodes": problem.n_nodes,
        "arcs": problem.n_arcs,
        "steps": problem.horizon,
        "evacuees": problem.people,
        "sources": len(problem.source_node),
        "destinations": len(problem.dest_node),
        "instance_s": time.perf_counter() - t0,
        "base_mib": _mib(),
    }
    kind = spec["kind"]
    if kind.startswith("quickest"):
        body = _quickest_row(kind, problem, spec.get("naive_horizon"))
    elif kind in ("exact-max", "exact-earliest", "exact-mincost", "ccrp"):
        body = _corridor_row(kind, problem, spec.get("verify", True))
    else:
        body = _peer_row(kind, problem, spec)
    return head | body


# --- driver ---------------------------------------------------------------------------------


@dataclass
class Row:
    group: str  # "main", "quickest" or "day"
    label: str  # network or instance name
    kind: str
    spec: Spec
    result: Result = field(default_factory=dict)
    note: str = ""
    check: str = ""


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores), from ``/proc/stat``."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_subprocess(spec: Spec, timeout: float) -> tuple[Result, str]:
    """Run one row in a fresh interpreter; add how much *other* load the machine carried."""
    cmd = [sys.executable, "-m", "bench.planner", "--worker", json.dumps(spec)]
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    busy0, child0, t0 = _busy_seconds(), _children_cpu(), time.perf_counter()
    note = ""
    result: Result = {}
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=root, env=env, check=False
        )
        if done.returncode != 0:
            lines = [x for x in done.stderr.strip().splitlines() if x.strip()]
            note = f"failed: {lines[-1] if lines else done.returncode}"
        else:
            result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired:
        note = f"timeout (> {timeout:.0f} s)"
    wall = time.perf_counter() - t0
    row_cpu = _children_cpu() - child0
    result["row_wall_s"] = wall
    result["row_cpu_s"] = row_cpu
    # Cores kept busy by anything but this row (the driver itself is idle while it waits).
    result["other_load"] = max(0.0, (_busy_seconds() - busy0 - row_cpu) / wall) if wall else 0.0
    return result, note


def _best_of(spec: Spec, timeout: float, repeat: int) -> tuple[Result, str]:
    """Run a row ``repeat`` times and keep the fastest run (on a shared machine the others only
    measure the other load); its result records how many runs it was the best of."""
    best, note = _run_subprocess(spec, timeout)
    for _ in range(repeat - 1):
        if note:
            break
        result, note = _run_subprocess(spec, timeout)
        if not note and result.get("total_s", 0.0) < best.get("total_s", 0.0):
            best = result
        note = ""
    best["runs"] = repeat
    return best, note


def _ccrp_available() -> bool:
    return importlib.util.find_spec("corridor.solve.ccrp") is not None


def _quickest_rows(args: argparse.Namespace) -> list[Row]:
    """The quickest-time table: grids, and an instance of evacuation shape."""
    rows: list[Row] = []
    grids = [(60, 100, 30_000, 350)]
    if args.big_quickest:
        grids.append((100, 100, 100_000, 350))
    for r, c, people, horizon in grids:
        g = {"type": "grid", "rows": r, "cols": c, "people": people, "horizon": horizon}
        for kind in ("quickest-corridor", "quickest-solve", "quickest-naive"):
            spec = g | {"seed": args.seed, "kind": kind}
            rows.append(Row("quickest", f"grid {r}x{c}", kind, spec))
    # Evacuation shape (issue 12): people at every node, one exit, connectors as 2^31 - 1, a
    # deadline (120 min) before the quickest time; the naive bisection searches [0, 400].
    evac = {
        "type": "evacuation",
        "name": "Chicago-Sketch",
        "exits": 1,
        "people_per_node": [20, 200],
        "unlimited_connectors": True,
        "horizon": 120,
        "naive_horizon": 400,
        "root": args.tntp,
    }
    for kind in ("quickest-corridor", "quickest-solve", "quickest-naive"):
        spec = evac | {"seed": args.seed, "kind": kind}
        rows.append(Row("quickest", "Chicago-Sketch evacuation, 1 exit", kind, spec))
    return rows


def plan_rows(args: argparse.Namespace) -> list[Row]:
    """The rows to run, in order (for each network and horizon: peers' max flow before HiGHS)."""
    base = {"type": "tntp", "root": args.tntp, "seed": args.seed, "verify": not args.no_verify}
    kinds = ["exact-max", "exact-earliest", "exact-mincost"]
    if not args.skip_ccrp and _ccrp_available():
        kinds.append("ccrp")
    kinds += ["ortools-max", "ortools-mincost"]
    if not args.skip_highs:
        kinds.append("highs")
    rows: list[Row] = []
    for name in args.networks:
        for horizon in args.horizons:
            for kind in kinds:
                spec = base | {"name": name, "horizon": horizon, "kind": kind}
                if kind == "highs":
                    spec["time_limit"] = args.highs_time_limit
                    spec["solver"] = args.highs_solver
                rows.append(Row("main", name, kind, spec))
    if not args.skip_quickest:
        rows += _quickest_rows(args)
    if not args.skip_day:
        day = base | {"name": "Berlin-Center", "horizon": DAY}
        rows.append(Row("day", "Berlin-Center", "exact-max", day | {"kind": "exact-max"}))
        rows.append(Row("day", "Berlin-Center", "exact-earliest", day | {"kind": "exact-earliest"}))
        if not args.skip_day_peer:
            rows.append(Row("day", "Berlin-Center", "ortools-max", day | {"kind": "ortools-max"}))
    if args.rows:
        rows = [r for r in rows if r.kind in args.rows]
    return rows


def _highs_skip(rows: list[Row], row: Row, limit: int) -> str:
    """A reason to skip HiGHS for ``row``: the naive model of the same instance is too big."""
    for other in rows:
        same = other.spec.get("name") == row.spec.get("name")
        if same and other.spec.get("horizon") == row.spec.get("horizon"):
            arcs = other.result.get("expanded_arcs")
            if other.kind == "ortools-max" and arcs and arcs > limit:
                return f"skipped (> {limit:,} arcs)"
    return ""


def _key(spec: Spec) -> str:
    return json.dumps(spec, sort_keys=True)


def load_previous(path: str) -> dict[str, Row]:
    """Rows of an earlier (possibly interrupted) run, by spec; rows that failed are dropped."""
    p = Path(path)
    if not p.exists():
        return {}
    out: dict[str, Row] = {}
    for raw in json.loads(p.read_text(encoding="utf-8")):
        row = Row(**raw)
        done = bool(row.result.get("nodes")) or row.note.startswith(("timeout", "skipped"))
        if done:
            out[_key(row.spec)] = row
    return out


def save(rows: list[Row], path: str | None) -> None:
    if path:
        Path(path).write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")


def run_rows(rows: list[Row], args: argparse.Namespace, console: Console) -> None:
    """Run the rows one after another (reusing those in ``--resume``), saving after each."""
    previous = load_previous(args.resume) if args.resume else {}
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("benchmark", total=len(rows))
        for i, row in enumerate(rows, 1):
            steps = row.spec.get("horizon")
            what = f"[{i}/{len(rows)}] {row.label} {steps} steps: {ROWS[row.kind]}"
            progress.update(task, description=what)
            if (old := previous.get(_key(row.spec))) is not None:
                row.result, row.note = old.result, old.note
            elif row.kind == "highs" and (reason := _highs_skip(rows, row, args.highs_max_arcs)):
                row.note = reason
            else:
                timeout = args.ccrp_timeout if row.kind == "ccrp" else args.row_timeout
                row.result, row.note = _best_of(row.spec, timeout, args.repeat)
                if row.kind == "highs" and not row.note and row.result.get("status") != "optimal":
                    row.note = f"{row.result.get('status')} ({args.highs_time_limit:.0f} s)"
            progress.advance(task)
            save(rows, args.json_out)
            if row.note:
                console.log(f"{row.label} {steps}: {ROWS[row.kind]}: {row.note}")


# --- checks and tables ------------------------------------------------------------------------


def _done(row: Row) -> bool:
    return bool(row.result.get("nodes"))


def _busy(row: Row) -> str:
    """A warning when other programs kept more than a quarter of a core busy during the row."""
    load = row.result.get("other_load")
    return f"; busy machine ({load:.1f} cores of other load)" if load and load > 0.25 else ""


def _check_row(row: Row, ref_out: int | None, ref_total: int | None) -> tuple[str, bool]:
    """The check text of one row of a (network, horizon) group, and whether it agrees."""
    out, total = row.result.get("out"), row.result.get("total_steps")
    if row.kind == "ortools-max":
        return "reference (out)", True
    if row.kind == "ccrp":
        if not ref_out or out is None:
            return "no peer", True
        text = f"{100.0 * (ref_out - out) / ref_out:.2f}% fewer out"
        if ref_total and total is not None and out == ref_out:
            text += f", time +{100.0 * (total - ref_total) / ref_total:.2f}%"
        return text, out <= ref_out
    checks: list[bool] = []
    if ref_out is not None and out is not None:
        checks.append(out == ref_out)
    if row.kind in ("exact-earliest", "exact-mincost", "highs") and ref_total is not None and out is not None:
        checks.append(total == ref_total)
    if row.result.get("verify", {}).get("violations"):
        return "Plan.verify FAILED", False
    prefix = "reference (time); " if row.kind == "ortools-mincost" else ""
    if not checks:
        return prefix + "no peer", True
    return prefix + ("identical" if all(checks) else "DIFFERENT"), all(checks)


def check_groups(rows: list[Row]) -> list[str]:
    """Compare objectives within each (network, horizon); fill ``row.check``; list mismatches."""
    problems: list[str] = []
    groups: dict[tuple[str, int], list[Row]] = {}
    for row in rows:
        if row.group in ("main", "day"):
            groups.setdefault((row.label, int(row.spec["horizon"])), []).append(row)
    for (label, horizon), members in groups.items():
        by = {r.kind: r.result for r in members if _done(r)}
        ref_out = by.get("ortools-max", {}).get("out")
        ref_total = by.get("ortools-mincost", {}).get("total_steps")
        for row in members:
            if not _done(row):
                continue
            row.check, ok = _check_row(row, ref_out, ref_total)
            if not ok:
                problems.append(
                    f"{label} {horizon}: {ROWS[row.kind]} out={row.result.get('out')}"
                    f" total={row.result.get('total_steps')} ({row.check});"
                    f" peers out={ref_out} total={ref_total}"
                )
    q = [r for r in rows if r.group == "quickest" and _done(r)]
    for label in sorted({r.label for r in q}):
        answers = {r.result.get("steps") for r in q if r.label == label}
        for r in q:
            if r.label == label:
                r.check = "identical" if len(answers) == 1 else "DIFFERENT"
        if len(answers) > 1:
            problems.append(f"{label}: quickest times differ: {sorted(map(str, answers))}")
    return problems


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


MAIN_COLUMNS = (
    "network",
    "row",
    "nodes",
    "arcs",
    "steps",
    "expanded arcs",
    "build s",
    "solve s",
    "plan s",
    "total s",
    "peak MiB",
    "people out",
    "total evacuation time (person-min)",
    "objective check",
)


def main_cells(row: Row, dt: float = 1.0) -> list[str]:
    r = row.result
    minutes = None if r.get("total_steps") is None else r["total_steps"] * dt
    if row.kind in ("exact-max", "ortools-max"):
        minutes = None  # a max flow's total time is whatever flow the solver found
    if not _done(row):
        return [row.label, ROWS[row.kind], *["—"] * 11, row.note]
    return [
        row.label,
        ROWS[row.kind],
        _f(r.get("nodes")),
        _f(r.get("arcs")),
        _f(r.get("steps")),
        _f(r.get("expanded_arcs")),
        _f(r.get("build_s")),
        _f(r.get("solve_s")),
        _f(r.get("plan_s")),
        _f(r.get("total_s")),
        _f(r.get("peak_mib"), 0),
        _f(r.get("out")),
        _f(minutes, 0),
        row.check + (f"; {row.note}" if row.note else "") + _busy(row),
    ]


QUICK_COLUMNS = (
    "instance",
    "row",
    "nodes",
    "arcs",
    "evacuees",
    "horizon",
    "quickest (steps)",
    "max flows",
    "seconds",
    "peak MiB",
    "check",
)


def quick_cells(row: Row) -> list[str]:
    r = row.result
    if not _done(row):
        return [row.label, ROWS[row.kind], *["—"] * 8, row.note]
    return [
        row.label,
        ROWS[row.kind],
        _f(r.get("nodes")),
        _f(r.get("arcs")),
        _f(r.get("evacuees")),
        _f(row.spec.get("horizon")),
        _f(r.get("steps")),
        _f(r.get("probes")),
        _f(r.get("total_s")),
        _f(r.get("peak_mib"), 0),
        row.check + _busy(row),
    ]


def tables(rows: list[Row]) -> list[tuple[str, Sequence[str], list[list[str]]]]:
    out: list[tuple[str, Sequence[str], list[list[str]]]] = []
    main = [main_cells(r) for r in rows if r.group == "main"]
    if main:
        out.append(("Exact plans and peers (dt = 1 min)", MAIN_COLUMNS, main))
    quick = [quick_cells(r) for r in rows if r.group == "quickest"]
    if quick:
        out.append(("Quickest time for everyone", QUICK_COLUMNS, quick))
    day = [main_cells(r) for r in rows if r.group == "day"]
    if day:
        out.append(("Berlin-Center over 24 h (1440 steps of 1 min)", MAIN_COLUMNS, day))
    return out


def render(console: Console, rows: list[Row]) -> None:
    for title, columns, cells in tables(rows):
        table = Table(title=title, show_lines=False)
        for i, c in enumerate(columns):
            table.add_column(c, justify="left" if i < 2 or c == "objective check" else "right")
        previous = None
        for line in cells:
            if previous is not None and line[0] != previous:
                table.add_section()
            previous = line[0]
            table.add_row(*line)
        console.print(table)


def markdown(rows: list[Row]) -> str:
    parts: list[str] = []
    for title, columns, cells in tables(rows):
        parts.append(f"### {title}\n")
        parts.append("| " + " | ".join(columns) + " |")
        parts.append("|" + "|".join("---" for _ in columns) + "|")
        parts += ["| " + " | ".join(line) + " |" for line in cells]
        parts.append("")
    return "\n".join(parts)


# --- command line ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.planner", description=__doc__.split("\n")[0])
    p.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    p.add_argument("--horizons", nargs="+", type=int, default=list(HORIZONS))
    p.add_argument("--tntp", default=None, help="TNTP folder (default: $CORRIDOR_TNTP or ../shared)")
    p.add_argument("--seed", type=int, default=None, help="seed for sources (default: fixed)")
    p.add_argument("--skip-highs", action="store_true", help="no HiGHS rows")
    p.add_argument("--highs-max-arcs", type=int, default=500_000, help="skip HiGHS above this")
    p.add_argument("--highs-time-limit", type=float, default=600.0, help="seconds per HiGHS run")
    p.add_argument("--highs-solver", default="ipm", help="HiGHS 'solver' option (ipm, simplex)")
    p.add_argument("--skip-ccrp", action="store_true", help="no CCRP rows")
    p.add_argument("--ccrp-timeout", type=float, default=1800.0, help="seconds per CCRP row")
    p.add_argument("--row-timeout", type=float, default=3600.0, help="seconds per other row")
    p.add_argument("--skip-quickest", action="store_true", help="no quickest-time table")
    p.add_argument("--big-quickest", action="store_true", help="also 10,000 nodes / 100,000")
    p.add_argument("--skip-day", action="store_true", help="no Berlin-Center 24 h rows")
    p.add_argument("--skip-day-peer", action="store_true", help="24 h: corridor only")
    p.add_argument("--no-verify", action="store_true", help="do not run Plan.verify")
    p.add_argument("--rows", nargs="+", choices=list(ROWS), default=None, help="only these kinds of row")
    p.add_argument("--repeat", type=int, default=1, help="run each row N times, keep the fastest")
    p.add_argument("--json", dest="json_out", default=None, help="raw results (after each row)")
    p.add_argument("--resume", default=None, help="reuse the rows of this earlier --json file")
    p.add_argument("--markdown", default=None, help="write the tables as Markdown here")
    p.add_argument("--width", type=int, default=None, help="console width for the tables")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.seed is None:
        from bench.instances import DEFAULT_SEED

        args.seed = DEFAULT_SEED
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(json.loads(args.worker))))
        return 0
    console = Console(width=args.width) if args.width else Console()
    rows = plan_rows(args)
    started = time.perf_counter()
    run_rows(rows, args, console)
    problems = check_groups(rows)
    render(console, rows)
    console.print(f"wall time {time.perf_counter() - started:,.0f} s")
    save(rows, args.json_out)
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows), encoding="utf-8")
    for message in problems:
        console.print(f"[bold red]objective mismatch:[/] {message}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
