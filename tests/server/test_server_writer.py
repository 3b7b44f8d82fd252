"""The single ledger writer: answers only after commit; one failing request never fails others."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.server.db import Database, upgrade
from corridor.server.ledger.service import AppendResult, Outcome
from corridor.server.ledger.writer import Answer, LedgerWriter


def test_a_failing_request_is_isolated_from_its_group(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    upgrade(url)
    db = Database(url)
    entered, gate = threading.Event(), threading.Event()
    groups: list[int] = []

    def work(session: Session, requests: Sequence[str]) -> list[Answer]:
        entered.set()
        gate.wait(10)  # hold the first group so that the others queue up behind it
        groups.append(len(requests))
        answers: list[Answer] = []
        for request in requests:
            if request == "boom":
                raise ValueError("a bug in one request")
            if request == "conflict":
                answers.append(ConflictError("expected", where="event_id x"))
                continue
            session.execute(
                text(
                    "INSERT INTO operations (id, name, scenario_name, state, route, windows,"
                    " linked_operations, created_at) VALUES (:i, :i, 's', 'planning', '[]', '[]',"
                    " '[]', '2016-12-15 10:00:00')"
                ),
                {"i": request},
            )
            answers.append([AppendResult(request, Outcome.STORED, 1)])
        return answers

    writer: LedgerWriter[str] = LedgerWriter(db, work)
    first = writer.submit("first", size=1)
    assert entered.wait(10)
    futures = {name: writer.submit(name, size=1) for name in ("a", "boom", "conflict", "b")}
    gate.set()
    assert first.result(10)[0].outcome is Outcome.STORED
    assert futures["a"].result(10)[0].event_id == "a" and futures["b"].result(10)[0].event_id == "b"
    with pytest.raises(RuntimeError, match="nothing of this request was stored"):
        futures["boom"].result(10)
    with pytest.raises(ConflictError):
        futures["conflict"].result(10)
    writer.stop()
    with db.reading() as session:
        stored = set(session.execute(text("SELECT id FROM operations")).scalars())
    db.dispose()
    assert stored == {"first", "a", "b"}
    # the four queued requests went in one group; it failed, so each went again on its own
    assert groups == [1, 4, 1, 1, 1, 1]
