"""An import's CPU work, in a worker process of its own: the file read and checked, and each
chunk's possible duplicates worked out and its households made (names sealed) before the chunk's
write transaction.

That work is the import's CPU: parsing and checking the rows, scoring alike names, opening the
candidates' names and sealing the new ones. In the service it runs in the import worker process
(:func:`worker_pool`), ``IMPORT_NICE`` below the service: it holds neither the service's
interpreter lock nor a core at the scans' priority, and the service's thread only waits for it.
:func:`call_in_worker` runs a function there and raises its error (an :class:`CorridorError`, as
the function raised it) here. :class:`WorkerMatching` matches an import's chunks there: the worker
reads the blocks it needs from the database itself (read transactions) and the keys from the key
file (refused unless it holds the service's key), keeps the import's matcher from one chunk to the
next, and sends back each chunk's households as plain values, which the service stores.
:class:`InProcessMatching` does the same in the calling thread (for callers with a sealer and no
key file).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from corridor.core.errors import CorridorError
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.ids import new_id
from corridor.server.registration import duplicates as matching
from corridor.server.registration import service
from corridor.server.registration.schemas import HouseholdIn
from corridor.server.registration.tables import Household, Person

# How much lower the worker process's CPU priority is than the service's (nice).
IMPORT_NICE = 10
# How often the worker process looks whether the service is still there (seconds).
WATCH_SECONDS = 1.0

Pending = list[tuple[str, list[int], HouseholdIn]]


@dataclass
class Ready:
    """Households matched and made, waiting for their write transaction."""

    made: list[tuple[Household, list[Person]]] = field(default_factory=list)
    keys: list[tuple[str, list[int]]] = field(default_factory=list)
    duplicates: int = 0


def match_chunk(
    db: Database,
    matcher: matching.ImportMatcher,
    sealer: Sealer,
    operation_id: str,
    pending: Pending,
    person_ids: list[list[str]],
    first: int,
    most_people: int,
) -> Ready:
    """The next households from ``first`` (at most ``most_people`` people, at least one
    household), matched and made with no write transaction open: the blocks they need are read in
    a read transaction, the rest is in memory; names are sealed here too."""
    end, size = first, 0
    while end < len(pending) and (end == first or size + len(pending[end][2].people) <= most_people):
        size += len(pending[end][2].people)
        end += 1
    with db.reading() as session:
        matcher.load(session, (p.name for _, _, body in pending[first:end] for p in body.people))
    ready = Ready()
    for index in range(first, end):
        key, rows, body = pending[index]
        household_id = new_id()
        records = [matching.Record(p.name, p.sex, p.age_band, household_id) for p in body.people]
        shown = matcher.household(records, person_ids[index])
        ready.duplicates += sum(1 for found in shown if found)
        ready.made.append(
            service.made_household(
                sealer, operation_id=operation_id, body=body, household_id=household_id, ids=person_ids[index]
            )
        )
        ready.keys.append((key, rows))
    return ready


class InProcessMatching:
    """Chunks matched in the calling thread."""

    in_process = True

    def __init__(
        self, db: Database, sealer: Sealer, operation_id: str, pending: Pending, person_ids: list[list[str]]
    ) -> None:
        self._args = (db, matching.ImportMatcher(sealer, operation_id), sealer, operation_id)
        self._pending = pending
        self._person_ids = person_ids

    def __call__(self, first: int, most_people: int) -> Ready:
        return match_chunk(*self._args, self._pending, self._person_ids, first, most_people)


# --- the worker process ----------------------------------------------------------------------

# Values of a made row: the attributes set on it (what the ORM would insert).
Values = dict[str, Any]


@dataclass
class _Import:
    db: Database
    sealer: Sealer
    matcher: matching.ImportMatcher
    operation_id: str
    pending: Pending
    person_ids: list[list[str]]


_imports: dict[str, _Import] = {}  # in the worker process: the imports being matched, by token


class WorkerFailedError(RuntimeError):
    """The import worker process failed (an error not of the CorridorError family, or the key
    file refused); the message holds its traceback."""


def _values(row: Household | Person) -> Values:
    return {k: v for k, v in vars(row).items() if not k.startswith("_")}


def _started(service: int) -> None:
    """The worker process's initializer: its (only) thread ``IMPORT_NICE`` lower, at most 19; and
    a thread that ends the process once the service ``service`` is gone. A pool's worker waits on
    a pipe the worker itself holds both ends of, so it would outlive a service killed with
    SIGKILL, for good, one more at every restart."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, min(19, os.getpriority(os.PRIO_PROCESS, 0) + IMPORT_NICE))
    threading.Thread(target=_end_with, args=(service,), name="import-worker-watch", daemon=True).start()


def _end_with(service: int) -> None:
    while os.getppid() == service:
        time.sleep(WATCH_SECONDS)
    os._exit(0)


T = TypeVar("T")


def _reported(work: Callable[[], T]) -> T:
    """``work()``, its exception (if any) made into one that crosses back to the service."""
    try:
        return work()
    except Exception:
        raise WorkerFailedError(traceback.format_exc()) from None


