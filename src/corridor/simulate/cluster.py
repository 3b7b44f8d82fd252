"""Where batches of runs are computed: in this process, or as tasks on a Dask cluster.

A Dask runner sends the timetable to every worker once (and keeps it there for the next job on the
same timetable), and the batches as a few tasks per worker thread, each of several batches taken
round the job (so that the heavy batches, which count every run's curve, are spread over the tasks);
the client of a local cluster fetches the results from the workers directly. On a small machine
the client and the scheduler share the cores with the workers: every task and every byte sent back
costs them CPU that the workers lose. A task lost with its worker is computed again elsewhere (the
scheduler reschedules it, and ``retries`` covers a failing one). Whatever runs the batches, the
result is checked whole: every batch of every job, with its count of runs, or a
:class:`MissingRunsError` error; partial results are never returned as if whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from corridor.core.errors import CorridorError
from corridor.simulate.dask_settings import LEAN
from corridor.simulate.runs import Batch, BatchSpec, run_batch, run_batches
from corridor.simulate.timetable import Timetable

Progress = Callable[[int, int], None]  # runs done, runs in all
LOCAL_CLUSTER_RUNS = 20_000  # from this many runs, a local cluster of worker processes by default
CONNECT_TIMEOUT = "10s"
TASKS_PER_THREAD = 4  # tasks of a job per worker thread: few messages, and a short tail if one is slow


class ClusterError(CorridorError):
    """A Dask scheduler that cannot be reached, or a task that failed on every try."""


class MissingRunsError(CorridorError):
    """Fewer runs came back than were asked for."""


class Runner(Protocol):
    """Computes batches of runs."""

    name: str

    def run(self, tt: Timetable, specs: Sequence[BatchSpec], progress: Progress) -> list[Batch]: ...


def check_whole(specs: Sequence[BatchSpec], batches: Sequence[Batch]) -> list[Batch]:
    """The batches in the order of ``specs``, or :class:`MissingRunsError` if any is missing or short."""
    got = {(b.job, b.batch): b for b in batches}
    asked = sum(s.runs for s in specs)
    missing = [s for s in specs if (s.job, s.batch) not in got or got[(s.job, s.batch)].runs != s.runs]
    if missing:
        came = asked - sum(s.runs for s in missing)
        raise MissingRunsError(
            f"only {came:,} of {asked:,} runs came back ({len(missing)} of {len(specs)} batches missing)",
            hint="no result is given from part of the runs; run again",
        )
    return [got[(s.job, s.batch)] for s in specs]


class InProcess:
    """Every batch in this process, one after another."""

    name = "in-process"

    def run(self, tt: Timetable, specs: Sequence[BatchSpec], progress: Progress) -> list[Batch]:
        total, done, out = sum(s.runs for s in specs), 0, []
        for spec in specs:
            out.append(run_batch(tt, spec))
            done += spec.runs
            progress(done, total)
        return check_whole(specs, out)


def tasks_for(specs: Sequence[BatchSpec], threads: int) -> list[tuple[BatchSpec, ...]]:
    """The batches of a job cut into at most ``TASKS_PER_THREAD`` tasks per worker thread, batch ``k``
    in task ``k mod tasks``: every task gets its share of the job's full batches and of its
    sensitivities' light ones."""
    n = max(1, min(len(specs), TASKS_PER_THREAD * max(1, threads)))
    return [tuple(specs[k::n]) for k in range(n)] if specs else []


class DaskRunner:
    """Batches as tasks on a Dask cluster (``client``: a ``distributed.Client``)."""

    def __init__(
        self, client: Any, name: str = "dask", retries: int = 2, *, direct: bool | None = None
    ) -> None:
        self.client = client
        self.name = name
        self.retries = retries
        # Fetch results from the workers themselves (a local cluster: the scheduler, in this process,
        # then neither receives nor forwards them); None: as the client is set (a client outside a
        # remote cluster may not reach its workers, and goes through the scheduler).
        self.direct = direct
        self._kept: tuple[Timetable, Any] | None = None  # the timetable on the workers, and its future

    def _table(self, tt: Timetable) -> Any:
        """``tt`` on every worker: sent once, and kept there for the next job on it."""
        if self._kept is not None and self._kept[0] is tt:
            return self._kept[1]
        self.forget()
        [table] = self.client.scatter([tt], broadcast=True, hash=False)
        self._kept = (tt, table)
        return table

    def forget(self) -> None:
        """Release the timetable kept on the workers."""
        if self._kept is not None:
            self.client.cancel([self._kept[1]])
            self._kept = None

    def run(self, tt: Timetable, specs: Sequence[BatchSpec], progress: Progress) -> list[Batch]:
        from distributed import as_completed

        client = self.client
        total, done, out = sum(s.runs for s in specs), 0, []
        table = self._table(tt)
        tasks = tasks_for(specs, sum(client.nthreads().values()))
        futures = client.map(run_batches, [table] * len(tasks), tasks, pure=False, retries=self.retries)
        try:
            for future in as_completed(futures, loop=client.loop):
                try:
                    batches = client.gather(future, direct=self.direct)
                except Exception as exc:  # a task that failed on every try, or whose workers all died
                    self.forget()
                    raise ClusterError(
                        f"a batch of runs failed on the cluster: {type(exc).__name__}: {exc}",
                        hint="see the workers' logs; no result is given from part of the runs",
                    ) from None
                out.extend(batches)
                done += sum(b.runs for b in batches)
                progress(done, total)
        finally:
            client.cancel(futures)
        return check_whole(specs, out)


def _connect(address: str) -> Any:
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address}: {exc}",
            where="--scheduler",
            hint="start it (`dask scheduler`) or give its address as tcp://HOST:8786",
        ) from None


@contextmanager
def open_runner(scheduler: str | None, workers: int | None, runs: int) -> Iterator[Runner]:
    """A runner: the scheduler at ``scheduler``; else a local cluster of ``workers`` processes when
    ``workers`` is given or the runs are many; else this process."""
    if scheduler:
        client = _connect(scheduler)
        remote = DaskRunner(client, f"dask scheduler {scheduler}")
        try:
            yield remote
        finally:
            remote.forget()
            client.close()
        return
    if workers is None and runs < LOCAL_CLUSTER_RUNS:
        yield InProcess()
        return
    import dask
    from distributed import Client, LocalCluster

    n = workers or 2
    with (
        dask.config.set(LEAN),
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield DaskRunner(client, f"local cluster of {n} worker process(es)", direct=True)


__all__ = [
    "LEAN",
    "LOCAL_CLUSTER_RUNS",
    "TASKS_PER_THREAD",
    "ClusterError",
    "DaskRunner",
    "InProcess",
    "MissingRunsError",
    "Progress",
    "Runner",
    "check_whole",
    "open_runner",
    "tasks_for",
]
