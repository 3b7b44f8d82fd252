"""Loopback load test of the checkpoint ledger: many scanners, repeats, offline batches, a crash.

Not part of ``make test``. It starts the service in its own process on 127.0.0.1 (SQLite in WAL
mode by default, or a fresh PostgreSQL database), registers an operation, people and one device
token per simulated scanner directly in the database, then drives the API from this process with a
small asyncio HTTP/1.1 client (one keep-alive connection per scanner):

* ``single``: each scanner sends its events one per request; a share is sent twice;
* ``batch``: each scanner goes offline and syncs in batches of 50, repeats mixed in;
* ``--crash``: the server is killed with SIGKILL in the middle of the single-event load, started
  again, and the scanners resend whatever was not acknowledged.

With ``--wrk`` the single events are sent by wrk (``bench/wrk_scan.lua``, one wrk thread per
scanner) instead: wrk's C client leaves the second core to the server where this process's Python
client takes it whole. Two runs: as fast as the server answers, then paced at ``--rate`` new events
per second in all (repeats on top). wrk is installed with ``apt-get install -y wrk`` when it is
missing (as root).

At the end it counts: every acknowledged event must be in the ledger exactly once (lost = acked
but absent; duplicated = stored more than once), the ledger must hold nothing that was not sent,
and the hash chain must verify. Every loop is bounded in count and in time, and every address is
on the loopback.

    .venv/bin/python bench/load_scanners.py                  # SQLite, both phases
    .venv/bin/python bench/load_scanners.py --db postgresql  # the same on PostgreSQL
    .venv/bin/python bench/load_scanners.py --crash          # SIGKILL in the middle
    .venv/bin/python bench/load_scanners.py --wrk            # single events sent by wrk
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from corridor.server.access import service as access
from corridor.server.auth import Role
from corridor.server.db import upgrade
from corridor.server.ledger.tables import LedgerRow
from corridor.server.ledger_check import verify_ledger
from corridor.server.manifests import service as manifests
from corridor.server.manifests.schemas import VehicleIn
from corridor.server.operations import service as operations
from corridor.server.operations.schemas import OperationIn, PointIn
from corridor.server.registration import service as registration
from corridor.server.registration.schemas import HouseholdIn, PersonIn
from corridor.server.runtime import Runtime
from corridor.server.settings import Settings

HOST = "127.0.0.1"
MAX_SECONDS = 600  # no phase runs longer than this, whatever happens
T0 = datetime(2016, 12, 15, 12, 30, tzinfo=UTC)
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Device:
    device_id: str
    token: str
    point: str
    seq: int = 0
    acked: set[str] = field(default_factory=set)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)

    def make(self, rng: random.Random, people: Sequence[str]) -> dict[str, Any]:
        self.seq += 1
        kind = "boarded" if self.point == "start" else "checkpoint"
        event_id = f"{self.device_id}-{self.seq}-{secrets.token_hex(4)}"
        event: dict[str, Any] = {
            "event_id": event_id,
            "device_id": self.device_id,
            "seq": self.seq,
            "device_time": (T0 + timedelta(seconds=self.seq)).isoformat(),
            "type": kind,
            "payload": {"person_id": rng.choice(people), "point": self.point},
        }
        self.sent[event_id] = event
        return event


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    events: int = 0
    repeats_sent: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class Connection:
    """One keep-alive HTTP/1.1 connection (enough for JSON requests to our own server)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        return status, json.loads(payload) if payload else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def prepare(settings: Settings, devices: int, people: int) -> tuple[str, list[Device], list[str]]:
    """An active operation with ``people`` registered, two vehicles and one token per device."""
    upgrade(settings.database_url)
    runtime = Runtime.start(settings)
    route = [
        PointIn(id="start", name="al-Amiriyah", kind="departure", expected_minutes=0),
        PointIn(id="cp1", name="Ramouseh", kind="checkpoint", expected_minutes=25),
        PointIn(id="end", name="al-Rashideen", kind="arrival", expected_minutes=55),
    ]
    body = OperationIn(name=f"bench-{secrets.token_hex(3)}", scenario_name="bench", route=route)
    with runtime.db.writing() as session:
        operation = operations.create(session, body)
        operation.state = "active"
        manifests.add_vehicle(
            session, operation_id=operation.id, body=VehicleIn(code="bus-1", kind="bus", seats=50)
        )
        ids: list[str] = []
        rng = random.Random(5)
        for _ in range(people // 5):
            members = [
                PersonIn(name=f"{_name(rng)} {_name(rng)}", age_band="18-59", sex="female") for _ in range(5)
            ]
            done = registration.register_household(
                session,
                sealer=runtime.sealer,
                operation_id=operation.id,
                body=HouseholdIn(people=members),
            )
            ids += [p.id for p in done.people]
        scanners = []
        for d in range(devices):
            point = "start" if d % 2 == 0 else "cp1"
            device_id = f"scanner-{d:03d}"
            token = access.register_device(
                session, operation_id=operation.id, device_id=device_id, label=device_id, point=point
            )
            scanners.append(Device(device_id, token, point))
        operation_id = operation.id
    runtime.db.dispose()
    return operation_id, scanners, ids


def _name(rng: random.Random) -> str:
    """A made-up name in Arabic letters, so that names differ as real ones do."""
    return "".join(rng.choice("ابتثجحخدذرزسشصضطظعغفقكلمنهوي") for _ in range(rng.randint(3, 7)))


class Server:
    """The service in its own process (``corridor.server.run.serve``)."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.settings = settings
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "CORRIDOR_DATA_DIR": str(self.settings.data_dir),
            "CORRIDOR_KEY_FILE": str(self.settings.key_file),
            "CORRIDOR_SIGNING_KEY_FILE": str(self.settings.signing_key_path),
            "CORRIDOR_SQLITE_SYNCHRONOUS": self.settings.sqlite_synchronous,
        }
        code = (
            "from corridor.server.run import serve; "
            f"serve(host={HOST!r}, port={self.port}, db_url={self.settings.database_url!r}, "
            "seed_example=False)"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 180  # a loaded machine can take a minute to import the service
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not start within 180 s")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far (Linux /proc)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def record(device: Device, status: int, body: Any, events: list[dict[str, Any]], tally: Tally) -> None:
    if status in (200, 201) and isinstance(body, dict) and "results" in body:
        for item in body["results"]:
            if item["outcome"] in ("stored", "repeat"):
                device.acked.add(item["event_id"])
            else:
                tally.error(item["outcome"])
    elif status in (200, 201):
        device.acked.add(events[0]["event_id"])
    else:
        tally.error(f"http {status}")


async def run_single(
    port: int,
    operation_id: str,
    devices: list[Device],
    people: list[str],
    per_device: int,
    repeat_share: float,
    tally: Tally,
    stop_after: int | None = None,
) -> None:
    """Each device sends ``per_device`` events, one per request; some are sent twice."""
    path = f"/api/operations/{operation_id}/events"
    deadline = time.monotonic() + MAX_SECONDS

    async def scanner(device: Device, rng: random.Random) -> None:
        connection = Connection(port, device.token)
        try:
            for _ in range(per_device):
                if time.monotonic() > deadline or (stop_after and tally.events >= stop_after):
                    return
                event = device.make(rng, people)
                for _attempt in range(2 if rng.random() < repeat_share else 1):
                    started = time.perf_counter()
                    status, body = await connection.post(path, event)
                    tally.latencies.append(time.perf_counter() - started)
                    tally.requests += 1
                    record(device, status, body, [event], tally)
                tally.events += 1
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            tally.error("connection lost")
        finally:
            connection.close()

    await asyncio.gather(*(scanner(d, random.Random(i)) for i, d in enumerate(devices)))


async def run_batches(
    port: int,
    operation_id: str,
    devices: list[Device],
    people: list[str],
    batches: int,
    size: int,
    repeat_share: float,
    tally: Tally,
) -> None:
    """Each device comes back from being offline and sends ``batches`` batches of ``size``."""
    path = f"/api/operations/{operation_id}/events/batch"
    deadline = time.monotonic() + MAX_SECONDS

    async def scanner(device: Device, rng: random.Random) -> None:
        connection = Connection(port, device.token)
        previous: list[dict[str, Any]] = []
        try:
            for _ in range(batches):
                if time.monotonic() > deadline:
                    return
                fresh = [device.make(rng, people) for _ in range(size)]
                repeats = [e for e in previous if rng.random() < repeat_share]
                events = fresh + repeats
                rng.shuffle(events)
                started = time.perf_counter()
                status, body = await connection.post(path, {"events": events})
                tally.latencies.append(time.perf_counter() - started)
                tally.requests += 1
                tally.events += len(fresh)
                tally.repeats_sent += len(repeats)
                record(device, status, body, events, tally)
                previous = fresh
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            tally.error("connection lost")
        finally:
            connection.close()

    await asyncio.gather(*(scanner(d, random.Random(100 + i)) for i, d in enumerate(devices)))


WRK_SCRIPT = Path(__file__).with_name("wrk_scan.lua")


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's packages when missing (needs root and apt-get)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit("--wrk needs wrk: install it (apt-get install wrk) or run as root")
    print("installing wrk: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:  # an old package list: update it once, then try again
        subprocess.run(["apt-get", "update"], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


@dataclass
class WrkRun:
    requests: int
    seconds: float
    latency_ms: dict[str, float]
    errors: dict[str, int]
    statuses: dict[str, int]
    new_events: int


def run_wrk(
    server: Server,
    operation_id: str,
    devices: list[Device],
    people: list[str],
    *,
    seconds: int,
    rate: float,
    repeat_share: float,
) -> WrkRun:
    """Send single events with wrk for ``seconds`` (at ``rate`` requests/s per scanner, or as
    fast as answered when 0); record what each scanner sent and what was acknowledged."""
    wrk = ensure_wrk()
    folder = Path(tempfile.mkdtemp(prefix="corridor-wrk-"))
    run = secrets.token_hex(3)
    lines = [f"{d.device_id} {d.token} {d.point} {operation_id} {d.seq + 1}" for d in devices]
    (folder / "devices.txt").write_text("\n".join(lines) + "\n")
    (folder / "people.txt").write_text("\n".join(people) + "\n")
    env = {
        **os.environ,
        "CORRIDOR_WRK_DEVICES": str(folder / "devices.txt"),
        "CORRIDOR_WRK_PEOPLE": str(folder / "people.txt"),
        "CORRIDOR_WRK_OUT": str(folder / "out.json"),
        "CORRIDOR_WRK_RUN": run,
        "CORRIDOR_WRK_REPEAT": str(repeat_share),
        "CORRIDOR_WRK_RATE": str(rate),
    }
    n = len(devices)
    command = [wrk, f"-t{n}", f"-c{n}", f"-d{seconds}s", "--timeout", "10s", "-s", str(WRK_SCRIPT)]
    command.append(f"http://{HOST}:{server.port}/")
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, timeout=seconds + 120)
    result = json.loads((folder / "out.json").read_text())
    shutil.rmtree(folder, ignore_errors=True)
    by_id = {d.device_id: d for d in devices}
    statuses: dict[str, int] = {}
    new_events = 0
    for item in result["devices"]:
        device = by_id[item["device_id"]]
        unacked = set(item["unacked"])
        for seq in range(item["first_seq"], item["last_seq"] + 1):
            event_id = f"{device.device_id}-{seq}-{run}"
            device.sent[event_id] = {"event_id": event_id, "seq": seq}
            if seq not in unacked:
                device.acked.add(event_id)
        new_events += item["last_seq"] - item["first_seq"] + 1
        device.seq = item["last_seq"]
        for status, count in item["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    latency = {k: v / 1000 for k, v in result["latency_us"].items()}
    errors = {k: v for k, v in result["errors"].items() if v}
    return WrkRun(result["requests"], result["duration_us"] / 1e6, latency, errors, statuses, new_events)


def report_wrk(name: str, run: WrkRun, cpu: float) -> None:
    ms = run.latency_ms
    print(
        f"{name}: server CPU {cpu:.1f} s = {cpu / max(run.requests, 1) * 1000:.2f} ms per request",
        flush=True,
    )
    print(
        f"{name}: {run.requests} requests, {run.new_events} new events in {run.seconds:.1f} s: "
        f"{run.requests / run.seconds:,.0f} requests/s, {run.new_events / run.seconds:,.0f} events/s; "
        f"latency p50 {ms['p50']:.1f} ms, p90 {ms['p90']:.1f} ms, p99 {ms['p99']:.1f} ms, "
        f"p99.9 {ms['p999']:.1f} ms, max {ms['max']:.1f} ms; answers {run.statuses}; "
        f"socket errors {run.errors or 'none'}",
        flush=True,
    )


def single_phase_wrk(
    server: Server, operation_id: str, devices: list[Device], people: list[str], args: argparse.Namespace
) -> None:
    """Single events by wrk: as fast as the server answers, then paced at ``--rate`` new events
    per second in all (the repeats come on top)."""
    cpu = server.cpu_seconds()
    run = run_wrk(
        server, operation_id, devices, people, seconds=args.seconds, rate=0, repeat_share=args.repeat_share
    )
    report_wrk("single events (wrk, as fast as answered)", run, server.cpu_seconds() - cpu)
    cpu = server.cpu_seconds()
    run = run_wrk(
        server,
        operation_id,
        devices,
        people,
        seconds=args.seconds,
        rate=args.rate / (1 - args.repeat_share) / len(devices),  # repeats come on top of new events
        repeat_share=args.repeat_share,
    )
    report_wrk(f"single events (wrk, paced at {args.rate:,.0f} new/s)", run, server.cpu_seconds() - cpu)


def count(settings: Settings, devices: list[Device]) -> dict[str, int]:
    """Compare what the scanners were told with what the ledger holds."""
    engine = create_engine(settings.database_url)
    ids = set()
    with engine.connect() as connection:
        rows = connection.execute(
            select(LedgerRow.event_id).where(LedgerRow.device_id.like("scanner-%"))
        ).scalars()
        stored = list(rows)
        total = connection.execute(select(func.count()).select_from(LedgerRow)).scalar_one()
    engine.dispose()
    ids = set(stored)
    acked = set().union(*(d.acked for d in devices))
    sent = set().union(*(d.sent for d in devices))
    return {
        "events sent": len(sent),
        "acknowledged": len(acked),
        "stored": len(stored),
        "lost (acked, not stored)": len(acked - ids),
        "duplicated (stored twice)": len(stored) - len(ids),
        "stored but never sent": len(ids - sent),
        "ledger entries (all)": total,
    }


def report(name: str, tally: Tally, seconds: float, cpu: float) -> None:
    ms = [x * 1000 for x in tally.latencies]
    print(
        f"{name}: server CPU {cpu:.1f} s = {cpu / max(tally.requests, 1) * 1000:.2f} ms per request, "
        f"{cpu / max(tally.events, 1) * 1000:.3f} ms per new event",
        flush=True,
    )
    print(
        f"{name}: {tally.requests} requests, {tally.events} new events in {seconds:.1f} s: "
        f"{tally.requests / seconds:,.0f} requests/s, {tally.events / seconds:,.0f} events/s; "
        f"latency p50 {statistics.median(ms) if ms else float('nan'):.1f} ms, "
        f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms, default=float('nan')):.1f} ms; "
        f"repeats in batches {tally.repeats_sent}; problems {tally.errors or 'none'}",
        flush=True,
    )


def make_settings(kind: str, folder: Path, synchronous: str) -> tuple[Settings, str | None]:
    # The signing key apart from the data folder (its default), but not in the real ~/.config.
    signing = Path(tempfile.mkdtemp(prefix="corridor-signing-")) / "ledger-signing.key"
    if kind == "sqlite":
        url = f"sqlite:///{folder}/bench.db"
        return Settings(
            database_url=url,
            data_dir=folder,
            key_file=folder / "key",
            sqlite_synchronous=synchronous,
            signing_key_file=signing,
        ), None
    name = f"corridor_bench_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    return Settings(
        database_url=url, data_dir=folder, key_file=folder / "key", signing_key_file=signing
    ), name


def drop_database(name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--per-device", type=int, default=200, help="single events per device")
    parser.add_argument("--batches", type=int, default=20, help="batches per device")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--repeat-share", type=float, default=0.05)
    parser.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="FULL")
    parser.add_argument("--crash", action="store_true", help="SIGKILL the server mid-load")
    parser.add_argument("--wrk", action="store_true", help="send the single events with wrk")
    parser.add_argument("--seconds", type=int, default=20, help="length of each wrk run")
    parser.add_argument("--rate", type=float, default=1000, help="new events/s in all, paced wrk run")
    parser.add_argument(
        "--phase",
        choices=["both", "single", "batch"],
        default="both",
        help="run only the single-event or only the batch phase (default both)",
    )
    parser.add_argument(
        "--export", action="store_true", help="time the streaming people export of --people people"
    )
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="corridor-bench-"))
    settings, database = make_settings(args.db, folder, args.synchronous)
    print(f"database: {args.db} (synchronous={args.synchronous}) in {folder}", flush=True)
    try:
        started = time.perf_counter()
        operation_id, devices, people = prepare(settings, args.devices, args.people)
        print(f"registered {len(people):,} people in {time.perf_counter() - started:.1f} s", flush=True)
        server = Server(settings, free_port())
        server.start()
        try:
            if args.crash:
                return crash_test(server, settings, operation_id, devices, people, args)
            if args.export:
                return export_test(server, settings, operation_id, len(people))
            if args.phase != "batch" and args.wrk:
                single_phase_wrk(server, operation_id, devices, people, args)
            elif args.phase != "batch":
                tally = Tally()
                started, cpu = time.perf_counter(), server.cpu_seconds()
                asyncio.run(
                    run_single(
                        server.port, operation_id, devices, people, args.per_device, args.repeat_share, tally
                    )
                )
                report("single events", tally, time.perf_counter() - started, server.cpu_seconds() - cpu)
            if args.phase != "single":
                batch_phase(server, operation_id, devices, people, args)
        finally:
            server.stop()
        return check(settings, devices)
    finally:
        drop_database(database)


def batch_phase(
    server: Server, operation_id: str, devices: list[Device], people: list[str], args: argparse.Namespace
) -> None:
    """Each scanner syncs ``--batches`` batches of ``--batch-size`` new events, repeats mixed in."""
    tally = Tally()
    started, cpu, own = time.perf_counter(), server.cpu_seconds(), time.process_time()
    load = os.getloadavg()[0]
    asyncio.run(
        run_batches(server.port, operation_id, devices, people, args.batches, args.batch_size, 0.1, tally)
    )
    seconds = time.perf_counter() - started
    name = f"offline batches of {args.batch_size}"
    report(name, tally, seconds, server.cpu_seconds() - cpu)
    print(
        f"{name}: load generator CPU {time.process_time() - own:.1f} s; "
        f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after",
        flush=True,
    )


def check(settings: Settings, devices: list[Device]) -> int:
    counts = count(settings, devices)
    for name, value in counts.items():
        print(f"  {name:28} {value:>9,}")
    verdict = verify_ledger(settings.database_url)
    print(f"  {verdict.render()}", flush=True)
    bad = counts["lost (acked, not stored)"] + counts["duplicated (stored twice)"]
    bad += counts["stored but never sent"]
    return 0 if bad == 0 and verdict.ok else 1


def export_test(server: Server, settings: Settings, operation_id: str, people: int) -> int:
    """Download the people export (with names) as a coordinator; time the first and last byte."""
    import httpx

    runtime = Runtime.start(settings)
    with runtime.db.writing() as session:
        user = access.create_user(
            session, username="bench", password=secrets.token_hex(8), passwords=runtime.passwords
        )
        access.grant(session, user_id=user.id, role=Role.COORDINATOR, operation_id=None)
    with runtime.db.writing() as session:
        token, _expires = access.new_api_token(session, user_id=user.id, hours=1)
    runtime.db.dispose()
    url = f"http://{HOST}:{server.port}/api/operations/{operation_id}/exports/people.csv"
    started = time.perf_counter()
    first = None
    lines = size = 0
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as r:
        for chunk in r.iter_bytes():
            first = first or time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    total = time.perf_counter() - started
    server.stop()
    print(
        f"people export: {lines - 1:,} rows, {size / 1e6:.1f} MB; first byte after "
        f"{(first or 0) * 1000:.0f} ms, all in {total:.1f} s ({(lines - 1) / total:,.0f} rows/s)",
        flush=True,
    )
    return 0 if lines - 1 == people else 1


def crash_test(
    server: Server,
    settings: Settings,
    operation_id: str,
    devices: list[Device],
    people: list[str],
    args: argparse.Namespace,
) -> int:
    """Kill the server with SIGKILL while events stream in; restart; resend the unacknowledged."""
    total = args.devices * args.per_device
    tally = Tally()

    async def load_then_kill() -> None:
        load = asyncio.create_task(
            run_single(server.port, operation_id, devices, people, args.per_device, 0.0, tally)
        )
        deadline = time.monotonic() + MAX_SECONDS
        while tally.events < total // 2 and not load.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        server.kill()
        await load

    asyncio.run(load_then_kill())
    acked_before = sum(len(d.acked) for d in devices)
    print(
        f"killed with SIGKILL after {acked_before:,} acknowledged events "
        f"({tally.errors.get('connection lost', 0)} connections cut)",
        flush=True,
    )
    server.start()
    after_restart = count(settings, devices)
    print(
        f"after restart: lost {after_restart['lost (acked, not stored)']}, "
        f"duplicated {after_restart['duplicated (stored twice)']}",
        flush=True,
    )
    print(f"  {verify_ledger(settings.database_url).render()}", flush=True)

    async def resend() -> None:
        for device in devices:
            pending = [e for i, e in device.sent.items() if i not in device.acked]
            if not pending:
                continue
            connection = Connection(server.port, device.token)
            status, body = await connection.post(
                f"/api/operations/{operation_id}/events/batch", {"events": pending}
            )
            record(device, status, body, pending, tally)
            connection.close()

    asyncio.run(resend())
    server.stop()
    return check(settings, devices)


if __name__ == "__main__":
    raise SystemExit(main())
