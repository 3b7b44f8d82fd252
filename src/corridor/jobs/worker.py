"""What runs on a Dask worker: the task found by name, with a ``report`` that publishes progress.

Progress goes to a Dask ``Variable`` named after the job's key (``KEY:progress``), as
``[fraction, message]``; a job is cancelled by setting the Dask ``Event`` ``KEY:cancel``, which
``report`` checks and answers by raising :class:`~corridor.jobs.registry.Cancelled`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path
from typing import Any

from distributed import Event, Variable, get_client
from distributed.worker import get_worker

from corridor.jobs.registry import Cancelled, resolve

# Publish progress (and look for a cancel) at most this often, in seconds.
EVERY = 0.25
# How much lower a worker's CPU priority is than the processes beside it (nice): on a small
# machine the embedded cluster's workers share the cores with the web service and its ledger
# writer, which must keep answering scanners while a plan runs. On Linux a nice value belongs to a
# thread, not to the process: every thread of the worker is lowered (the thread running the task,
# and the event loop that (de)serialises payloads and results, sends progress and heartbeats), and
# the threads it starts later inherit it.
NICE = 10
_TASKS = Path("/proc/self/task")
_niced = False


def progress_name(key: str) -> str:
    return f"{key}:progress"


def cancel_name(key: str) -> str:
    return f"{key}:cancel"


class Reporter:
    """``report(fraction, message)`` for one job, on the worker that runs it."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._last = 0.0
        client = get_client()
        self._progress = Variable(progress_name(key), client=client)
        self._cancel = Event(cancel_name(key), client=client)

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self._last < EVERY and fraction < 1.0:
            return
        self._last = now
        if self._cancel.is_set():
            raise Cancelled(f"job {self.key} was cancelled")
        self._progress.set([max(0.0, min(1.0, float(fraction))), message[:300]])


def run(task: str, payload: dict[str, Any], key: str) -> Any:
    """Run the task named ``task`` on ``payload`` (on a worker), publishing its progress."""
    _yield_cpu()
    report = Reporter(key)
    report(0.0, f"started on {socket.gethostname()} (worker {get_worker().address}, pid {os.getpid()})")
    return resolve(task)(payload, report)


def call(task: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run the function named ``task`` with Python arguments (pickled by Dask), no progress."""
    _yield_cpu()
    return resolve(task)(*args, **kwargs)


def _yield_cpu() -> None:
    """Lower this worker process's CPU priority, once: every one of its threads."""
    lower()


def _threads() -> list[int]:
    return [int(t.name) for t in _TASKS.iterdir()] if _TASKS.is_dir() else [0]


def lower() -> None:
    """Every thread of this process ``NICE`` lower than it started (at most 19), once."""
    global _niced
    if _niced:
        return
    _niced = True
    with contextlib.suppress(OSError):
        target = min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICE)
        for tid in _threads():
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                if os.getpriority(os.PRIO_PROCESS, tid) < target:
                    os.setpriority(os.PRIO_PROCESS, tid, target)


def niceness() -> list[int]:
    """The nice value of every thread of this process (for the tests)."""
    found = []
    for tid in _threads():
        with contextlib.suppress(OSError):
            found.append(os.getpriority(os.PRIO_PROCESS, tid))
    return found