# A text whose blind index tells whether the worker holds the service's key.
_PROBE = "corridor import worker key probe"


def _call(work: Callable[[], T]) -> tuple[bool, Any]:
    """In the worker: ``(True, work())``, or ``(False, (kind, args, state))`` of the CorridorError
    it raised (not every one may be pickled as it is)."""
    try:
        return True, work()
    except CorridorError as exc:
        return False, (type(exc), exc.args, vars(exc))
    except Exception:
        raise WorkerFailedError(traceback.format_exc()) from None


def call_in_worker(work: Callable[[], T]) -> T:
    """``work()`` (a module's function or a partial of one, with its arguments) in the import
    worker process; a CorridorError it raises is raised here as it was raised there."""
    pool = worker_pool()
    try:
        done, value = pool.submit(_call, work).result()
    except BrokenProcessPool:
        _forget_broken(pool)  # the next import starts a new worker process
        raise
    if done:
        return cast(T, value)
    kind, args, state = value
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    raise error


def _begin(
    token: str,
    url: str,
    key_file: str,
    probe: str,
    operation_id: str,
    pending: Pending,
    person_ids: list[list[str]],
) -> None:
    def begin() -> None:
        path = Path(key_file)
        if not path.is_file():  # never made here: names sealed under a new key could not be read
            raise FileNotFoundError(f"the key file {key_file} does not exist")
        sealer = Sealer.from_file(path)
        if sealer.blind_index(_PROBE) != probe:
            raise ValueError(f"the key file {key_file} does not hold the service's key")
        db = Database(url)
        _imports[token] = _Import(
            db, sealer, matching.ImportMatcher(sealer, operation_id), operation_id, pending, person_ids
        )

    _reported(begin)


def _match(token: str, first: int, most_people: int) -> tuple[list[tuple[Values, list[Values]]], int]:
    def match() -> tuple[list[tuple[Values, list[Values]]], int]:
        state = _imports[token]
        ready = match_chunk(
            state.db,
            state.matcher,
            state.sealer,
            state.operation_id,
            state.pending,
            state.person_ids,
            first,
            most_people,
        )
        made = [(_values(household), [_values(p) for p in people]) for household, people in ready.made]
        return made, ready.duplicates

    return _reported(match)


def _finish(token: str) -> None:
    state = _imports.pop(token, None)
    if state is not None:
        state.db.dispose()


def facts() -> tuple[int, int]:
    """The worker process's id and nice value (for the tests)."""
    return os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def worker_pool() -> ProcessPoolExecutor:
    """The service's one import worker process (started when first needed; again if it died).
    Imports at once take turns in it, a chunk each."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_started,
                initargs=(os.getpid(),),
            )
        return _pool


def _forget_broken(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


class WorkerMatching:
    """Chunks matched in the import worker process (:func:`worker_pool`), as a context manager:
    the import's households are sent once, each chunk asked for by its first household, and the
    worker's state dropped at the end. If the worker process dies, the import stops there (the
    chunks stored before stay, as after a conflict) and the next import starts a new one."""

    in_process = False

    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        key_file: Path,
        operation_id: str,
        pending: Pending,
        person_ids: list[list[str]],
    ) -> None:
        self._token = uuid.uuid4().hex
        probe = sealer.blind_index(_PROBE)  # the worker checks that its key file holds this key
        self._args = (self._token, db.url, str(key_file), probe, operation_id, pending, person_ids)
        self._pending = pending
        self._pool = worker_pool()

    def _wait(self, future: Future[T]) -> T:
        try:
            return future.result()
        except BrokenProcessPool:
            _forget_broken(self._pool)  # the next import starts a new worker process
            raise

    def __enter__(self) -> WorkerMatching:
        self._wait(self._pool.submit(_begin, *self._args))
        return self

    def __exit__(self, *_: object) -> None:
        with contextlib.suppress(Exception):
            self._pool.submit(_finish, self._token)

    def __call__(self, first: int, most_people: int) -> Ready:
        made, duplicates = self._wait(self._pool.submit(_match, self._token, first, most_people))
        ready = Ready(duplicates=duplicates)
        for offset, (household, people) in enumerate(made):
            ready.made.append((Household(**household), [Person(**p) for p in people]))
            key, rows, _ = self._pending[first + offset]
            ready.keys.append((key, rows))
        return ready


@contextlib.contextmanager
def matching_for(
    db: Database,
    sealer: Sealer,
    key_file: Path | None,
    operation_id: str,
    pending: Pending,
    person_ids: list[list[str]],
) -> Iterator[InProcessMatching | WorkerMatching]:
    """The worker process's matching when ``key_file`` is given, else this thread's."""
    if key_file is None:
        yield InProcessMatching(db, sealer, operation_id, pending, person_ids)
        return
    with WorkerMatching(db, sealer, key_file, operation_id, pending, person_ids) as worker:
        yield worker
