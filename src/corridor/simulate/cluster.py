"""Where batches of runs are computed: in this process, or as tasks on a Dask cluster.

A Dask runner sends the timetable to every worker once and one task per batch; a task lost with its
worker is computed again elsewhere (the scheduler reschedules it, and ``retries`` covers a failing
one). Whatever runs the batches, the result is checked whole: every batch of every job, with its count
of runs, or a :class:`MissingRunsError` error; partial results are never returned as if whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from corridor.core.errors import CorridorError
from corridor.simulate.runs import Batch, BatchSpec, run_batch
from corridor.simulate.timetable import Timetable

Progress = Callable[[int, int], None]  # runs done, runs in all
LOCAL_CLUSTER_RUNS = 20_000  # from this many runs, a local cluster of worker processes by default
CONNECT_TIMEOUT = "10s"


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


class DaskRunner:
    """Batches as tasks on a Dask cluster (``client``: a ``distributed.Client``)."""

    def __init__(self, client: Any, name: str = "dask", retries: int = 2) -> None:
        self.client = client
        self.name = name
        self.retries = retries

    def run(self, tt: Timetable, specs: Sequence[BatchSpec], progress: Progress) -> list[Batch]:
        from distributed import as_completed

        client = self.client
        total, done, out = sum(s.runs for s in specs), 0, []
        [table] = client.scatter([tt], broadcast=True, hash=False)
        futures = client.map(run_batch, [table] * len(specs), list(specs), pure=False, retries=self.retries)
        try:
            for future in as_completed(futures, loop=client.loop):
                try:
                    batch = future.result()
                except Exception as exc:  # a task that failed on every try, or whose workers all died
                    raise ClusterError(
                        f"a batch of runs failed on the cluster: {type(exc).__name__}: {exc}",
                        hint="see the workers' logs; no result is given from part of the runs",
                    ) from None
                out.append(batch)
                done += batch.runs
                progress(done, total)
        finally:
            client.cancel(futures)
            client.cancel([table])
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
        try:
            yield DaskRunner(client, f"dask scheduler {scheduler}")
        finally:
            client.close()
        return
    if workers is None and runs < LOCAL_CLUSTER_RUNS:
        yield InProcess()
        return
    from distributed import Client, LocalCluster

    n = workers or 2
    with (
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield DaskRunner(client, f"local cluster of {n} worker process(es)")


__all__ = [
    "LOCAL_CLUSTER_RUNS",
    "ClusterError",
    "DaskRunner",
    "InProcess",
    "MissingRunsError",
    "Progress",
    "Runner",
    "check_whole",
    "open_runner",
]
