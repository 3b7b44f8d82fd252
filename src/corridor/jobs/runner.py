"""Jobs on a Dask cluster: submit by kind with a JSON-able payload, read state and progress,
cancel, wait for the result.

    jobs = Jobs.connect()                      # an embedded cluster: 2 worker processes
    jobs = Jobs.connect("tcp://10.0.0.5:8786")  # or a running `dask scheduler`
    key = jobs.submit("plan", {"scenario": "/srv/scenarios/aleppo/scenario.toml"})
    jobs.state(key)   # JobState(state="running", progress=0.4, message="...", ...)
    jobs.cancel(key)  # or jobs.result(key, timeout=600)

A worker that dies while running a job: the scheduler runs the job again on another worker, and
after ``distributed.scheduler.allowed-failures`` deaths (3 by default) the job fails with
"a worker died running it". A job is never left waiting for ever for want of a worker: the
embedded cluster's lost workers are replaced (and a closed embedded cluster by a new one: the
jobs it held fail) whenever a job is started or read, and a job whose cluster has had no worker
for ``NO_WORKER_SECONDS`` fails, saying so.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from distributed import Client, Event, Future, LocalCluster, Variable
from distributed.scheduler import KilledWorker

from corridor.core.errors import CorridorError, InputError
from corridor.jobs import worker
from corridor.jobs.embedded import embedded_cluster, mend, running, worker_count
from corridor.jobs.registry import task_name

State = Literal["queued", "running", "done", "failed", "cancelled"]
FINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class JobError(CorridorError):
    """A job that failed (its error), or a cluster that cannot be reached."""


@dataclass(frozen=True)
class JobState:
    """Where a job stands. ``progress`` is 0..1; ``result`` is set once ``state`` is ``done``,
    ``error`` once it is ``failed``."""

    key: str
    state: State
    progress: float = 0.0
    message: str = ""
    result: Any = None
    error: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL


# A job that is not done fails once its cluster has had no worker for this long (seconds): an
# embedded cluster that lost its workers and could not start others, or a scheduler that no worker
# has joined (or that cannot be reached). Nothing runs on a cluster without workers.
NO_WORKER_SECONDS = 120.0
# A scheduler's workers (not the embedded cluster's, which are read in this process) are counted
# at most this often (seconds) while jobs are read.
LOOK_SECONDS = 2.0


class Jobs:
    """A client of one Dask cluster that runs jobs by kind (see :mod:`corridor.jobs.registry`).

    ``cluster`` and ``workers``: the process's embedded cluster this client joined and its size,
    kept whole while jobs are started and read (see :mod:`corridor.jobs.embedded`)."""

    def __init__(self, client: Client, *, cluster: LocalCluster | None = None, workers: int = 0) -> None:
        self.client = client
        self.no_worker_seconds = NO_WORKER_SECONDS
        self._cluster = cluster
        self._workers = workers
        self._futures: dict[str, Future[Any]] = {}
        self._cancelled: set[str] = set()
        self._failed: dict[str, str] = {}
        self._guard = threading.Lock()
        self._watching = threading.Lock()
        self._counted_at = float("-inf")
        self._counted = 0
        self._workerless_since: float | None = None

    @classmethod
    def connect(cls, scheduler: str | None = None, *, workers: int = 2, timeout: float = 5.0) -> Jobs:
        """Join the scheduler at ``scheduler`` (``tcp://HOST:8786``), or, without one, the
        process's embedded cluster of ``workers`` worker processes.

        Raises :class:`JobError` naming the address when the scheduler cannot be reached.
        """
        if scheduler is None:
            if workers < 1:
                raise InputError(f"{workers} workers", where="--workers", hint="give 1 or more")
            cluster = embedded_cluster(workers)
            client = Client(cluster, set_as_default=False)
            with contextlib.suppress(Exception):  # lowered now, not at their first job (see worker.NICE)
                client.run(worker.lower)
            return cls(client, cluster=cluster, workers=workers)
        try:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise JobError(
                f"cannot reach the Dask scheduler at {scheduler} ({error})",
                where="--scheduler",
                hint="start `dask scheduler` there (and `dask worker ADDRESS`), or leave out "
                "--scheduler to run jobs on an embedded cluster",
            ) from None
        return cls(client)

    # -- the cluster's workers

    def _watch(self) -> float:
        """Keep the embedded cluster whole (a new one for a closed one, new workers for lost
        ones); for how many seconds the cluster has had no worker (0 while it has one)."""
        now = time.monotonic()
        with self._watching:
            cluster = self._cluster
            if cluster is not None:
                if not running(cluster):
                    cluster = self._rejoin()
                mend(cluster, self._workers)
                self._counted = worker_count(cluster)
            elif now - self._counted_at >= LOOK_SECONDS:
                self._counted_at = now
                try:
                    scheduler = self.client.scheduler
                    if scheduler is None:
                        raise OSError("the client is not connected")
                    info = self.client.sync(scheduler.identity, n_workers=0, callback_timeout=LOOK_SECONDS)
                    self._counted = int(info.get("n_workers", 0))
                except Exception:  # the scheduler cannot be reached: no worker of it runs anything
                    self._counted = 0
            if self._counted > 0:
                self._workerless_since = None
            elif self._workerless_since is None:
                self._workerless_since = now
            return 0.0 if self._workerless_since is None else now - self._workerless_since

    def _rejoin(self) -> LocalCluster:
        """The embedded cluster was closed: join a new one. The jobs the closed one held (and
        their results) are gone with it: they fail."""
        cluster = embedded_cluster(self._workers)
        client = Client(cluster, set_as_default=False)
        with self._guard:
            old, self.client, self._cluster = self.client, client, cluster
            for key in self._futures:
                if key not in self._cancelled:
                    self._failed.setdefault(
                        key, "the cluster running it was closed before it ended; start it again"
                    )
        with contextlib.suppress(Exception):
            old.close(timeout=5)
        return cluster

    def _known(self, key: str) -> None:
        """Raise :class:`InputError` unless this client still holds the job ``key`` (another
        thread may have settled and forgotten it since it was looked up)."""
        if not self.holds(key):
            raise InputError(f"no job {key} here (any more)", where="key", hint="it was forgotten")

    def _fail(self, key: str, error: str) -> JobState:
        """Mark the job ``key`` failed with ``error`` and stop it on the cluster."""
        with self._guard:
            future = self._futures.get(key)
            if future is not None:
                error = self._failed.setdefault(key, error)
        if future is not None:
            with contextlib.suppress(Exception):
                future.cancel()
        return JobState(key, "failed", error=error)

    @property
    def address(self) -> str:
        return str(self.client.scheduler_info()["address"])

    def submit(self, kind: str, payload: dict[str, Any], *, key: str | None = None) -> str:
        """Start a job of ``kind`` on ``payload`` (JSON-able); its key (``key``, else a new one)."""
        task = task_name(kind)
        key = key or f"corridor-job-{uuid.uuid4().hex}"
        self._watch()
        # Queued until a worker starts it and publishes its first progress.
        Variable(worker.progress_name(key), client=self.client).set([-1.0, "waiting for a worker"])
        future = self.client.submit(worker.run, task, payload, key, key=key, pure=False)
        with self._guard:
            self._futures[key] = future
        return key

    def call(self, task: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run the function named ``task`` on the cluster with Python arguments and wait for its
        answer (for the service's own calls whose arguments are objects, not JSON); the task's
        own errors are raised here as they were raised there."""
        key = f"corridor-call-{uuid.uuid4().hex}"
        self._watch()
        future = self.client.submit(worker.call, task, args, kwargs, key=key, pure=False)
        try:
            return future.result(timeout=timeout)
        except KilledWorker:
            raise JobError(
                "the workers running it died too often",
                where=task,
                hint="see the workers' logs (memory?) and try again",
            ) from None
        finally:
            future.release()

    def holds(self, key: str) -> bool:
        """Whether this client submitted the job ``key`` and has not forgotten it."""
        with self._guard:
            return key in self._futures

    def state(self, key: str) -> JobState:
        """Where the job ``key`` stands (this client's jobs only). A job that has not ended fails
        here once its cluster has had no worker for ``no_worker_seconds``, or once the embedded
        cluster that held it was closed."""
        with self._guard:
            future = self._futures.get(key)
            cancelled = key in self._cancelled
            failed = self._failed.get(key)
        if cancelled:
            return JobState(key, "cancelled", message="cancelled")
        if future is None:
            raise InputError(
                f"no job {key} here", where="key", hint="a job is read by the client that made it"
            )
        workerless = 0.0
        if failed is None:
            workerless = self._watch()
            with self._guard:
                failed = self._failed.get(key)
        if failed is not None:
            return JobState(key, "failed", error=failed)
        status = future.status
        if status == "finished":
            try:
                return JobState(key, "done", 1.0, "done", result=future.result())
            except Exception as error:  # released meanwhile (forgotten), or gone with its cluster
                self._known(key)
                return self._fail(key, f"its result could not be read: {describe(error)}")
        if status == "error":
            return JobState(key, "failed", error=describe(future.exception()))
        if status == "cancelled":  # forgotten meanwhile, or dropped by the scheduler
            self._known(key)
            return self._fail(key, "the cluster dropped it (did its scheduler stop?); start it again")
        if workerless >= self.no_worker_seconds:
            return self._fail(
                key,
                f"no worker could run it: the cluster has had no worker for {workerless:.0f} s "
                "(see the service's log); start it again",
            )
        seen = self.progress(key)
        if seen is None or seen[0] < 0:
            return JobState(key, "queued", 0.0, "waiting for a worker")
        return JobState(key, "running", seen[0], seen[1])

    def progress(self, key: str) -> tuple[float, str] | None:
        """The last progress the job published (fraction -1 before it starts; None when the
        cluster holds none for it)."""
        try:
            value = Variable(worker.progress_name(key), client=self.client).get(timeout=0.05)
        except TimeoutError:
            return None
        fraction, message = value
        return float(fraction), str(message)

    def result(self, key: str, *, timeout: float | None = None) -> Any:
        """Wait for the job's result; raises :class:`JobError` when it failed or was cancelled."""
        with self._guard:
            future = self._futures.get(key)
            failed = self._failed.get(key)
        if future is None or key in self._cancelled:
            raise JobError(f"job {key} was cancelled or is not known here", where="key")
        if failed is not None:
            raise JobError(failed, where=key)
        try:
            return future.result(timeout=timeout)
        except (TimeoutError, CorridorError):
            raise
        except Exception as error:
            raise JobError(describe(error), where=key) from None

    def cancel(self, key: str) -> None:
        """Cancel the job: a queued job never starts; a running one stops at its next report."""
        with self._guard:
            future = self._futures.get(key)
            self._cancelled.add(key)
        Event(worker.cancel_name(key), client=self.client).set()
        if future is not None:
            future.cancel()

    def forget(self, key: str) -> None:
        """Release what the cluster holds for a finished job (its result, progress, cancel flag)."""
        with self._guard:
            future = self._futures.pop(key, None)
            self._cancelled.discard(key)
            self._failed.pop(key, None)
        if future is not None:
            future.release()
        with contextlib.suppress(Exception):
            Variable(worker.progress_name(key), client=self.client).delete()
        with contextlib.suppress(Exception):
            Event(worker.cancel_name(key), client=self.client).clear()

    def on_done(self, key: str, callback: Any) -> None:
        """Call ``callback(key)`` (on the client's thread: keep it short) when the job ends."""
        with self._guard:
            future = self._futures.get(key)
        if future is not None:
            future.add_done_callback(lambda _future: callback(key))

    def workers(self) -> dict[str, int]:
        """The cluster's workers: address -> process id."""
        found: dict[str, int] = self.client.run(os.getpid)
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()


def describe(error: BaseException | None) -> str:
    """A failed job's error, for people."""
    if error is None:
        return "failed"
    if isinstance(error, KilledWorker):
        return "a worker died running it, every time it was tried (see the workers' logs)"
    if isinstance(error, CorridorError):
        return error.render()
    return f"{type(error).__name__}: {error}"
