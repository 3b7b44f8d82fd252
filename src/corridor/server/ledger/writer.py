"""The ledger's single writer: requests hand their events over and wait; one thread takes all the
requests waiting, appends their events in one transaction with one commit, and only then answers
each request (group commit). An acknowledged event is therefore on disk.

The commit does not wait for the disk while it holds the write lock (SQLite's ``synchronous=NORMAL``
connections, PostgreSQL's ``synchronous_commit`` off): a second thread, the syncer, makes the log
durable (:meth:`Database.sync`) for every group committed since its last sync, and only then
answers their requests. Meanwhile the lock is free for the next group or an import's chunk, which
otherwise waited for each group's disk write. The log keeps the order of commits, so a crash of the
machine loses only groups not yet answered. Where commits never wait for the disk (SQLite at
``synchronous=NORMAL``, by the operator's choice) there is no syncer.

Under load this turns many small transactions into few large ones: fewer commits (and fsyncs),
one head lock and one look-up of stored ids per group. A group that fails is retried request by
request, so one bad request never fails the others.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError
from corridor.server.db import Database
from corridor.server.ledger.service import AppendResult

log = logging.getLogger("corridor.server.ledger")

Request = TypeVar("Request")
# The answer to one request: its results, or the expected error that stops it (returned, not
# raised, so that it does not undo the other requests of the group).
Answer = list[AppendResult] | CorridorError
# Appends the events of several requests in the open transaction; one answer per request.
GroupWork = Callable[[Session, Sequence[Request]], list[Answer]]


@dataclass
class _Job(Generic[Request]):
    request: Request
    size: int
    future: Future[list[AppendResult]] = field(default_factory=Future)


class LedgerWriter(Generic[Request]):
    """Runs ``work`` on one thread for groups of requests, one transaction per group."""

    def __init__(self, db: Database, work: GroupWork[Request], *, max_group: int = 5000) -> None:
        self.db = db
        self.work = work
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Job[Request] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Commits wait for the disk on the syncer's thread, outside the write lock (see the module).
        self._late = db.waits_for_disk
        self._syncs: queue.SimpleQueue[tuple[list[_Job[Request]], list[Answer]] | None] = queue.SimpleQueue()
        self._syncer: threading.Thread | None = None

    def submit(self, request: Request, *, size: int) -> Future[list[AppendResult]]:
        """Queue a request of ``size`` events; its future resolves once its group has committed."""
        self._ensure_started()
        job: _Job[Request] = _Job(request, size)
        self._queue.put(job)
        return job.future

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._syncer = threading.Thread(target=self._sync_run, name="ledger-syncer", daemon=True)
                self._syncer.start()
                self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Finish what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=60)
            self._thread = None
        if self._syncer is not None:
            self._syncs.put(None)
            self._syncer.join(timeout=60)
            self._syncer = None

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            group = [job]
            size = job.size
            stopping = False
            while size < self.max_group:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
                size += more.size
            self._write(group)
            if stopping:
                return

    def _write(self, group: list[_Job[Request]]) -> None:
        late = self._late
        try:
            with self.db.writing(durable=not late) as session:
                answers = self.work(session, [job.request for job in group])
        except Exception as exc:
            if len(group) > 1:
                for job in group:  # find the request that fails, and answer the others
                    self._write([job])
                return
            log.exception("ledger write failed")
            group[0].future.set_exception(exc if isinstance(exc, CorridorError) else _failed())
            return
        if late:
            self._syncs.put((group, answers))
            return
        _answer(group, answers)

    def _sync_run(self) -> None:
        while True:
            item = self._syncs.get()
            if item is None:
                return
            done = [item]
            stopping = False
            while True:
                try:
                    more = self._syncs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                done.append(more)
            try:
                self.db.sync()
            except Exception:
                log.exception("the ledger's last commits could not be made durable")
                for group, _ in done:
                    for job in group:
                        job.future.set_exception(_not_durable())
            else:
                for group, answers in done:
                    _answer(group, answers)
            if stopping:
                return


def _answer(group: list[_Job[Request]], answers: list[Answer]) -> None:
    for job, answer in zip(group, answers, strict=True):
        if isinstance(answer, CorridorError):
            job.future.set_exception(answer)
        else:
            job.future.set_result(answer)


def _failed() -> Exception:
    return RuntimeError("the ledger write failed; nothing of this request was stored")


def _not_durable() -> Exception:
    return RuntimeError(
        "the events were written but the disk did not confirm them; send them again (a stored event "
        "is answered as a harmless repeat)"
    )
