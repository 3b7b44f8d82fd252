"""Scans while slow work runs beside them: wrong-password log-ins and a large registration import.

Not part of ``make test``. The service runs in its own process on 127.0.0.1 (SQLite in WAL mode
by default, or a fresh PostgreSQL database), as in ``bench/load_scanners.py``, with the real
argon2 settings. Scanners send events at a steady pace (``--scanners`` connections, one event every
``--interval`` seconds each), and the latency of every scan is kept. Three runs of the same scan
load, each ``--seconds`` long:

* ``quiet``: the scans alone;
* ``one address``: beside them, ``--logins`` wrong-password log-ins a second from one address
  (names taken from a registered user and unknown ones; the limiter answers most with 429) and a
  registration import of ``--rows`` CSV rows started at once;
* ``16 addresses``: the same, the log-ins spread over 16 loopback addresses with a new unknown
  name each time, so that the limiter lets every one reach the password check (argon2 runs for
  each: the test of hashing outside the write transaction).

In both loaded runs ``--observers`` observers (two) also read the operation's counts
(``GET .../counts``, the dashboard's figures) every ``--poll`` seconds each.

The log-ins, the import and the observers run in a process of their own (``--loads process``, the
default), as they would from other machines: the scanners' event loop then does nothing but scan,
and what a scan waits for is the service (and the cores, which the two processes share). With
``--loads loop`` they run in the scanners' event loop, as the bench did until 2026-12-07: a client
busy opening a log-in's connection, encoding the import's upload or reading a counts answer then
delays the scans' answers as measured. ``--loads both`` measures each loaded run both ways, one
after the other, so that the two can be compared in the same run.

It prints, per run, the p50, p90, p99 and largest scan latency, the log-in, import and counts
answers, and the load average of the machine as the run ended (other people's programs included).

    .venv/bin/python -m bench.load_beside
    .venv/bin/python -m bench.load_beside --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import queue
import random
import secrets
import shutil
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue as QueueType
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import httpx

from bench.load_scanners import (
    HOST,
    Connection,
    Device,
    Server,
    _name,
    drop_database,
    free_port,
    make_settings,
    percentile,
)
from corridor.server.access import service as access
from corridor.server.auth import Passwords, Role
from corridor.server.db import Database, upgrade
from corridor.server.encryption import Sealer
from corridor.server.operations import service as operations
from corridor.server.operations.schemas import OperationIn, PointIn
from corridor.server.registration import service as registration
from corridor.server.registration.schemas import HouseholdIn, PersonIn
from corridor.server.settings import Settings

MAX_SECONDS = 600


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    scan_errors: Counter[str] = field(default_factory=Counter)
    logins: Counter[int] = field(default_factory=Counter)
    import_status: int | None = None
    import_seconds: float | None = None
    import_people: int | None = None
    counts: Counter[int] = field(default_factory=Counter)
    load: float = 0.0


def setup(settings: Settings, scanners: int, people: int) -> tuple[str, list[Device], list[str], str, str]:
    """As ``load_scanners.prepare`` (an active operation, ``people`` registered, a token per
    scanner), without starting a runtime (whose background work would write beside the server);
    and a registrar's token for the import and the name of a user whose password is guessed."""
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    sealer = Sealer.from_file(settings.key_file)
    passwords = Passwords(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    route = [
        PointIn(id="start", name="al-Amiriyah", kind="departure", expected_minutes=0),
        PointIn(id="cp1", name="Ramouseh", kind="checkpoint", expected_minutes=25),
        PointIn(id="end", name="al-Rashideen", kind="arrival", expected_minutes=55),
    ]
    rng = random.Random(5)
    with db.writing() as session:
        operation = operations.create(session, OperationIn(name="beside", scenario_name="bench", route=route))
        operation.state = "active"
        ids: list[str] = []
        for _ in range(people // 5):
            members = [
                PersonIn(name=f"{_name(rng)} {_name(rng)}", age_band="18-59", sex="female") for _ in range(5)
            ]
            done = registration.register_household(
                session, sealer=sealer, operation_id=operation.id, body=HouseholdIn(people=members)
            )
            ids += [p.id for p in done.people]
        devices = []
        for d in range(scanners):
            point = "start" if d % 2 == 0 else "cp1"
            token = access.register_device(
                session, operation_id=operation.id, device_id=f"scanner-{d:03d}", label="bench", point=point
            )
            devices.append(Device(f"scanner-{d:03d}", token, point))
        registrar = access.create_user(
            session, username="bench-registrar", password=secrets.token_hex(8), passwords=passwords
        )
        access.grant(session, user_id=registrar.id, role=Role.COORDINATOR, operation_id=None)
        access.create_user(session, username="amal", password=secrets.token_hex(8), passwords=passwords)
        operation_id = operation.id
    with db.writing() as session:
        token, _ = access.new_api_token(session, user_id=registrar.id, hours=2)
    db.dispose()
    return operation_id, devices, ids, token, "amal"


def observer_tokens(settings: Settings, operation_id: str, count: int) -> list[str]:
    """A token for each of ``count`` observers of the operation (who may read its counts)."""
    db = Database(settings.database_url)
    passwords = Passwords(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    tokens = []
    with db.writing() as session:
        for n in range(count):
            watcher = access.create_user(
                session, username=f"observer-{n}", password=secrets.token_hex(8), passwords=passwords
            )
            access.grant(session, user_id=watcher.id, role=Role.OBSERVER, operation_id=operation_id)
            tokens.append(access.new_api_token(session, user_id=watcher.id, hours=2)[0])
    db.dispose()
    return tokens


def drain(server: Server, log: Path) -> None:
    """Copy the server's error output to ``log`` as it comes (a pipe left unread fills and stops it)."""
    assert server.process is not None and server.process.stderr is not None
    stream = server.process.stderr

    def copy() -> None:
        with log.open("ab") as out:
            for line in stream:
                out.write(line)

    threading.Thread(target=copy, daemon=True).start()


def registration_csv(rows: int) -> bytes:
    """A field form export of ``rows`` people, five to a household, with made-up Arabic names."""
    rng = random.Random(9)
    lines = ["hh_id,name,age,sex,needs"]
    for n in range(rows):
        lines.append(f"H{n // 5},{_name(rng)} {_name(rng)},{rng.randint(0, 90)},{'fm'[n % 2]},")
    return ("\n".join(lines) + "\n").encode()


def running(stop: float, done: Finished | asyncio.Event | None) -> bool:
    """Until ``stop`` and, when given, until ``done`` is set (at most MAX_SECONDS more)."""
    now = time.monotonic()
    return now < stop or (done is not None and not done.is_set() and now < stop + 2 * MAX_SECONDS)


async def scans(
    port: int,
    operation_id: str,
    devices: list[Device],
    people: list[str],
    seconds: float,
    interval: float,
    run: Run,
    done: Finished | asyncio.Event | None = None,
) -> None:
    """Each scanner sends one event every ``interval`` seconds for ``seconds`` (and until ``done``)."""
    path = f"/api/operations/{operation_id}/events"
    stop = time.monotonic() + seconds

    async def scanner(device: Device, rng: random.Random) -> None:
        connection = Connection(port, device.token)
        await asyncio.sleep(rng.random() * interval)  # spread the scanners over the interval
        try:
            while running(stop, done):
                due = time.monotonic() + interval
                event = device.make(rng, people)
                event["device_time"] = datetime.now(UTC).isoformat()  # within the accepted clock range
                started = time.perf_counter()
                status, _body = await connection.post(path, event)
                run.latencies.append(time.perf_counter() - started)
                if status not in (200, 201):
                    run.scan_errors[f"http {status}"] += 1
                await asyncio.sleep(max(0.0, due - time.monotonic()))
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            run.scan_errors["connection lost"] += 1
        finally:
            connection.close()

    await asyncio.gather(*(scanner(d, random.Random(i)) for i, d in enumerate(devices)))


async def log_ins(
    port: int, per_second: float, seconds: float, addresses: int, known: str, run: Run, done: asyncio.Event
) -> None:
    """``per_second`` wrong-password log-ins, each on its own connection from one of ``addresses``
    loopback addresses (127.0.0.2, ...)."""
    stop = time.monotonic() + seconds
    clients = [
        httpx.AsyncClient(
            base_url=f"http://{HOST}:{port}",
            transport=httpx.AsyncHTTPTransport(local_address=f"127.0.0.{2 + a}"),
            timeout=MAX_SECONDS,
        )
        for a in range(addresses)
    ]
    tasks: list[asyncio.Task[None]] = []

    async def one(client: httpx.AsyncClient, name: str) -> None:
        try:
            answer = await client.post(
                "/api/auth/token", data={"username": name, "password": "not-the-password"}
            )
            run.logins[answer.status_code] += 1
        except httpx.HTTPError:
            run.logins[0] += 1

    n = 0
    while running(stop, done):
        due = time.monotonic() + 1 / per_second
        name = known if addresses == 1 and n % 2 == 0 else f"nobody-{secrets.token_hex(4)}"
        tasks.append(asyncio.create_task(one(clients[n % addresses], name)))
        n += 1
        await asyncio.sleep(max(0.0, due - time.monotonic()))
    await asyncio.gather(*tasks)
    for client in clients:
        await client.aclose()


async def observers(
    port: int,
    operation_id: str,
    tokens: list[str],
    poll: float,
    seconds: float,
    run: Run,
    done: asyncio.Event,
) -> None:
    """Each observer reads the counts every ``poll`` seconds (a dashboard left open)."""
    stop = time.monotonic() + seconds

    async def observer(token: str, rng: random.Random) -> None:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=MAX_SECONDS) as client:
            await asyncio.sleep(rng.random() * poll)
            while running(stop, done):
                due = time.monotonic() + poll
                try:
                    answer = await client.get(
                        f"/api/operations/{operation_id}/counts", headers={"Authorization": f"Bearer {token}"}
                    )
                    run.counts[answer.status_code] += 1
                except httpx.HTTPError:
                    run.counts[0] += 1
                await asyncio.sleep(max(0.0, due - time.monotonic()))

    await asyncio.gather(*(observer(t, random.Random(i)) for i, t in enumerate(tokens)))


async def registration_import(
    port: int, operation_id: str, token: str, data: bytes, run: Run, done: asyncio.Event
) -> None:
    started = time.perf_counter()
    try:
        await _import(port, operation_id, token, data, run)
    except httpx.HTTPError as exc:  # reported, not raised: the scan figures still count
        run.import_status = 0
        run.import_seconds = time.perf_counter() - started
        print(f"{run.name}: the import failed ({type(exc).__name__})", flush=True)
    finally:
        done.set()


async def _import(port: int, operation_id: str, token: str, data: bytes, run: Run) -> None:
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=2 * MAX_SECONDS) as client:
        started = time.perf_counter()
        answer = await client.post(
            f"/api/operations/{operation_id}/imports/registrations",
            files={"file": ("registrations.csv", data, "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
        )
        run.import_seconds = time.perf_counter() - started
        run.import_status = answer.status_code
        if answer.status_code == 200:
            run.import_people = int(answer.json()["people"])


class Finished:
    """The end of the loads as the scans see it: an :class:`asyncio.Event` or a process' ``Event``."""

    def __init__(self, event: asyncio.Event | EventType, process: BaseProcess | None = None) -> None:
        self.event = event
        self.process = process

    def is_set(self) -> bool:
        """The loads ended (or their process died)."""
        return self.event.is_set() or (self.process is not None and not self.process.is_alive())


async def _loads(
    port: int,
    operation_id: str,
    args: argparse.Namespace,
    token: str,
    known: str,
    watching: list[str],
    addresses: int,
    run: Run,
    done: asyncio.Event,
) -> None:
    """The log-ins, the import and the observers, side by side (until the import has answered)."""
    data = registration_csv(args.rows)
    await asyncio.gather(
        log_ins(port, args.logins, args.seconds, addresses, known, run, done),
        registration_import(port, operation_id, token, data, run, done),
        observers(port, operation_id, watching, args.poll, args.seconds, run, done),
    )


def _loads_process(
    port: int,
    operation_id: str,
    args: argparse.Namespace,
    token: str,
    known: str,
    watching: list[str],
    addresses: int,
    name: str,
    finished: EventType,
    answers: QueueType[Run],
) -> None:
    """The loads in a process of their own: its event loop never delays a scan's answer."""
    run = Run(name)
    done = asyncio.Event()

    async def main() -> None:
        watch = asyncio.create_task(
            _loads(port, operation_id, args, token, known, watching, addresses, run, done)
        )
        await done.wait()
        finished.set()
        await watch

    try:
        asyncio.run(main())
    finally:
        finished.set()
        answers.put(run)


async def loaded(
    server: Server,
    operation_id: str,
    devices: list[Device],
    people: list[str],
    args: argparse.Namespace,
    token: str,
    known: str,
    watching: list[str],
    addresses: int,
    run: Run,
) -> None:
    """The scans beside the loads. With ``args.loads == "loop"`` all in one event loop (as the bench did
    before: a client busy sending log-ins, encoding the import or reading counts delays the scans'
    answers as measured); with ``"process"`` the loads run in a process of their own, as they would
    on other machines (the scans then share only the cores with them)."""
    if args.loads == "loop":
        done = asyncio.Event()
        await asyncio.gather(
            scans(
                server.port, operation_id, devices, people, args.seconds, args.interval, run, Finished(done)
            ),
            _loads(server.port, operation_id, args, token, known, watching, addresses, run, done),
        )
        return
    context = multiprocessing.get_context("fork")
    finished = context.Event()
    answers: QueueType[Run] = context.Queue()
    process = context.Process(
        target=_loads_process,
        args=(
            server.port,
            operation_id,
            args,
            token,
            known,
            watching,
            addresses,
            run.name,
            finished,
            answers,
        ),
        daemon=True,
    )
    process.start()
    try:
        ended = Finished(finished, process)
        await scans(server.port, operation_id, devices, people, args.seconds, args.interval, run, ended)
        try:
            theirs = await asyncio.get_running_loop().run_in_executor(None, answers.get, True, 60)
        except queue.Empty:  # the loads' process died without its figures: reported as a failed import
            print(f"{run.name}: the loads' process ended without its figures", flush=True)
            run.import_status = 0
            return
    finally:
        process.join(60)
        if process.is_alive():
            process.kill()
    run.logins, run.counts = theirs.logins, theirs.counts
    run.import_status, run.import_seconds, run.import_people = (
        theirs.import_status,
        theirs.import_seconds,
        theirs.import_people,
    )


def show(runs: list[Run], quiet: Run) -> None:
    base = percentile(quiet.latencies, 0.99)
    print()
    columns = ("scans", "p50 ms", "p90 ms", "p99 ms", "max ms", "p99/quiet", "load")
    print(f"{'run':24} " + " ".join(f"{c:>9}" for c in columns) + "  errors")
    for run in runs:
        p = [percentile(run.latencies, q) * 1000 for q in (0.5, 0.9, 0.99)]
        most = max(run.latencies, default=float("nan")) * 1000
        ratio = percentile(run.latencies, 0.99) / base
        errors = ", ".join(f"{k} x{v}" for k, v in sorted(run.scan_errors.items())) or "-"
        figures = [
            f"{len(run.latencies):>9}",
            *(f"{v:>9.1f}" for v in (*p, most)),
            f"{ratio:>9.2f}",
            f"{run.load:>9.1f}",
        ]
        print(f"{run.name:24} " + " ".join(figures) + f"  {errors}")
    for run in runs[1:]:
        answers = ", ".join(f"{status}: {count}" for status, count in sorted(run.logins.items()))
        counted = ", ".join(f"{status}: {count}" for status, count in sorted(run.counts.items()))
        print(
            f"{run.name}: log-ins {answers}; import HTTP {run.import_status}, {run.import_people} people "
            f"in {run.import_seconds or float('nan'):.1f} s; counts read {counted or 'never'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--scanners", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between a scanner's events")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30, help="length of each run")
    parser.add_argument("--logins", type=float, default=16, help="wrong-password log-ins a second")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the import")
    parser.add_argument("--observers", type=int, default=2, help="observers reading the counts")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between an observer's reads")
    parser.add_argument(
        "--loads",
        choices=["process", "loop", "both"],
        default="process",
        help="where the log-ins, the import and the observers run: in a process of their own (as on other "
        "machines), in the scanners' event loop (as before), or both, one after the other",
    )
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="corridor-beside-"))
    settings, database = make_settings(args.db, folder, "FULL")
    print(
        f"database: {args.db} in {folder}; {args.scanners} scanners, one event each per {args.interval} s",
        flush=True,
    )
    try:
        operation_id, devices, people, token, known = setup(settings, args.scanners, args.people)
        watching = observer_tokens(settings, operation_id, args.observers)
        server = Server(settings, free_port())
        server.start()
        drain(server, folder / "server.log")
        try:
            quiet = Run("quiet")
            asyncio.run(scans(server.port, operation_id, devices, people, args.seconds, args.interval, quiet))
            quiet.load = os.getloadavg()[0]
            print(f"quiet: done (load average {quiet.load:.1f})", flush=True)
            runs = [quiet]
            where = ["process", "loop"] if args.loads == "both" else [args.loads]
            for name, addresses in (("one address", 1), ("16 addresses", 16)):
                for loads in where:
                    run = Run(name if len(where) == 1 else f"{name} ({loads})")
                    asyncio.run(
                        loaded(
                            server,
                            operation_id,
                            devices,
                            people,
                            argparse.Namespace(**{**vars(args), "loads": loads}),
                            token,
                            known,
                            watching,
                            addresses,
                            run,
                        )
                    )
                    run.load = os.getloadavg()[0]
                    runs.append(run)
                    print(f"{run.name}: done (load average {run.load:.1f})", flush=True)
        finally:
            server.stop()
        show(runs, quiet)
        return 0
    finally:
        drop_database(database)
        errors = (
            (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
        )
        print(f"server error output: {errors.count(chr(10))} lines", flush=True)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
