"""What every write needs to know of its operation, kept for a moment: its state and start.

Writes to a closed operation are refused (409), and a scan dated before the operation's start is
refused; both are checked for every scan, so the facts are cached for ``seconds`` (a change made
through this process is seen at once: the routes that change an operation forget it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from corridor.core.errors import ConflictError
from corridor.server.db import Database
from corridor.server.operations.tables import Operation


@dataclass(frozen=True)
class OperationState:
    state: str
    start: datetime | None  # its first ceasefire window's start; None without windows


def start_of(windows: list[dict[str, str]]) -> datetime | None:
    starts = [datetime.fromisoformat(w["start"]) for w in windows if w.get("start")]
    return min(starts, default=None)


class OperationStates:
    """The state and start of operations, read once per ``seconds``."""

    def __init__(self, db: Database, *, seconds: float) -> None:
        self.db = db
        self.seconds = seconds
        self._known: dict[str, tuple[OperationState, float]] = {}

    def cached(self, operation_id: str) -> OperationState | None:
        """The operation's state if known and fresh; else None (then :meth:`read`)."""
        found = self._known.get(operation_id)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def read(self, operation_id: str) -> OperationState | None:
        """The operation's state from the database (None: no such operation); blocks."""
        with self.db.reading() as session:
            row = session.execute(
                select(Operation.state, Operation.windows).where(Operation.id == operation_id)
            ).first()
        if row is None:
            return None
        found = OperationState(row.state, start_of(row.windows))
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[operation_id] = (found, time.monotonic() + self.seconds)
        return found

    def forget(self, operation_id: str) -> None:
        self._known.pop(operation_id, None)


def refuse_if_closed(operation_id: str, found: OperationState | None) -> None:
    if found is not None and found.state == "closed":
        raise ConflictError(
            f"operation {operation_id} is closed: it takes no more scans, registrations, "
            "incidents or imports",
            where="operation_id",
            hint="closed operations are read-only; record new work in an open operation",
        )
