"""Benchmark: the risk of the East Aleppo convoy plan by simulation (not part of ``make test``).

    .venv/bin/python -m bench.risk [--runs 10000] [--simpy-runs 200] [--method greedy] [--markdown FILE]

Rows, all in one process run so that they compare with each other on the same (shared) machine:

- the numpy engine in this process: ``--runs`` runs (draws, simulation and counting), alone and with the
  one-at-a-time sensitivities (each disruption off and doubled, 2,000 runs each);
- the SimPy engine in this process on ``--simpy-runs`` runs (the same draws: the results are checked
  equal), and its cost per run against numpy's;
- a local Dask cluster of 1 and then 2 worker processes (one thread each) on the same job (runs and
  sensitivities), timed from the first task sent to the last result (the cluster is started before);
  the speed-up from 1 worker to 2;
- the scheduling overhead per task: 400 tasks that do nothing, on the 2-worker cluster;
- the whole command, ``corridor risk --runs N --workers 2``, as a user runs it (cluster start included).

Beside each cluster row: the CPU seconds this process (the client, the local cluster's scheduler and
its nannies) and the workers spent on the job, in all and per run (on a 2-core machine this process
takes them from the workers; CPU time stretches less with the machine's load than wall time), and the
bytes the workers sent back (the batches pickled: sensitivity batches carry people out alone, counts
are int32 and the curves uint16). The clusters are started with corridor's lean Dask settings
(``corridor.simulate.cluster.LEAN``), as ``corridor risk`` starts them.

``--repeat N`` keeps the fastest of N tries of every timed row but the whole command (the machine is
shared), and ``--rounds N`` measures 1 worker then 2 workers N times, printing each round's speed-up
with the load average at that moment (the last line says the best and the median).
``--saturation`` sets the scheduler's ``worker-saturation`` (1.1 by default: tasks are queued on the
scheduler and handed out as workers free up; ``inf`` hands every task out at once).

The load of the machine (``uptime``) is printed before and after.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from corridor.network.build import load_network
from corridor.scenario.load import load_scenario
from corridor.scenario.model import RiskSettings
from corridor.simulate.cluster import LEAN, DaskRunner, InProcess, Progress, Runner
from corridor.simulate.draws import draw
from corridor.simulate.engine_numpy import simulate_numpy
from corridor.simulate.engine_simpy import simulate_simpy
from corridor.simulate.risk import assess
from corridor.simulate.runs import Batch, BatchSpec
from corridor.simulate.sweep import make_plan
from corridor.simulate.timetable import Timetable

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "east-aleppo-2016"
RISK = """
[risk]
travel_time_spread = 0.15
checkpoint_hold_probability = 0.3
checkpoint_hold_minutes = 90
closure_probability = 0.3
ceasefire_end_probability = 0.2
ceasefire_earliest = 2016-12-16T02:00:00+02:00
no_show_probability = 0.05
breakdown_probability = 0.02
"""
console = Console()


@dataclass
class Row:
    what: str
    runs: int
    seconds: float
    note: str = ""

    @property
    def per_run_us(self) -> float:
        return 1e6 * self.seconds / self.runs if self.runs else float("nan")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def scenario_file(folder: Path) -> Path:
    for name in ("network.geojson", "sources.csv"):
        (folder / name).write_bytes((EXAMPLE / name).read_bytes())
    path = folder / "scenario.toml"
    # the bench's own disruptions in place of the example's [risk] table (its last)
    path.write_text((EXAMPLE / "scenario.toml").read_text().split("\n[risk]")[0] + RISK)
    return path


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def job_runs(risk: RiskSettings, runs: int, sensitivity: int) -> int:
    from corridor.simulate.risk import variants

    return runs + 2 * len(variants(risk)) * min(runs, sensitivity)


def load_average() -> str:
    return uptime().rpartition("load average: ")[2]


@dataclass
class OnCluster:
    """One job on a local cluster: the fastest of its tries, and the CPU seconds spent in that try."""

    seconds: float  # wall time of the job
    overhead: float  # seconds per no-op task
    client_cpu: float  # this process: the client, the scheduler and the nannies
    worker_cpu: float  # every worker process together


def on_cluster(
    tt: Timetable, risk: RiskSettings, runs: int, workers: int, repeat: int = 1, saturation: str = "1.1"
) -> OnCluster:
    """The job on a local cluster of ``workers`` processes started as ``corridor risk`` starts it (its
    lean Dask settings), the fastest of ``repeat`` tries."""
    import dask
    from distributed import Client, LocalCluster

    with (
        dask.config.set({"distributed.scheduler.worker-saturation": float(saturation), **LEAN}),
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        client.wait_for_workers(workers)
        runner: Runner = DaskRunner(client, direct=True)  # as `corridor risk` on its local cluster
        assess(tt, risk, runs=200, seed=99, runner=runner, sensitivity_runs=0)  # warm the workers
        seconds, cpu, wcpu = float("inf"), 0.0, 0.0
        for _ in range(repeat):
            w0: dict[str, float] = client.run(time.process_time)
            c0 = time.process_time()
            took = timed(lambda: assess(tt, risk, runs=runs, seed=1, runner=runner))[0]
            c1 = time.process_time()
            w1: dict[str, float] = client.run(time.process_time)
            if took < seconds:
                seconds, cpu, wcpu = took, c1 - c0, sum(w1[k] - w0[k] for k in w1)
        n = 400
        overhead = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.gather(client.map(_noop, range(n), pure=False))
            overhead = min(overhead, (time.perf_counter() - t0) / n)
    return OnCluster(seconds, overhead, cpu, wcpu)


def cpu_note(c: OnCluster, runs: int) -> str:
    """CPU per run in this process (client, scheduler, nannies) and in the workers."""
    return (
        f"CPU per run: this process {1e6 * c.client_cpu / runs:.1f} us ({c.client_cpu:.2f} s), "
        f"workers {1e6 * c.worker_cpu / runs:.1f} us ({c.worker_cpu:.2f} s)"
    )


def bytes_back(tt: Timetable, risk: RiskSettings, runs: int) -> int:
    """Bytes of the batches the workers send back for the job (pickled as Dask sends them)."""
    from corridor.simulate.runs import run_batch

    sizes: list[int] = []

    class Recorder:
        name = "recorder"

        def run(self, tt: Timetable, specs: Sequence[BatchSpec], progress: Progress) -> list[Batch]:
            batches = [run_batch(tt, s) for s in specs]
            sizes.extend(len(pickle.dumps(b, protocol=5)) for b in batches)
            return batches

    assess(tt, risk, runs=runs, seed=1, runner=Recorder())
    return sum(sizes)


def _noop(x: int) -> int:
    return x


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--simpy-runs", type=int, default=200)
    ap.add_argument("--method", default="greedy", help="convoy method of the plan simulated")
    ap.add_argument("--repeat", type=int, default=1, help="keep the fastest of N tries of each timed row")
    ap.add_argument("--rounds", type=int, default=1, help="measure 1 worker then 2 workers N times")
    ap.add_argument("--saturation", default="1.1", help="the scheduler's worker-saturation (1.1, inf)")
    ap.add_argument("--skip-cli", action="store_true", help="leave out the whole-command row")
    ap.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    args = ap.parse_args(argv)

    def best(fn: Callable[[], Any]) -> float:
        return min(timed(fn)[0] for _ in range(args.repeat))

    before = uptime()
    console.print(f"load before: {before}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = scenario_file(Path(tmp))
        scenario = load_scenario(path)
        network = load_network(scenario.network, scenario.base_dir)
        tt = make_plan(scenario, network, "convoy", args.method, 20).timetable
        risk = scenario.risk
        console.print(
            f"plan: {args.method}, {tt.n_deliveries} trips, {tt.n_activities} activities, "
            f"{tt.planned_out:,} of {tt.people:,} people out as planned"
        )
        runs = args.runs
        total = job_runs(risk, runs, 2000)
        s = best(lambda: assess(tt, risk, runs=runs, seed=1, runner=InProcess(), sensitivity_runs=0))
        rows.append(Row("numpy, in process: the runs alone", runs, s))
        s = best(lambda: assess(tt, risk, runs=runs, seed=1, runner=InProcess()))
        rows.append(Row("numpy, in process: runs + sensitivities", total, s))
        d = draw(tt, risk, args.simpy_runs, seed=5)
        s_np, o_np = timed(lambda: simulate_numpy(tt, d))
        s_sp, o_sp = timed(lambda: simulate_simpy(tt, d))
        same = bool(np.array_equal(o_np.arrival, o_sp.arrival))
        rows.append(Row("numpy engine (simulation only)", args.simpy_runs, s_np, "same draws as SimPy"))
        rows.append(Row("SimPy engine (simulation only)", args.simpy_runs, s_sp, f"results equal: {same}"))
        sent = bytes_back(tt, risk, runs)
        speedups: list[float] = []
        for k in range(args.rounds):
            a = on_cluster(tt, risk, runs, 1, args.repeat, args.saturation)
            load1 = load_average()
            b = on_cluster(tt, risk, runs, 2, args.repeat, args.saturation)
            load2 = load_average()
            one, two = a.seconds, b.seconds
            speedups.append(one / two)
            tag = f" (round {k + 1})" if args.rounds > 1 else ""
            rows.append(
                Row(
                    f"local cluster, 1 worker: runs + sensitivities{tag}",
                    total,
                    one,
                    f"{cpu_note(a, total)}; {sent / 1e6:.1f} MB back; load {load1}",
                )
            )
            rows.append(
                Row(
                    f"local cluster, 2 workers: runs + sensitivities{tag}",
                    total,
                    two,
                    f"speed-up {one / two:.2f}x; scheduling {1e3 * b.overhead:.2f} ms per task; "
                    f"{cpu_note(b, total)}; load {load2}",
                )
            )
            console.print(f"round {k + 1}: speed-up from 1 worker to 2: {one / two:.2f}x (load {load2})")
        if not args.skip_cli:
            cmd = [str(Path(sys.executable).with_name("corridor")), "risk", str(path), "--runs", str(runs)]
            cmd += ["--workers", "2", "--json", "--method", args.method]
            s, done = timed(lambda: subprocess.run(cmd, capture_output=True, text=True, check=False))
            note = "cluster start and planning included" if done.returncode == 0 else done.stderr[-200:]
            rows.append(Row(f"corridor risk --runs {runs} --workers 2 (whole command)", total, s, note))
    after = uptime()
    table = Table(title=f"risk of the East Aleppo convoy plan ({runs:,} runs)")
    for name in ("what", "runs", "seconds", "us per run", "note"):
        table.add_column(name, justify="left" if name in ("what", "note") else "right")
    for r in rows:
        table.add_row(r.what, f"{r.runs:,}", f"{r.seconds:.2f}", f"{r.per_run_us:,.0f}", r.note)
    console.print(table)
    console.print(f"load after: {after}")
    if speedups:
        console.print(
            f"SPEED-UP from 1 worker to 2 (target 1.8x): best {max(speedups):.2f}x, "
            f"median {statistics.median(speedups):.2f}x over {len(speedups)} round(s); "
            f"worker-saturation {args.saturation}; load before {before.rpartition('load average: ')[2]}, "
            f"after {after.rpartition('load average: ')[2]}"
        )
    if args.markdown:
        lines = [
            f"load before: `{before}`; after: `{after}`",
            "",
            "| what | runs | seconds | us per run | note |",
            "| --- | ---: | ---: | ---: | --- |",
            *(f"| {r.what} | {r.runs:,} | {r.seconds:.2f} | {r.per_run_us:,.0f} | {r.note} |" for r in rows),
        ]
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
