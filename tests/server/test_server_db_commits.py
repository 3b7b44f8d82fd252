"""Commits that wait for the disk and those that do not, and SQLite's log checkpointed beside the
writes: an import's chunks commit without waiting for the disk and are made durable before it
answers; the service's connections never checkpoint inside a commit (which holds the write lock)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.registration import imports
from corridor.server.runtime import Runtime
from corridor.server.settings import Settings
from server.conftest import World

HEADER = "hh_id,name,age,sex,wristband\n"


def _synchronous(session: Session, is_sqlite: bool) -> str:
    if is_sqlite:
        level = int(session.execute(text("PRAGMA synchronous")).scalar_one())
        return {0: "off", 1: "normal", 2: "full", 3: "extra"}[level]
    return str(session.execute(text("SHOW synchronous_commit")).scalar_one())


def test_a_durable_write_waits_for_the_disk_and_a_deferred_one_does_not(db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.writing() as session:
            durable = _synchronous(session, db.is_sqlite)
        with db.writing(durable=False) as session:
            deferred = _synchronous(session, db.is_sqlite)
        with db.writing() as session:  # a pooled connection is never left deferred
            again = _synchronous(session, db.is_sqlite)
        db.sync()
    finally:
        db.dispose()
    assert (durable, deferred, again) == (("full", "normal", "full") if db.is_sqlite else ("on", "off", "on"))


class NotedDatabase(Database):
    """Notes each write transaction's durability and each sync, in order."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.noted: list[str] = []
        self.before_second: object = None

    @contextmanager
    def writing(self, *, durable: bool = True) -> Iterator[Session]:
        if len(self.noted) == 1 and callable(self.before_second):
            self.before_second()
        with super().writing(durable=durable) as session:
            yield session
        self.noted.append("durable" if durable else "deferred")

    def sync(self) -> None:
        super().sync()
        self.noted.append("sync")


def _prepared(people: int) -> imports.Prepared:
    rows = "".join(f"H{n // 4},Person {n},{20 + n % 50},{'fm'[n % 2]},w{n}\n" for n in range(people))
    return imports.prepare("big.csv", (HEADER + rows).encode(), accept_valid_rows=False, max_rows=10_000)


def test_an_import_commits_its_chunks_deferred_and_syncs_once_before_it_answers(world: World) -> None:
    db = NotedDatabase(world.settings.database_url)
    sealer = Sealer.from_file(world.settings.key_file)
    try:
        report = imports.store(db, sealer=sealer, operation_id=world.operation_id, prepared=_prepared(400))
    finally:
        db.dispose()
    assert report.people == 400
    assert len(db.noted) >= 3
    assert db.noted[-1] == "sync" and set(db.noted[:-1]) == {"deferred"}


def test_an_import_stopped_by_a_conflict_syncs_what_it_stored_before_it_answers(world: World) -> None:
    db = NotedDatabase(world.settings.database_url)
    db.before_second = lambda: world.household(
        {"name": "Samir", "age_band": "60+", "sex": "male", "wristband": "w390"}
    )
    sealer = Sealer.from_file(world.settings.key_file)
    try:
        with pytest.raises(ConflictError):
            imports.store(db, sealer=sealer, operation_id=world.operation_id, prepared=_prepared(400))
    finally:
        db.dispose()
    assert db.noted[0] == "deferred" and db.noted[-1] == "sync"


def _fill(db: Database, megabytes: int) -> None:
    with db.writing() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS filler (body BLOB)"))
    for _ in range(megabytes):
        with db.writing() as session:
            session.execute(text("INSERT INTO filler VALUES (randomblob(1048576))"))


def test_the_service_checkpoints_the_log_beside_the_writes_never_inside_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "corridor.db"
    db = Database(f"sqlite:///{path}", background_checkpoints=True)
    try:
        with db.reading() as session:
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 0
        _fill(db, 6)  # past SQLite's 1,000 pages
        deadline = time.monotonic() + 20
        while path.stat().st_size < 6 * 1024 * 1024 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert path.stat().st_size >= 6 * 1024 * 1024  # copied into the database file
    finally:
        db.dispose()


def test_without_the_checkpoints_thread_sqlite_checkpoints_in_its_commits(tmp_path: Path) -> None:
    path = tmp_path / "corridor.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.reading() as session:
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 1000
        _fill(db, 6)
        assert path.stat().st_size >= 4 * 1024 * 1024  # the commit past 1,000 pages copied them
    finally:
        db.dispose()


def test_the_service_runtime_checkpoints_beside_its_writes(settings: Settings) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's checkpoints (PostgreSQL has none of its own to move)")
    runtime = Runtime.start(settings)
    try:
        with runtime.db.reading() as session:
            setting = session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
    finally:
        runtime.jobs.stop()
        runtime.db.dispose()
    assert setting == 0
