"""SQLite's write-ahead log copied back into the database file by a thread of its own.

By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: that commit
copies megabytes into the database file and waits for the disk, and in the service it holds the
one write lock meanwhile, so every scan behind it waits too (an import of 20,000 people crosses the
mark every second or two). The service turns that off (``PRAGMA wal_autocheckpoint=0`` on its
connections) and runs :class:`WalCheckpoints`: every ``every`` seconds a passive checkpoint on a
connection of its own, outside the write lock. (The wal-index that says how much of the log is
not yet copied is not read here: a file of SQLite's opened and closed in its process releases
SQLite's own locks on it.) A
passive checkpoint never waits for a reader or the writer; it copies what no reader still needs
(nothing, and without touching the disk, when all is copied), and the log starts again from its
beginning once all of it has been copied.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("corridor.server.wal")

# Seconds between two checkpoints: a checkpoint waits for the disk twice (the log, then the
# database file), which scans' commits feel when it comes every half second; the log grows by a
# few megabytes in this time beside an import.
EVERY = 5.0


class WalCheckpoints:
    """A daemon thread checkpointing the SQLite file ``path`` (see the module)."""

    def __init__(self, path: Path, *, every: float = EVERY) -> None:
        self.path = path
        self.every = every
        self.done = 0  # checkpoints run (for the tests)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.every):
                if not Path(f"{self.path}-wal").exists():
                    continue
                if connection is None:
                    connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                try:
                    # (busy, frames in the log, frames copied); nothing is written when all are.
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.done += 1
                except sqlite3.Error:
                    log.exception("the write-ahead log of %s could not be checkpointed", self.path)
        finally:
            if connection is not None:
                connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
