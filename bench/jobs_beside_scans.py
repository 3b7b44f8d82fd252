"""Scans while a plan job runs on the cluster: does planning in a job slow the scanners?

Not part of ``make test``. The service runs in its own process (``corridor serve`` on SQLite, as
in ``bench/load_scanners.py``), with its embedded Dask cluster of ``--workers`` worker processes.
Scanners send events at a steady pace (``--scanners`` connections, one event every
``--interval`` seconds each), and the latency of every scan is kept. Two runs of the same load:

* ``quiet``: the scans alone, ``--seconds`` long;
* ``plan job``: the same scans while a plan job runs: the operation's scenario is a TNTP network
  (``--network``, Berlin-Center by default: 12,981 nodes; sources at 10% of the nodes, seeded, as in
  ``bench/instances.py``) planned over ``--minutes`` one-minute steps, asked through
  ``POST /api/operations/{id}/plan/jobs``. The run lasts ``--seconds`` and at least until the job
  has ended (at most 10 minutes more).

It prints, per run, the scans sent and the rate they came at (scans/s: a rate asked that the
machine does not sustain shows as a lower rate), the p50, p90, p99 and largest scan latency, the
load average when the run ended, and the job's state and duration.

``--rate R`` asks for R scans/s with ``--scanners`` connections (each scanning every
``scanners / R`` seconds; ``--interval`` otherwise). With ``--wrk`` the scans come from wrk
(``bench/load_scanners.py --wrk``'s script: a C client that needs a tenth of a core where the Python
scanners need a whole one), paced at ``--rate`` new events/s (1,000 by default, the ops load bench's
rate) for ``--seconds``, after ``--warmup`` seconds of the same scans that are not counted (a
fresh service answers its first seconds slower); in the second run the plan job is asked first,
and the run says whether it was still running when wrk stopped. ``--database postgresql`` runs the
service on PostgreSQL (``bench/load_scanners.py``'s server) instead of SQLite.

    .venv/bin/python -m bench.jobs_beside_scans
    .venv/bin/python -m bench.jobs_beside_scans --network SiouxFalls --minutes 120
    .venv/bin/python -m bench.jobs_beside_scans --rate 1000 --scanners 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.instances import TNTP, tntp_instance, tntp_root
from bench.load_beside import Run, drain, scans, setup
from bench.load_scanners import (
    HOST,
    Device,
    Server,
    WrkRun,
    drop_database,
    free_port,
    make_settings,
    percentile,
    run_wrk,
)

MAX_MORE = 600.0
REPEAT_SHARE = 0.05


def write_scenario(folder: Path, network: str, minutes: int) -> Path:
    """A scenario file named ``bench`` on the TNTP network, with the instance's sources and
    reception points (``bench/instances.py``)."""
    spec = TNTP[network]
    instance = tntp_instance(network, minutes)
    problem = instance.problem
    ids = problem.network.node_ids
    rows = "".join(
        f"s{i},{ids[int(node)]},{int(people)}\n"
        for i, (node, people) in enumerate(zip(problem.source_node, problem.source_people, strict=True))
    )
    (folder / "sources.csv").write_text("id,node,people\n" + rows, encoding="utf-8")
    exits = "".join(
        f'[[destinations]]\nid = "d{i}"\nnode = "{ids[int(n)]}"\n\n' for i, n in enumerate(problem.dest_node)
    )
    root = tntp_root() / spec.folder
    nodes = f'nodes = "{root / spec.nodes}"\n' if spec.nodes else ""
    hours, rest = divmod(minutes, 60)
    path = folder / "scenario.toml"
    path.write_text(
        'name = "bench"\nstart = 2026-01-01T00:00:00Z\n'
        f"deadline = 2026-01-0{1 + hours // 24}T{hours % 24:02d}:{rest:02d}:00Z\n"
        'time_step = "1 min"\nsources_csv = "sources.csv"\n\n'
        f'[network]\nformat = "tntp"\npath = "{root / spec.net}"\n{nodes}crs = "planar"\n'
        f'time_unit = "{spec.time_unit}"\nlength_unit = "{spec.length_unit}"\n\n{exits}',
        encoding="utf-8",
    )
    return path


async def with_job(
    server: Server,
    operation_id: str,
    token: str,
    devices: list[Device],
    people: list[str],
    args: argparse.Namespace,
    run: Run,
) -> dict[str, object]:
    """The scans while a plan job runs; the job as it ended, and how long it took."""
    done = asyncio.Event()
    outcome: dict[str, object] = {}

    async def job() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{server.port}", timeout=60) as client:
            started = time.perf_counter()
            answer = await client.post(f"/api/operations/{operation_id}/plan/jobs", json={}, headers=headers)
            body = answer.json()
            job_id = body.get("id")
            while job_id and body.get("state") not in ("done", "failed", "cancelled"):
                if time.perf_counter() - started > args.seconds + MAX_MORE:
                    break
                await asyncio.sleep(1.0)
                body = (
                    await client.get(f"/api/operations/{operation_id}/jobs/{job_id}", headers=headers)
                ).json()
            outcome.update(body, seconds=time.perf_counter() - started)
        done.set()

    await asyncio.gather(
        scans(server.port, operation_id, devices, people, args.seconds, args.interval, run, done), job()
    )
    return outcome


def start(server: Server, seconds: float = 300) -> None:
    """``Server.start`` with more time: ``corridor serve`` starts its cluster's worker processes
    before it listens."""
    env = {
        **os.environ,
        "CORRIDOR_DATA_DIR": str(server.settings.data_dir),
        "CORRIDOR_KEY_FILE": str(server.settings.key_file),
        "CORRIDOR_SQLITE_SYNCHRONOUS": server.settings.sqlite_synchronous,
    }
    code = (
        "from corridor.server.run import serve; "
        f"serve(host={HOST!r}, port={server.port}, db_url={server.settings.database_url!r}, "
        "seed_example=False)"
    )
    server.process = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start within {seconds:.0f} s")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def timed_run(work: Callable[[], object]) -> tuple[object, float, str]:
    """What ``work`` returns, the seconds it took, and the load average at its end."""
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started, load_average()


def show(runs: list[tuple[Run, float, str]]) -> None:
    base = percentile(runs[0][0].latencies, 0.99)
    columns = ("scans", "scans/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "p99/quiet")
    print(f"\n{'run':10} " + " ".join(f"{c:>9}" for c in columns) + "  load at end      errors")
    for run, seconds, load in runs:
        p = [percentile(run.latencies, q) * 1000 for q in (0.5, 0.9, 0.99)]
        most = max(run.latencies, default=float("nan")) * 1000
        errors = ", ".join(f"{k} x{v}" for k, v in sorted(run.scan_errors.items())) or "-"
        rate = len(run.latencies) / seconds if seconds > 0 else float("nan")
        figures = [f"{len(run.latencies):>9}", f"{rate:>9.1f}", *(f"{v:>9.1f}" for v in (*p, most))]
        print(
            f"{run.name:10} "
            + " ".join(figures)
            + f" {percentile(run.latencies, 0.99) / base:>9.2f}  {load:15}  {errors}"
        )


def wrk_runs(
    server: Server,
    operation_id: str,
    token: str,
    devices: list[Device],
    people: list[str],
    args: argparse.Namespace,
) -> None:
    """The quiet run and the run beside a plan job, both sent by wrk at ``--rate`` new events/s."""
    per_scanner = args.rate / (1 - REPEAT_SHARE) / len(devices)  # repeats come on top of new events

    def send() -> tuple[WrkRun, float]:
        cpu = server.cpu_seconds()
        run = run_wrk(
            server,
            operation_id,
            devices,
            people,
            seconds=int(args.seconds),
            rate=per_scanner,
            repeat_share=REPEAT_SHARE,
        )
        return run, server.cpu_seconds() - cpu

    if args.warmup > 0:  # the first seconds of a fresh service are slower: not counted
        run_wrk(
            server,
            operation_id,
            devices,
            people,
            seconds=args.warmup,
            rate=per_scanner,
            repeat_share=REPEAT_SHARE,
        )
    rows: list[tuple[str, WrkRun, float, str]] = []
    run, cpu = send()
    rows.append(("quiet", run, cpu, load_average()))
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://{HOST}:{server.port}"
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        started = time.perf_counter()
        body = client.post(f"/api/operations/{operation_id}/plan/jobs", json={}).json()
        job_id = body.get("id")
        run, cpu = send()
        rows.append(("plan job", run, cpu, load_average()))
        body = client.get(f"/api/operations/{operation_id}/jobs/{job_id}").json()
        running_at_end = body.get("state") not in ("done", "failed", "cancelled")
        while job_id and body.get("state") not in ("done", "failed", "cancelled"):
            if time.perf_counter() - started > args.seconds + MAX_MORE:
                break
            time.sleep(1.0)
            body = client.get(f"/api/operations/{operation_id}/jobs/{job_id}").json()
        seconds = time.perf_counter() - started
    quiet_p99 = rows[0][1].latency_ms["p99"]
    columns = ("requests", "events/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "p99/quiet", "CPU ms/req")
    print(f"\n{'run':10} " + " ".join(f"{c:>10}" for c in columns) + "  load at end      answers")
    for name, run, cpu, load in rows:
        ms = run.latency_ms
        figures = (
            f"{run.requests:>10}",
            f"{run.new_events / run.seconds:>10.0f}",
            *(f"{ms[k]:>10.1f}" for k in ("p50", "p90", "p99", "max")),
            f"{ms['p99'] / quiet_p99:>10.2f}",
            f"{cpu / max(run.requests, 1) * 1000:>10.2f}",
        )
        errors = f" socket errors {run.errors}" if run.errors else ""
        print(f"{name:10} " + " ".join(figures) + f"  {load:15}  {run.statuses}{errors}")
    print(
        f"\nplan job: {body.get('state')} in {seconds:.1f} s"
        f" ({'still running when wrk stopped' if running_at_end else 'ended before wrk stopped'});"
        f" result {body.get('result')}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--network", default="Berlin-Center", choices=sorted(TNTP))
    parser.add_argument("--minutes", type=int, default=240, help="the plan's window, in 1-minute steps")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scanners", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between a scanner's events")
    parser.add_argument("--rate", type=float, help="scans per second in all (sets --interval)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30, help="length of each run (at least)")
    parser.add_argument(
        "--wrk", action="store_true", help="send the scans with wrk (paced at --rate, 1,000 by default)"
    )
    parser.add_argument(
        "--warmup", type=int, default=15, help="with --wrk: seconds of scans sent first and not counted"
    )
    args = parser.parse_args(argv)
    if args.wrk and args.rate is None:
        args.rate = 1000.0
    if args.rate is not None:
        if args.rate <= 0 or args.scanners < 1:
            parser.error("--rate and --scanners must be positive")
        args.interval = args.scanners / args.rate
    print(
        f"{args.scanners} scanners, one scan every {args.interval:.3f} s each: "
        f"{args.scanners / args.interval:,.0f} scans/s asked, on {args.database}; load {load_average()}"
    )

    folder = Path(tempfile.mkdtemp(prefix="corridor-jobs-bench-"))
    scenarios = folder / "scenarios"
    scenarios.mkdir()
    made = time.perf_counter()
    write_scenario(scenarios, args.network, args.minutes)
    took = time.perf_counter() - made
    print(f"scenario: {args.network}, {args.minutes} one-minute steps ({took:.1f} s to write)")
    os.environ["CORRIDOR_SCENARIOS_DIR"] = str(scenarios)
    os.environ["CORRIDOR_WORKERS"] = str(args.workers)
    settings, database = make_settings(args.database, folder, "NORMAL")
    operation_id, devices, people, token, _ = setup(settings, args.scanners, args.people)
    server = Server(settings, free_port())
    start(server)
    drain(server, folder / "server.log")
    try:
        if args.wrk:
            wrk_runs(server, operation_id, token, devices, people, args)
            return 0
        quiet = Run("quiet")
        _, quiet_seconds, quiet_load = timed_run(
            lambda: asyncio.run(
                scans(server.port, operation_id, devices, people, args.seconds, args.interval, quiet)
            ),
        )
        loaded = Run("plan job")
        outcome, loaded_seconds, loaded_load = timed_run(
            lambda: asyncio.run(with_job(server, operation_id, token, devices, people, args, loaded))
        )
        job = outcome if isinstance(outcome, dict) else {}
        show([(quiet, quiet_seconds, quiet_load), (loaded, loaded_seconds, loaded_load)])
        print(
            f"\nplan job: {job.get('state')} in {job.get('seconds', 0):.1f} s"
            f" ({job.get('message') or job.get('error') or ''}); result {job.get('result')}"
        )
    finally:
        server.stop()
        drop_database(database)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
