"""The job API on a real Dask cluster: the embedded LocalCluster and a ``dask scheduler`` with
``dask worker`` processes on loopback. A plan job's plan verifies against its scenario; a job
shows progress, can be cancelled, survives a worker killed under it (SIGKILL), and bad input is
refused with its place named. The service's plan jobs on the TCP cluster: a plan asked through
the API is kept as a plan version (not published); what may not start or read a job is refused;
a job whose service stopped while it ran is marked failed, never left running.

One file, so that one test process starts the TCP cluster once (``--dist loadfile``)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from corridor.core.errors import InputError
from corridor.jobs import KINDS, JobError, Jobs, JobState, register
from corridor.server.app import create_app
from corridor.server.db import upgrade
from corridor.server.operations.plans import PlanIn
from corridor.server.problems import compile_file
from corridor.server.settings import Settings
from corridor.simulate.cluster import LEAN
from jobs.conftest import TcpCluster
from server.conftest import CHEAP, World, make_world

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
# A short window plans in a second or two; the scenario's own (to 07:00) takes several.
SHORT = "2016-12-15T19:30:00+02:00"
LONG = "2016-12-16T06:50:00+02:00"


def until(check: Callable[[], JobState], done: Callable[[JobState], bool], seconds: float = 180) -> JobState:
    """The job's state once ``done`` holds (checked every tenth of a second)."""
    end = time.monotonic() + seconds
    while True:
        state = check()
        if done(state) or time.monotonic() > end:
            return state
        time.sleep(0.1)


def plan_payload(deadline: str, minute: int = 0) -> dict[str, Any]:
    """A plan of the example to ``deadline`` less ``minute`` minutes (so that no worker has it kept)."""
    when = datetime.fromisoformat(deadline) - timedelta(minutes=minute)
    return {"scenario": str(SCENARIO), "method": "exact", "deadline": when.isoformat()}


def assert_verifies(result: dict[str, Any]) -> None:
    plan = PlanIn.model_validate(result["plan"]).to_plan()
    problem = compile_file(SCENARIO, datetime.fromisoformat(result["deadline"])).problem
    assert plan.verify(problem) == []
    assert 0 < plan.evacuated <= plan.evacuees == 9000
    # Worked out on the worker, so that the service keeps the plan without reading it back.
    assert result["plan_hash"] == plan.content_hash()
    assert result["figures"] == {"method": plan.method, "evacuated": plan.evacuated, "evacuees": 9000}


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
    key = tcp_jobs.submit("plan", plan_payload(LONG))
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
    key = tcp_jobs.submit("plan", plan_payload(LONG, minute=4))

    def running_on() -> str | None:
        held = tcp_jobs.client.processing()
        return next((address for address, keys in held.items() if key in keys), None)

    until(
        lambda: tcp_jobs.state(key), lambda s: (s.state == "running" and running_on() is not None) or s.final
    )
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


# The service on the TCP cluster: a short window of its own (no worker has it kept).
SERVICE_SHORT = "2016-12-15T19:20:00+02:00"


def job_ended(world: World, job_id: str, seconds: float = 180) -> dict[str, Any]:
    end = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = world.client.get(world.url(f"/jobs/{job_id}"), headers=world.coordinator).json()
        if job["state"] in ("done", "failed", "cancelled") or time.monotonic() > end:
            return job
        time.sleep(0.1)


@pytest.fixture
def settings(tmp_path: Path, tcp_cluster: TcpCluster, tcp_jobs: Jobs) -> Settings:
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    upgrade(url)
    return Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        key_file=tmp_path / "keys" / "corridor.key",
        scheduler=tcp_cluster.address,
        **CHEAP,  # type: ignore[arg-type]
    )


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with TestClient(create_app(settings)) as client:
        yield make_world(client, settings)


