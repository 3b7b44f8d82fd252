"""Database access: the engine, sessions, the single-writer lock and migrations.

The caller owns the transaction: service functions take a session and never commit; routes open a
transaction with :meth:`Database.writing` (for writes) or :meth:`Database.reading` and the commit
happens before the response is sent, so an acknowledged write is stored.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from corridor.server.wal import WalCheckpoints

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", autocheckpoint: bool = True) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode, foreign keys and a busy timeout (and no
    checkpoints inside commits without ``autocheckpoint``: see :mod:`corridor.server.wal`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        _private_file(Path(parsed.database))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def _private_file(path: Path) -> None:
    """Make a new SQLite file readable by its owner only (0600); SQLite gives its -wal and -shm
    files the same mode. An existing file is left as it is."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class Database:
    """An engine, a session factory and, on SQLite, one lock so that writes never wait on each
    other inside the database (SQLite has one writer at a time anyway)."""

    def __init__(
        self, url: str, *, sqlite_synchronous: str = "FULL", background_checkpoints: bool = False
    ) -> None:
        """``background_checkpoints``: SQLite's log is checkpointed by a thread of its own, never
        inside a commit (:mod:`corridor.server.wal`; the service's choice)."""
        self.url = url
        parsed = make_url(url)
        path = parsed.database
        on_file = parsed.get_backend_name() == "sqlite" and bool(path) and path != ":memory:"
        self._checkpoints = WalCheckpoints(Path(str(path))) if background_checkpoints and on_file else None
        self._autocheckpoint = self._checkpoints is None
        self.engine = make_engine(
            url, sqlite_synchronous=sqlite_synchronous, autocheckpoint=self._autocheckpoint
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # Whether a durable commit waits for the disk (SQLite's NORMAL survives a killed process only).
        self.waits_for_disk = not self.is_sqlite or sqlite_synchronous == "FULL"
        self._write_lock = threading.Lock()
        self._writers = 0  # threads in writing(), holding its lock or waiting for it
        self._writers_lock = threading.Lock()
        self._local = threading.local()
        self._deferred: sessionmaker[Session] | None = None
        self._deferred_engine: Engine | None = None
        self._deferred_lock = threading.Lock()

    @contextmanager
    def writing(self, *, durable: bool = True) -> Iterator[Session]:
        """A session in a write transaction: committed on success, rolled back on any error.

        With ``durable=False`` the commit does not wait for the disk (SQLite: ``synchronous=NORMAL``
        on connections of their own; PostgreSQL: ``synchronous_commit`` off for the transaction):
        for bulk work written in many transactions (an import's chunks), whose caller makes them
        durable with :meth:`sync` before it answers. The write-ahead log keeps the order of
        commits, so a crash of the machine can lose only the last transactions, never one in the
        middle; a durable commit after them (a scan's) makes them durable too."""
        if getattr(self._local, "writing", False):
            raise RuntimeError("Database.writing() is not re-entrant: pass the open session down")
        lock = self._write_lock if self.is_sqlite else _no_lock()
        sessions = self.sessions if durable or not self.is_sqlite else self._deferred_sessions()
        with self._writers_lock:
            self._writers += 1
        try:
            with lock, sessions() as session, session.begin():
                self._local.writing = True
                try:
                    if not durable and not self.is_sqlite:
                        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
                    yield session
                finally:
                    self._local.writing = False
        finally:
            with self._writers_lock:
                self._writers -= 1

    def others_writing(self) -> bool:
        """Whether another thread of this process is in :meth:`writing` (waiting for the write
        lock, on SQLite, or for the ledger's head, on both) while the caller writes: long work in a
        write transaction (an import's chunk) commits what it has and lets it through."""
        return self._writers > 1

    def _deferred_sessions(self) -> sessionmaker[Session]:
        """Sessions whose SQLite connections commit without waiting for the disk (see
        :meth:`writing`)."""
        with self._deferred_lock:
            if self._deferred is None:
                self._deferred_engine = make_engine(
                    self.url, sqlite_synchronous="NORMAL", autocheckpoint=self._autocheckpoint
                )
                self._deferred = sessionmaker(self._deferred_engine, expire_on_commit=False)
            return self._deferred

    def sync(self) -> None:
        """Make every commit so far durable, those of ``writing(durable=False)`` included."""
        if self.is_sqlite:
            # Opening and closing a file of SQLite's in this process drops the POSIX locks SQLite
            # holds on it (its -shm file, its database file); it takes none on the log, the -wal file.
            wal = Path(f"{make_url(self.url).database}-wal")
            with suppress(FileNotFoundError):
                fd = os.open(wal, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        else:
            # A durable commit waits for the log up to its own record, which follows every other's.
            with self.sessions() as session, session.begin():
                session.execute(text("SELECT txid_current()"))

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; whatever it began is rolled back when it closes."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
        self.engine.dispose()
        if self._deferred_engine is not None:
            self._deferred_engine.dispose()


@contextmanager
def _no_lock() -> Iterator[None]:
    yield


MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Revision files start with a letter so that they are importable module names.
    config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` to ``revision`` (every head of the migrations by default)."""
    from alembic import command

    if make_url(url).get_backend_name() == "sqlite":
        make_engine(url).dispose()  # makes the folder of a new SQLite file
    command.upgrade(alembic_config(url), revision)
