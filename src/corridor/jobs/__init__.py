"""Jobs: long work (plans, re-plans, convoy plans, simulations) run on a Dask cluster.

The job API, for any part of the project that starts long work::

    from corridor.jobs import Jobs, register

    register("risk", "corridor.simulate.tasks:risk")  # a new kind: its task by dotted name
    jobs = Jobs.connect()                    # embedded cluster; or Jobs.connect("tcp://HOST:8786")
    key = jobs.submit("plan", {"scenario": "examples/east-aleppo-2016/scenario.toml"})
    state = jobs.state(key)                  # .state queued/running/done/failed/cancelled,
                                             # .progress 0..1, .message, .result, .error
    jobs.cancel(key)                         # or: jobs.result(key, timeout=600)

A task is ``def task(payload: dict, report) -> JSON-able result``; ``report(fraction, message)``
publishes progress and raises :class:`Cancelled` once the job is cancelled. Tasks are found by
name on the worker, so this package's API (everything imported here) never imports the planner:
the web service submits jobs without importing :mod:`corridor.solve` (an import-linter contract
holds it to that). The planning tasks live in :mod:`corridor.jobs.tasks` and
:mod:`corridor.jobs.convoy`, imported by the workers only.

The web service records its jobs in its ``jobs`` table (``corridor.server.jobs``): state,
progress, error and the plan version a plan job's result became, so a job outlives a page.
"""

from __future__ import annotations

from corridor.jobs.embedded import embedded_cluster
from corridor.jobs.registry import KINDS, Cancelled, register
from corridor.jobs.runner import FINAL, JobError, Jobs, JobState

__all__ = ["FINAL", "KINDS", "Cancelled", "JobError", "JobState", "Jobs", "embedded_cluster", "register"]
