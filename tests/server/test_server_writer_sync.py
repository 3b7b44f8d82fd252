"""The ledger writer commits without waiting for the disk under the write lock, then answers only
once the disk has confirmed the commit (on a thread of its own): a request is acknowledged only
when durable, and the write lock is free meanwhile for the next writer."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from corridor.server.db import Database
from corridor.server.ledger.service import AppendResult, Outcome
from corridor.server.ledger.writer import Answer, LedgerWriter


class _HeldDisk(Database):
    """A database whose :meth:`sync` (the disk's confirmation) waits for ``release`` and fails
    while ``failing`` is set; every sync is counted."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.failing = False
        self.syncs = 0

    def sync(self) -> None:
        self.entered.set()
        assert self.release.wait(10)
        self.syncs += 1
        if self.failing:
            raise OSError("the disk refused the write")
        super().sync()


def _insert(session: Session, requests: Sequence[str]) -> list[Answer]:
    answers: list[Answer] = []
    for request in requests:
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


def _stored(db: Database) -> set[str]:
    with db.reading() as session:
        return set(session.execute(text("SELECT id FROM operations")).scalars())


def test_answered_only_once_the_disk_confirms_and_the_lock_is_free_meanwhile(db_url: str) -> None:
    db = _HeldDisk(db_url)
    writer: LedgerWriter[str] = LedgerWriter(db, _insert)
    try:
        first = writer.submit("first", size=1)
        assert db.entered.wait(10)  # committed, waiting for the disk
        assert not first.done()
        assert _stored(db) == {"first"}
        # the write lock is not held while the disk confirms: another writer goes through now
        with db.writing() as session:
            _insert(session, ["import"])
        # and so does the next group, which waits for its own confirmation (or shares it)
        second = writer.submit("second", size=1)
        assert not first.done() and not second.done()
        db.release.set()
        assert first.result(10)[0].outcome is Outcome.STORED
        assert second.result(10)[0].event_id == "second"
    finally:
        db.release.set()
        writer.stop()
    assert _stored(db) == {"first", "import", "second"}
    db.dispose()


def test_a_commit_the_disk_does_not_confirm_is_answered_as_failed_and_the_writer_goes_on(
    db_url: str,
) -> None:
    db = _HeldDisk(db_url)
    db.failing = True
    writer: LedgerWriter[str] = LedgerWriter(db, _insert)
    try:
        lost = writer.submit("unconfirmed", size=1)
        db.release.set()
        with pytest.raises(RuntimeError, match="the disk did not confirm them; send them again"):
            lost.result(10)
        db.failing = False
        later = writer.submit("later", size=1)
        assert later.result(10)[0].outcome is Outcome.STORED
    finally:
        writer.stop()
    # the unconfirmed request's rows are there (a repeat is then answered as one), the writer works on
    assert _stored(db) == {"unconfirmed", "later"}
    assert db.syncs >= 2
    db.dispose()


def test_stop_answers_every_request_queued(db_url: str) -> None:
    db = _HeldDisk(db_url)
    db.release.set()
    writer: LedgerWriter[str] = LedgerWriter(db, _insert)
    futures = [writer.submit(f"r{i}", size=1) for i in range(50)]
    writer.stop()
    assert all(f.done() and f.result()[0].outcome is Outcome.STORED for f in futures)
    assert _stored(db) == {f"r{i}" for i in range(50)}
    db.dispose()
