"""Backups of the service's database and their restore, each proved by verifying the ledger.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot while
the service keeps writing; the copy is made mode 0600. PostgreSQL: ``pg_dump`` writes a plain SQL
file, ``psql`` loads it into an empty database. Neither copies the key files (the encryption key
and the ledger's signing key): keep those apart, with backups of their own.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from corridor.core.errors import CorridorError, InputError


class BackupError(CorridorError):
    """A backup or restore tool failed."""


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise InputError("an in-memory SQLite database cannot be backed up", where=url)
    return Path(parsed.database)


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq (``pg_dump``, ``psql``) reads it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _private_file(path: Path) -> None:
    """Make ``path`` as an empty file only its owner may read (refusing to overwrite one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError as exc:
        raise InputError("the backup file exists already", where=str(path), hint="name a new file") from exc


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found", hint=f"install the PostgreSQL client tools ({name})")
    return found


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def backup(db_url: str, dest: Path) -> Path:
    """Copy the database at ``db_url`` to the new file ``dest`` while the service runs."""
    path = _sqlite_path(db_url)
    _private_file(dest)
    if path is not None:
        if not path.exists():
            dest.unlink()
            raise InputError("the SQLite database file does not exist", where=str(path))
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(dest)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return dest
    _run(
        [_tool("pg_dump"), "--no-owner", "--no-privileges", "--file", str(dest), libpq_url(db_url)], "pg_dump"
    )
    return dest


def restore(source: Path, db_url: str) -> None:
    """Load the backup ``source`` into ``db_url``: a SQLite file that must not exist yet, or an
    empty PostgreSQL database."""
    if not source.exists():
        raise InputError("the backup file does not exist", where=str(source))
    path = _sqlite_path(db_url)
    if path is not None:
        if path.exists():
            raise InputError(
                "the SQLite database file exists already", where=str(path), hint="restore into a new file"
            )
        _private_file(path)
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(path)
        try:
            with target:
                backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
        return
    _run(
        [_tool("psql"), "--quiet", "-v", "ON_ERROR_STOP=1", "--single-transaction", "--file", str(source),
         libpq_url(db_url)],
        "psql",
    )  # fmt: skip
