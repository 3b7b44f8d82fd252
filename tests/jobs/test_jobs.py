"""The job API on a real Dask cluster: the embedded LocalCluster and a ``dask scheduler`` with
``dask worker`` processes on loopback. A plan job's plan verifies against its scenario; a job
shows progress, can be cancelled, survives a worker killed under it (SIGKILL), and bad input is
refused with its place named."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from corridor.core.errors import InputError
from corridor.jobs import KINDS, JobError, Jobs, JobState, register
from corridor.server.operations.plans import PlanIn
from corridor.server.web.plan_cache import compiled
from jobs.conftest import TcpCluster

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
# A short window plans in a second or two; the scenario's own (to 07:00) takes several.
SHORT = "2016-12-15T19:30:00+02:00"


def until(check: Callable[[], JobState], done: Callable[[JobState], bool], seconds: float = 180) -> JobState:
    """The job's state once ``done`` holds (checked every tenth of a second)."""
    end = time.monotonic() + seconds
    while True:
        state = check()
        if done(state) or time.monotonic() > end:
            return state
        time.sleep(0.1)


def plan_payload(deadline: str | None, minute: int = 0) -> dict[str, Any]:
    """A plan of the example; ``minute`` moves the deadline so that no worker has it kept."""
    when = None if deadline is None else deadline.replace(":30:00", f":{30 - minute:02d}:00")
    return {"scenario": str(SCENARIO), "method": "exact", "deadline": when}


def assert_verifies(result: dict[str, Any]) -> None:
    plan = PlanIn.model_validate(result["plan"]).to_plan()
    _, _, problem = compiled(SCENARIO, datetime.fromisoformat(result["deadline"]))
    assert plan.verify(problem) == []
    assert 0 < plan.evacuated <= plan.evacuees == 9000


def test_a_plan_job_on_the_embedded_cluster(local_jobs: Jobs) -> None:
    key = local_jobs.submit("plan", plan_payload(SHORT))
    seen: set[str] = set()

    def look() -> JobState:
        state = local_jobs.state(key)
        seen.add(state.state)
        return state

    state = until(look, lambda s: s.final)
    assert state.state == "done" and state.progress == 1.0 and state.error is None
    assert seen <= {"queued", "running", "done"} and "done" in seen
    assert_verifies(state.result)
    local_jobs.forget(key)


def test_a_plan_job_on_a_tcp_cluster_shows_progress(tcp_jobs: Jobs) -> None:
    key = tcp_jobs.submit("plan", plan_payload(SHORT, minute=1))
    running = until(lambda: tcp_jobs.state(key), lambda s: s.state == "running" or s.final)
    assert running.state in ("running", "done")
    result = tcp_jobs.result(key, timeout=180)
    assert_verifies(result)
    assert tcp_jobs.state(key).state == "done"
    tcp_jobs.forget(key)


def test_a_cancelled_job_stops_and_frees_its_worker(tcp_jobs: Jobs) -> None:
    key = tcp_jobs.submit("plan", plan_payload(None))
    until(lambda: tcp_jobs.state(key), lambda s: s.state == "running" or s.final)
    tcp_jobs.cancel(key)
    assert tcp_jobs.state(key).state == "cancelled"
    with pytest.raises(JobError):
        tcp_jobs.result(key, timeout=1)
    tcp_jobs.forget(key)
    # The worker is free again: the next job ends.
    after = tcp_jobs.submit("plan", plan_payload(SHORT, minute=2))
    assert until(partial(tcp_jobs.state, after), lambda s: s.final).state == "done"
    tcp_jobs.forget(after)


def test_a_worker_killed_mid_job_gives_it_to_another(tcp_jobs: Jobs, tcp_cluster: TcpCluster) -> None:
    workers = tcp_jobs.workers()
    assert len(workers) == 2
    key = tcp_jobs.submit("plan", plan_payload(None, minute=4))

    def running_on() -> str | None:
        held = tcp_jobs.client.processing()
        return next((address for address, keys in held.items() if key in keys), None)

    until(lambda: tcp_jobs.state(key), lambda s: s.state == "running" or s.final)
    address = running_on()
    assert address is not None and tcp_jobs.state(key).state == "running"
    pid = workers[address]
    os.kill(pid, signal.SIGKILL)  # a real kill: no goodbye to the scheduler
    state = until(lambda: tcp_jobs.state(key), lambda s: s.final)
    assert state.state == "done", state
    assert_verifies(state.result)
    assert pid not in tcp_jobs.workers().values()
    tcp_jobs.forget(key)
    tcp_cluster.start_worker()  # the cluster as it was, for what follows
    tcp_cluster.wait_for_workers(tcp_jobs, 2)


def test_a_job_that_fails_says_why_with_the_place(local_jobs: Jobs) -> None:
    key = local_jobs.submit("plan", {"scenario": "/nowhere/scenario.toml"})
    state = until(lambda: local_jobs.state(key), lambda s: s.final)
    assert state.state == "failed"
    assert state.error is not None and "/nowhere/scenario.toml" in state.error and "not found" in state.error
    with pytest.raises(Exception, match="not found"):
        local_jobs.result(key, timeout=10)
    bad = local_jobs.submit("plan", {"scenario": str(SCENARIO), "method": "fastest"})
    failed = until(lambda: local_jobs.state(bad), lambda s: s.final)
    assert failed.state == "failed" and "payload.method" in (failed.error or "")


def test_bad_kinds_and_unreachable_schedulers_are_refused() -> None:
    with pytest.raises(InputError) as unknown:
        Jobs.__new__(Jobs).submit("nonsense", {})
    assert unknown.value.where == "kind"
    for kind, task in (("Bad Kind", "a.b:c"), ("risk", "not a name"), ("risk", "module_without_function")):
        with pytest.raises(InputError):
            register(kind, task)
    assert "risk" not in KINDS or KINDS["risk"] != "not a name"
    with pytest.raises(JobError) as unreachable:
        Jobs.connect("tcp://127.0.0.1:9", timeout=2)
    assert unreachable.value.where == "--scheduler" and "tcp://127.0.0.1:9" in unreachable.value.message


def test_a_registered_kind_runs_by_its_dotted_name(local_jobs: Jobs) -> None:
    register("plan-copy", "corridor.jobs.tasks:plan")
    try:
        key = local_jobs.submit("plan-copy", plan_payload(SHORT, minute=5))
        state = until(lambda: local_jobs.state(key), lambda s: s.final)
        assert state.state == "done"
        assert_verifies(state.result)
    finally:
        KINDS.pop("plan-copy", None)