def test_a_plan_job_becomes_a_plan_version_not_published(world: World) -> None:
    started = world.client.post(
        world.url("/plan/jobs"), json={"deadline": SERVICE_SHORT}, headers=world.as_role("planner")
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "plan" and job["state"] in ("queued", "running")
    assert job["created_by"] == "user:planner-user" and job["params"]["deadline"] == SERVICE_SHORT
    # Asked again while it runs (or once done): the same job, not a second one.
    again = world.client.post(
        world.url("/plan/jobs"), json={"deadline": SERVICE_SHORT}, headers=world.coordinator
    )
    assert again.json()["id"] == job["id"]

    ended = job_ended(world, job["id"])
    assert ended["state"] == "done", ended
    assert ended["progress"] == 1.0 and ended["finished_at"] is not None
    number = ended["result"]["plan_version"]
    version = world.client.get(world.url(f"/plans/{number}"), headers=world.as_role("observer")).json()
    assert version["plan_hash"] == ended["result"]["plan_hash"]
    assert version["published_by"] == f"job:{job['id']}"
    assert version["plan"]["evacuated"] == ended["result"]["evacuated"] > 0
    operation = world.client.get(world.url(), headers=world.coordinator).json()
    assert operation["plan_hash"] is None  # kept, not published
    listed = world.client.get(world.url("/jobs"), headers=world.as_role("observer")).json()
    assert [(j["id"], j["state"]) for j in listed] == [(job["id"], "done")]
    # Published by a planner: the kept version becomes the published one (no second version).
    published = world.client.post(
        world.url("/plan"),
        json={"plan": version["plan"], "nodes": {"cp1": "ramouseh-checkpoint", "end": "rashideen"}},
        headers=world.as_role("planner"),
    )
    assert published.status_code == 200, published.text
    assert published.json()["plan_hash"] == version["plan_hash"]
    kept = world.client.get(world.url("/plans"), headers=world.coordinator).json()
    assert [(v["version"], v["published_by"]) for v in kept] == [(number, "user:planner-user")]
    # Cancelling a job that has ended changes nothing.
    cancelled = world.client.post(world.url(f"/jobs/{job['id']}/cancel"), headers=world.coordinator)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "done"


def test_who_may_not_and_what_cannot_be_asked_is_refused(world: World) -> None:
    cases = [
        (world.client.post(world.url("/plan/jobs"), json={}, headers=world.as_role("observer")), 403),
        (
            world.client.post(world.url("/plan/jobs"), json={"method": "fastest"}, headers=world.coordinator),
            422,
        ),
        (
            world.client.post(
                world.url("/plan/jobs"), json={"deadline": "2016-12-16T03:00"}, headers=world.coordinator
            ),
            422,  # no UTC offset
        ),
        (world.client.get(world.url("/jobs/nothing-here"), headers=world.coordinator), 404),
        (world.client.post(world.url("/jobs/nothing-here/cancel"), headers=world.coordinator), 404),
    ]
    assert [a.status_code for a, _ in cases] == [s for _, s in cases]
    where = [a.json()["error"]["where"] for a, _ in cases]
    assert "body.method" in where[1] and "body.deadline" in where[2] and where[3] == "job_id"
    assert world.client.get(world.url("/jobs"), headers=world.coordinator).json() == []


def test_a_job_whose_service_stopped_is_marked_failed(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        world = make_world(client, settings)
        started = world.client.post(
            world.url("/plan/jobs"), json={"deadline": "2016-12-15T21:00:00+02:00"}, headers=world.coordinator
        )
        assert started.status_code == 202
        job_id = started.json()["id"]
        tokens = dict(world.tokens)
    # The service stopped (its cluster client with it); a new one reads the job.
    with TestClient(create_app(settings)) as client:
        world = World(client, settings, world.operation_id, tokens)
        job = world.client.get(world.url(f"/jobs/{job_id}"), headers=world.coordinator).json()
        if job["state"] != "done":  # a plan made before the service stopped is kept as it was
            assert job["state"] == "failed" and "the service stopped while the job ran" in job["error"]
        listed = world.client.get(world.url("/jobs"), headers=world.coordinator).json()
        assert [j["state"] for j in listed] == [job["state"]]


def test_every_thread_of_an_embedded_worker_runs_below_the_service(local_jobs: Jobs) -> None:
    """On Linux a nice value is a thread's: every thread of each worker is lowered (the task's, and
    the event loop's that moves payloads, results and progress), not only the one that ran a task."""
    from corridor.jobs import worker

    found: dict[str, list[int]] = local_jobs.client.run(worker.niceness)
    target = min(19, os.getpriority(os.PRIO_PROCESS, 0) + worker.NICE)
    assert len(found) == 2
    for address, values in found.items():
        assert len(values) > 1 and min(values) >= target, (address, values)


def _lean_settings() -> list[object]:
    import dask

    return [dask.config.get(key) for key in LEAN]


def test_embedded_workers_watch_themselves_sparingly(local_jobs: Jobs) -> None:
    """The embedded cluster's workers run with corridor's lean Dask settings (no profiler sampling
    every 10 ms): the CPU it saves is the workers' on a small machine."""
    found: dict[str, list[object]] = local_jobs.client.run(_lean_settings)
    assert len(found) == 2
    assert all(values == list(LEAN.values()) for values in found.values()), found
