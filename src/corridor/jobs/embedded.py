"""The process's embedded Dask cluster: started on first use, kept whole, shut down at exit.

A worker process that dies is started again by its nanny; but when that takes longer than
``distributed.deploy.lost-worker-timeout`` (15 s: a loaded machine, a worker spawned at the
same time as a browser and another test process), the cluster closes the nanny for good and
never starts another in its place. A worker whose link to the scheduler broke closes its nanny
too. Two such losses leave a cluster with a scheduler and no worker, where a job waits for
ever. So the cluster handed out is checked first: a closed cluster is replaced by a new one,
and nannies the cluster has lost are replaced by new ones (:func:`mend`), on the cluster's own
event loop, without waiting for them to start.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time

import dask
from distributed import LocalCluster
from distributed.core import Status

from corridor.simulate.dask_settings import LEAN

log = logging.getLogger(__name__)

# A nanny in one of these will never run a worker again.
_GONE = frozenset({Status.closing, Status.closed, Status.closing_gracefully, Status.failed})

_embedded: dict[int, LocalCluster] = {}
_embedded_guard = threading.Lock()
_quiet_until: dict[int, float] = {}  # by cluster: when mending it is next worth a line in the log
_exit_registered = False


def embedded_cluster(workers: int) -> LocalCluster:
    """The process's embedded cluster of ``workers`` worker processes (one thread each), started
    on first use (again if it was closed) and shut down when the process exits; every client of
    the process shares it. Nannies it has lost are replaced (see :func:`mend`)."""
    global _exit_registered
    with _embedded_guard:
        found = _embedded.get(workers)
        if found is not None and not running(found):
            log.warning("the embedded cluster of %d worker(s) was closed: starting a new one", workers)
            with contextlib.suppress(Exception):  # closed already, or half-way
                found.close(timeout=10)
            found = None
        if found is None:
            with dask.config.set(LEAN):  # read by the scheduler, nannies and workers as they start
                found = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    host="127.0.0.1",
                )
            _embedded[workers] = found
            if not _exit_registered:
                atexit.register(_close_embedded)
                _exit_registered = True
        else:
            mend(found, workers)
        return found


def running(cluster: LocalCluster) -> bool:
    """Whether ``cluster`` and its scheduler are up (not closing, not closed)."""
    scheduler = getattr(cluster, "scheduler", None)
    return cluster.status == Status.running and scheduler is not None and scheduler.status == Status.running


def short(cluster: LocalCluster, workers: int) -> bool:
    """Whether ``cluster`` holds fewer than ``workers`` nannies that may still run a worker."""
    nannies = list(cluster.workers.values())
    return sum(1 for nanny in nannies if nanny.status not in _GONE) < workers


def mend(cluster: LocalCluster, workers: int) -> bool:
    """Replace the nannies ``cluster`` has lost, so that it holds ``workers`` again; whether it
    was short of any. Returns at once: the new nannies start their workers on the cluster's
    event loop (a few seconds), and a job waiting for a worker is given one then."""
    loop = cluster.loop
    if loop is None or not running(cluster) or not short(cluster, workers):
        return False
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the cluster is gone
        loop.add_callback(_mend_now, cluster, workers)
    return True


def worker_count(cluster: LocalCluster) -> int:
    """How many workers ``cluster``'s scheduler holds now (0 once it has stopped)."""
    scheduler = getattr(cluster, "scheduler", None)
    return 0 if scheduler is None else len(scheduler.workers)


def _mend_now(cluster: LocalCluster, workers: int) -> None:
    """On the cluster's loop: forget the lost nannies' places and scale back to ``workers``
    (the lost ones are closed and dropped, new ones start under new names)."""
    if not running(cluster):
        return
    gone = [name for name, nanny in cluster.workers.items() if nanny.status in _GONE]
    missing = [name for name in cluster.worker_spec if name not in cluster.workers]
    now = time.monotonic()
    if now >= _quiet_until.get(id(cluster), 0.0):  # once a minute at most (nannies take seconds to start)
        _quiet_until[id(cluster)] = now + 60.0
        log.warning(
            "the embedded cluster holds %d of its %d worker(s) (nannies closed: %s; not started: %s): "
            "starting new ones",
            worker_count(cluster),
            workers,
            ", ".join(map(str, gone)) or "none",
            ", ".join(map(str, missing)) or "none",
        )
    for name in gone:
        cluster.worker_spec.pop(name, None)
    cluster.scale(workers)


def _close_embedded() -> None:
    # At exit: the workers' goodbyes are not news (and the log's streams may be closed already).
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    with _embedded_guard:
        for cluster in _embedded.values():
            with contextlib.suppress(Exception):
                cluster.close()
        _embedded.clear()
