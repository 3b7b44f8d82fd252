"""Kinds of job and the task each runs, by dotted name (``"package.module:function"``).

A kind names a task function that runs on a Dask worker: ``task(payload, report) -> result``,
with a JSON-able ``payload`` and result, and ``report(fraction, message)`` to publish progress
(it raises :class:`Cancelled` once the job is cancelled). The task is found by name with
:mod:`importlib` on the worker, so whoever submits a job never imports the planner: the web
service submits ``"plan"`` without importing :mod:`corridor.solve`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from corridor.core.errors import InputError

Report = Callable[[float, str], None]
Task = Callable[[dict[str, Any], Report], Any]

_DOTTED = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

# The kinds the project ships; more are added with register().
KINDS: dict[str, str] = {
    "plan": "corridor.jobs.tasks:plan",
    "convoy-plan": "corridor.jobs.convoy:plan",
    "convoy-replan": "corridor.jobs.convoy:replan_job",
    "risk": "corridor.simulate.tasks:risk",
}


class Cancelled(Exception):  # noqa: N818 - reads as what happened to the job
    """Raised by ``report`` in a task whose job was cancelled: the task stops there."""


def register(kind: str, task: str) -> None:
    """Let jobs of ``kind`` run the task named ``task`` (``"package.module:function"``).

    Registering a kind again with another task replaces it (the last word wins).
    """
    if not kind or len(kind) > 40 or not re.fullmatch(r"[a-z][a-z0-9-]*", kind):
        raise InputError(f"{kind!r} is not a job kind", where="kind", hint="lower-case letters, digits, -")
    if not _DOTTED.fullmatch(task):
        raise InputError(
            f"{task!r} is not a task name", where="task", hint="write it as package.module:function"
        )
    KINDS[kind] = task


def task_name(kind: str) -> str:
    """The dotted name of the task of ``kind``."""
    try:
        return KINDS[kind]
    except KeyError:
        raise InputError(
            f"unknown job kind {kind!r}", where="kind", hint=f"use one of {', '.join(sorted(KINDS))}"
        ) from None


def resolve(task: str) -> Callable[..., Any]:
    """The function a dotted name names (imported now: call on the worker)."""
    module, _, name = task.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return found
