"""Counts and reconciliation at 170,000 and 1,000,000 ledger events: the full fold on every request
(as before) against the fold kept by ledger position (``corridor.server.ledger.counts``).

Not part of ``make test``. In this process, on a fresh SQLite file (or a fresh PostgreSQL
database with ``--db postgresql``, dropped afterwards): an operation with ``--people`` registered,
then scan events appended to the ledger in transactions of 5,000 until each size of ``--sizes``
is reached; at each size it times, one after the other:

* ``full fold``: what the counts and reconciliation routes did before, the whole fold of the
  operation's events and every device's sequence numbers read on every request;
* ``kept, first``: the kept fold made from nothing (once per process);
* ``kept, unchanged``: a request with no new entry since the last (median of 5);
* ``kept, +100``: a request after 100 new entries (median of 5);
* ``snapshot save``: the kept fold saved in the database (sealed), as the service's own thread
  does every 10,000 new entries and when it stops;
* ``kept, after restart``: the first request of a new process (a new ``LedgerCounts``), 100
  entries after the snapshot: the snapshot loaded, checked against the ledger, then extended.

Each kept answer (after the +100s, and after the restart) is compared with the full fold's
(counts, alarms, not seen, data pending); the exit status is 1 if any differs.

    .venv/bin/python -m bench.soak_counts                       # SQLite, 170,000 and 1,000,000
    .venv/bin/python -m bench.soak_counts --db postgresql --sizes 170000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bench.load_scanners import drop_database, make_settings, prepare
from corridor.ops.ledger import EventType, ScanEvent
from corridor.ops.reconciliation import Reconciliation
from corridor.server.checkpoints import service
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.ledger import service as ledger
from corridor.server.ledger.counts import LedgerCounts
from corridor.server.ledger.counts import reconciliation as kept_reconciliation
from corridor.server.ledger.snapshot_tables import CountsSnapshot
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation

console = Console()
KINDS = [EventType.BOARDED] * 4 + [EventType.CHECKPOINT] * 4 + [EventType.ARRIVED, EventType.MISSING]


class Feed:
    """Scan events for the bench: 50 devices, each numbering its own, a few late and a few lost."""

    def __init__(self, people: list[str], start: datetime) -> None:
        self.people = people
        self.start = start
        self.rng = random.Random(11)
        self.seqs = [0] * 50
        self.n = 0

    def take(self, count: int) -> list[ScanEvent]:
        events = []
        for _ in range(count):
            self.n += 1
            device = self.rng.randrange(50)
            self.seqs[device] += 2 if self.rng.random() < 0.001 else 1
            kind = self.rng.choice(KINDS)
            point = "start" if kind is EventType.BOARDED else self.rng.choice(["cp1", "end"])
            late = self.rng.random() < 0.05
            moment = self.start + timedelta(seconds=self.n // 10 - (600 if late else 0))
            events.append(
                ScanEvent(
                    f"b-{self.n}",
                    f"scanner-{device:03d}",
                    self.seqs[device],
                    moment,
                    kind,
                    {"person_id": self.rng.choice(self.people), "point": point},
                )
            )
        return events


def append(db: Database, operation_id: str, events: list[ScanEvent]) -> None:
    for start in range(0, len(events), 5000):
        with db.writing() as session:
            ledger.append(
                session, operation_id=operation_id, events=events[start : start + 5000], validate=_ok
            )


def _ok(_: Any) -> None:
    return None


def timed(work: Callable[[], Reconciliation]) -> tuple[float, Reconciliation]:
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


def same(a: Reconciliation, b: Reconciliation) -> bool:
    return (
        a.counts == b.counts
        and a.by_group == b.by_group
        and a.vehicle_counts == b.vehicle_counts
        and sorted((s.subject_id, s.status) for s in a.alarms)
        == sorted((s.subject_id, s.status) for s in b.alarms)
        and [o.subject_id for o in a.not_seen] == [o.subject_id for o in b.not_seen]
        and a.data_pending == b.data_pending
    )


def _work(
    counts: LedgerCounts, session: Session, operation: Operation, now: datetime
) -> tuple[Callable[[], Reconciliation], Callable[[], Reconciliation]]:
    """The full fold (as before) and the kept fold (as now), for ``operation`` at ``now``."""

    def full() -> Reconciliation:
        return service.reconciliation(session, operation=operation, now=now, grace_minutes=30.0)

    def kept() -> Reconciliation:
        return kept_reconciliation(counts, session, operation=operation, now=now, grace_minutes=30.0)

    return full, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--sizes", default="170000,1000000", help="ledger sizes to time at")
    parser.add_argument("--skip-full-above", type=int, default=2_000_000, help="no full fold above this size")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    folder = Path(tempfile.mkdtemp(prefix="corridor-counts-"))
    settings, pg_name = make_settings(args.db, folder, "NORMAL")
    table = Table(title=f"counts and reconciliation, {args.db}, {args.people:,} people")
    for column in (
        "ledger events",
        "full fold",
        "kept, first",
        "kept, unchanged",
        "kept, +100",
        "snapshot save",
        "kept, after restart",
        "same answers",
    ):
        table.add_column(column, justify="right")
    failures = 0
    try:
        with console.status("registering people"):
            operation_id, _, people = prepare(settings, 50, args.people)
        db = Database(settings.database_url, sqlite_synchronous="NORMAL")
        feed = Feed(people, datetime.now(UTC))  # scans start after the registrations
        now = feed.start + timedelta(days=2)
        sealer = Sealer.from_file(settings.key_file)
        # Saves only when told (save_now), as a process that is about to be killed would have.
        counts = LedgerCounts(db, sealer, every=2**62, minutes=1e9)
        stored = 0
        for size in sizes:
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task(f"appending events up to {size:,}", total=size - stored)
                while stored < size:
                    step = min(50_000, size - stored)
                    append(db, operation_id, feed.take(step))
                    stored += step
                    bar.advance(task, step)
            with db.writing() as session:  # the kept fold from nothing, not from the last size's snapshot
                session.execute(delete(CountsSnapshot))
            with db.reading() as session:
                operation = operations.get(session, operation_id)

                full, kept = _work(counts, session, operation, now)

                counts.forget()
                with console.status(f"kept fold from nothing at {size:,}"):
                    first, first_answer = timed(kept)
                unchanged = statistics.median(timed(kept)[0] for _ in range(5))
            began = time.perf_counter()
            counts.save_now()
            save = time.perf_counter() - began
            append(db, operation_id, feed.take(100))
            stored += 100
            restarted = LedgerCounts(db, sealer, every=2**62, minutes=1e9)  # a new process
            with db.reading() as session:
                _, kept = _work(restarted, session, operations.get(session, operation_id), now)
                after_restart, _ = timed(kept)
            grown = []
            for _ in range(5):
                append(db, operation_id, feed.take(100))
                stored += 100
                with db.reading() as session:
                    _, kept = _work(counts, session, operations.get(session, operation_id), now)
                    seconds, grown_answer = timed(kept)
                    grown.append(seconds)
            with db.reading() as session:
                full, _ = _work(counts, session, operations.get(session, operation_id), now)
                _, kept_restarted = _work(restarted, session, operations.get(session, operation_id), now)
                restarted_answer = kept_restarted()
                if stored <= args.skip_full_above:
                    with console.status(f"full fold at {stored:,}"):
                        full_seconds, full_answer = timed(full)
                    ok = same(full_answer, grown_answer) and same(full_answer, restarted_answer)
                else:
                    full_seconds, ok = float("nan"), True
            failures += not ok
            row = (
                f"{size:,}",
                f"{full_seconds * 1000:,.0f} ms",
                f"{first * 1000:,.0f} ms",
                f"{unchanged * 1000:,.1f} ms",
                f"{statistics.median(grown) * 1000:,.1f} ms",
                f"{save * 1000:,.0f} ms",
                f"{after_restart * 1000:,.0f} ms",
                "yes" if ok else "NO",
            )
            console.log(" | ".join(row))  # as it is measured: the larger sizes take long
            table.add_row(*row)
            del first_answer
        db.dispose()
    finally:
        drop_database(pg_name)
    console.print(table)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
