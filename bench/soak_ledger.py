"""Soak: scans for a long time while the server is killed with SIGKILL again and again.

Not part of ``make test``. The service runs in its own process on 127.0.0.1 (as in
``bench/load_scanners.py``; SQLite in WAL mode with ``synchronous=FULL``, or a fresh PostgreSQL
database with ``--db postgresql``), signing a checkpoint of the ledger's head every 15 s.
``--devices`` scanners send events for ``--minutes`` (30 by default): single events, and every
tenth request a batch of 20, each scanner numbering its own; every ``--kill-every`` seconds the
server is killed with SIGKILL and started again, and each scanner sends again, unchanged, what was
never acknowledged (as a scanner that lost its connection does).

At the end it checks what the promise says:

* nothing lost: every event acknowledged (answered 200 or 201, or ``stored``/``repeat`` in a
  batch) is in the ledger; every event sent is there once the scanners have sent everything
  again; nothing is stored twice or stored without having been sent;
* the chain intact: ``verify_ledger`` with the signing key's public key passes, through every
  signed checkpoint made during the soak.

The exit status is 1 otherwise. The server's error output (every start of it, one after the
other) is kept in ``server.log`` in the soak's folder, whose path is printed at the start and the
end; the folder is kept, so that an answer of 500 can be looked up there afterwards.

    .venv/bin/python -m bench.soak_ledger --minutes 30
    .venv/bin/python -m bench.soak_ledger --minutes 5 --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select

from bench.load_scanners import HOST, Connection, Server, drop_database, free_port, make_settings, prepare
from corridor.server.ledger import anchor
from corridor.server.ledger.tables import LedgerRow
from corridor.server.ledger_check import verify_ledger
from corridor.server.settings import Settings

console = Console()


@dataclass
class Scanner:
    device_id: str
    token: str
    point: str
    seq: int = 0
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    pending: list[dict[str, Any]] = field(default_factory=list)  # sent, not yet acknowledged

    def make(self, rng: random.Random, people: list[str]) -> dict[str, Any]:
        self.seq += 1
        event: dict[str, Any] = {
            "event_id": f"{self.device_id}-{self.seq}-{secrets.token_hex(3)}",
            "device_id": self.device_id,
            "seq": self.seq,
            "device_time": datetime.now(UTC).isoformat(),
            "type": "boarded" if self.point == "start" else "checkpoint",
            "payload": {"person_id": rng.choice(people), "point": self.point},
        }
        self.sent[event["event_id"]] = event
        self.pending.append(event)
        return event

    def answered(self, status: int, body: Any, events: list[dict[str, Any]]) -> None:
        done: set[str] = set()
        if status == 200 and isinstance(body, dict) and "results" in body:
            done = {r["event_id"] for r in body["results"] if r["outcome"] in ("stored", "repeat")}
        elif status in (200, 201) and len(events) == 1:
            done = {events[0]["event_id"]}
        self.acked |= done
        self.pending = [e for e in self.pending if e["event_id"] not in done]


@dataclass
class Tally:
    requests: int = 0
    failed: int = 0  # no answer: the server was killed, or not yet back
    statuses: dict[int, int] = field(default_factory=dict)
    kills: int = 0


async def scan(
    scanner: Scanner, port: int, people: list[str], until: float, tally: Tally, paused: asyncio.Event
) -> None:
    rng = random.Random(scanner.device_id)
    connection = Connection(port, scanner.token)
    n = 0
    while time.monotonic() < until:
        await paused.wait()
        n += 1
        if scanner.pending and (len(scanner.pending) > 1 or n % 10 == 0):
            events = scanner.pending[:50]
        elif n % 10 == 0:
            events = [scanner.make(rng, people) for _ in range(20)]
        else:
            events = scanner.pending[:1] or [scanner.make(rng, people)]
        path = "/events" if len(events) == 1 else "/events/batch"
        body: Any = events[0] if len(events) == 1 else {"events": events}
        try:
            status, answer = await asyncio.wait_for(
                connection.post(f"/api/operations/{OPERATION[0]}{path}", body), 30
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.failed += 1
            connection.close()
            await asyncio.sleep(0.2)
            continue
        tally.requests += 1
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        scanner.answered(status, answer, events)
        await asyncio.sleep(0.02)
    connection.close()


OPERATION: list[str] = [""]


class LoggedServer(Server):
    """The service as ``load_scanners.Server`` starts it, its error output appended to ``log``
    (a file: nothing to drain, and what a start that never answers wrote is kept too)."""

    def __init__(self, settings: Settings, port: int, log: Path) -> None:
        super().__init__(settings, port)
        self.log = log

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
        with self.log.open("ab") as out:  # the child keeps its own copy of the file
            out.write(f"--- server starting, {datetime.now(UTC).isoformat()}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=out
            )
        deadline = time.monotonic() + 180  # a loaded machine can take a minute to import the service
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"the server did not start within 180 s (its error output: {self.log})")


async def kill_loop(server: Server, until: float, every: float, tally: Tally, paused: asyncio.Event) -> None:
    rng = random.Random(3)
    while True:
        wait = every * rng.uniform(0.5, 1.5)
        if time.monotonic() + wait >= until:
            return
        await asyncio.sleep(wait)
        server.kill()
        tally.kills += 1
        paused.clear()  # the scanners wait while it starts again (as they would retry)
        await asyncio.get_running_loop().run_in_executor(None, server.start)
        paused.set()


async def progress(started: float, until: float, tally: Tally, scanners: list[Scanner]) -> None:
    while time.monotonic() < until:
        await asyncio.sleep(30)
        acked = sum(len(s.acked) for s in scanners)
        console.log(
            f"{(time.monotonic() - started) / 60:5.1f} min: {tally.kills} kills, {tally.requests:,} answers, "
            f"{tally.failed:,} without answer, {acked:,} events acknowledged"
        )


async def drain(scanners: list[Scanner], port: int, tally: Tally) -> None:
    """Send what is still unacknowledged until every event is (the server up all along)."""
    for scanner in scanners:
        connection = Connection(port, scanner.token)
        for _ in range(100):
            if not scanner.pending:
                break
            events = scanner.pending[:50]
            status, answer = await connection.post(
                f"/api/operations/{OPERATION[0]}/events/batch", {"events": events}
            )
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            scanner.answered(status, answer, events)
        connection.close()


def stored_ids(url: str) -> tuple[list[str], int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        ids = list(
            connection.execute(
                select(LedgerRow.event_id).where(LedgerRow.device_id.like("scanner-%"))
            ).scalars()
        )
        total = connection.execute(select(func.count()).select_from(LedgerRow)).scalar_one()
    engine.dispose()
    return ids, int(total)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the scans go on")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--kill-every", type=float, default=45.0, help="seconds between kills (on average)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="corridor-soak-"))
    settings, pg_name = make_settings(args.db, folder, "FULL")
    os.environ["CORRIDOR_CHECKPOINT_MINUTES"] = "0.25"  # the server signs its head every 15 s
    server: Server | None = None
    log = folder / "server.log"
    console.print(f"the server's error output: {log}")
    try:
        with console.status("registering people and scanners"):
            OPERATION[0], devices, people = prepare(settings, args.devices, args.people)
        scanners = [Scanner(d.device_id, d.token, d.point) for d in devices]
        server = LoggedServer(settings, free_port(), log)
        server.start()
        tally = Tally()
        started = time.monotonic()
        until = started + args.minutes * 60

        async def run() -> None:
            paused = asyncio.Event()
            paused.set()
            assert server is not None
            jobs = [scan(s, server.port, people, until, tally, paused) for s in scanners]
            jobs += [
                kill_loop(server, until, args.kill_every, tally, paused),
                progress(started, until, tally, scanners),
            ]
            await asyncio.gather(*jobs)
            await drain(scanners, server.port, tally)

        asyncio.run(run())
        seconds = time.monotonic() - started
        server.stop()
        ids, total = stored_ids(settings.database_url)
        stored = set(ids)
        sent = set().union(*(s.sent for s in scanners))
        acked = set().union(*(s.acked for s in scanners))
        key = anchor.load_or_create_signing_key(settings.signing_key_path).public_key()
        check = verify_ledger(settings.database_url, key)
        table = Table(title=f"soak, {args.db}, {seconds / 60:.1f} min, {args.devices} scanners")
        table.add_column("measure")
        table.add_column("value", justify="right")
        rows = {
            "kills (SIGKILL)": tally.kills,
            "answers": tally.requests,
            "requests without answer (server down)": tally.failed,
            "answers by status": ", ".join(f"{k}: {v:,}" for k, v in sorted(tally.statuses.items())),
            "events sent": len(sent),
            "acknowledged before the end": len(acked),
            "stored": len(ids),
            "lost (acknowledged, not stored)": len(acked - stored),
            "sent, never stored after resending": len(sent - stored),
            "stored twice": len(ids) - len(stored),
            "stored but never sent": len(stored - sent),
            "ledger entries (all)": total,
            "signed checkpoints passed (all)": check.checkpoints,
            "verify-ledger": "intact" if check.ok else f"BROKEN: {check.render()}",
        }
        for name, value in rows.items():
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
        console.print(table)
        errors = log.read_text(errors="replace").count("Traceback") if log.exists() else 0
        console.print(f"the server's error output: {log} ({errors} tracebacks)")
        good = (
            check.ok
            and not (acked - stored)
            and not (sent - stored)
            and len(ids) == len(stored)
            and not (stored - sent)
        )
        return 0 if good and tally.kills > 0 and check.checkpoints > 0 else 1
    finally:
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
        drop_database(pg_name)


if __name__ == "__main__":
    raise SystemExit(main())
