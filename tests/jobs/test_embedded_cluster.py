"""A cluster that cannot run a job never leaves it waiting for ever.

The embedded cluster whose worker was lost for good (killed, and its nanny closed by the cluster
because the restart took longer than ``distributed.deploy.lost-worker-timeout``, as on a loaded
machine) gets a new worker, and a job started on it ends; an embedded cluster closed under its
clients is replaced by a new one (the jobs it held fail, saying so); a job on a scheduler without
workers fails within its bound, and the web app shows why.

These tests use a one-worker embedded cluster of their own (the service's and the other job
tests' have two) and close it at the end."""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import LocalCluster
from distributed.core import Status
from fastapi.testclient import TestClient

from corridor.core.errors import InputError
from corridor.jobs import Jobs, JobState, embedded_cluster, runner
from corridor.server.app import create_app
from corridor.server.db import upgrade
from corridor.server.settings import Settings
from server.conftest import CHEAP, PASSWORD, make_world

MISSING = {"scenario": "/nowhere/scenario.toml"}  # a job a worker ends at once (its file is read there)
SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
SHORT = {"scenario": str(SCENARIO), "method": "exact", "deadline": "2016-12-15T19:10:00+02:00"}


def running(cluster: LocalCluster) -> bool:
    return cluster.status == Status.running


def worker_count(cluster: LocalCluster) -> int:
    return len(cluster.scheduler.workers) if cluster.scheduler is not None else 0


def until(check: Callable[[], JobState], seconds: float = 120) -> JobState:
    """The job's state once it has ended, or as it stands after ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        state = check()
        if state.final or time.monotonic() > end:
            return state
        time.sleep(0.1)


def ran_on_a_worker(state: JobState) -> bool:
    """Whether a worker ran the job ``MISSING`` (it fails there, naming the file)."""
    return state.state == "failed" and "/nowhere/scenario.toml" in (state.error or "")


@pytest.fixture(scope="module")
def one_worker() -> Iterator[Jobs]:
    """A client of the process's embedded cluster of one worker, closed at the end."""
    jobs = Jobs.connect(workers=1)
    try:
        yield jobs
    finally:
        jobs.close()
        embedded_cluster(1).close()


def _lose_the_workers(jobs: Jobs, cluster: LocalCluster) -> None:
    """Kill the cluster's workers so that it closes their nannies for good: as when a killed
    worker is not back within the cluster's lost-worker-timeout (15 s) on a loaded machine."""
    pids = list(jobs.workers().values())
    assert pids
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "0s"}):
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        end = time.monotonic() + 60
        while cluster.workers and time.monotonic() < end:
            time.sleep(0.05)
    assert not cluster.workers and worker_count(cluster) == 0


def test_a_cluster_that_lost_its_workers_for_good_gets_new_ones(
    one_worker: Jobs, caplog: pytest.LogCaptureFixture
) -> None:
    cluster = embedded_cluster(1)
    _lose_the_workers(one_worker, cluster)
    # A job started now is run by a new worker (it would wait for ever for the lost one).
    with caplog.at_level(logging.WARNING, logger="corridor.jobs.embedded"):
        key = one_worker.submit("plan", MISSING)
        assert ran_on_a_worker(until(lambda: one_worker.state(key))), one_worker.state(key)
    assert "the embedded cluster holds 0 of its 1 worker(s)" in caplog.text  # the log says so
    one_worker.forget(key)
    assert embedded_cluster(1) is cluster and worker_count(cluster) == 1
    # Lost again while a job waits: reading the job gives the cluster a worker again.
    _lose_the_workers(one_worker, cluster)
    waiting = one_worker.submit("plan", MISSING)
    assert ran_on_a_worker(until(lambda: one_worker.state(waiting))), one_worker.state(waiting)
    one_worker.forget(waiting)


def test_a_closed_embedded_cluster_is_replaced_and_its_jobs_fail(one_worker: Jobs) -> None:
    old = embedded_cluster(1)
    running_key = one_worker.submit("plan", {**MISSING, "method": "exact"})
    old.close()  # as a test or fixture that closed a cluster it did not own
    state = until(lambda: one_worker.state(running_key), 60)
    if not ran_on_a_worker(state):  # (the worker may have ended it before the cluster closed)
        assert state.state == "failed" and "closed before it ended" in (state.error or ""), state
    new = embedded_cluster(1)
    assert new is not old and running(new) and not running(old)
    # The same client starts jobs on the new cluster.
    key = one_worker.submit("plan", MISSING)
    assert ran_on_a_worker(until(lambda: one_worker.state(key))), one_worker.state(key)
    # And a new client joins it.
    again = Jobs.connect(workers=1)
    try:
        assert again.client.scheduler_info()["address"] == new.scheduler_address
    finally:
        again.close()


def test_a_job_forgotten_while_it_is_read_is_not_known_any_more(
    one_worker: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service settles and forgets an ended job on one thread while a page reads it on
    another: the reader is told the job is not held any more (and reads its row), not given the
    cluster's error for a released result."""
    key = one_worker.submit("plan", SHORT)
    assert until(lambda: one_worker.state(key)).state == "done"
    watch = one_worker._watch

    def forgotten_meanwhile() -> float:
        one_worker.forget(key)
        return watch()

    monkeypatch.setattr(one_worker, "_watch", forgotten_meanwhile)
    with pytest.raises(InputError):
        one_worker.state(key)


@pytest.fixture(scope="module")
def workerless() -> Iterator[str]:
    """The address of a scheduler that no worker joins."""
    with LocalCluster(
        n_workers=0, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_a_job_on_a_scheduler_without_workers_fails_saying_why(workerless: str) -> None:
    jobs = Jobs.connect(workerless)
    jobs.no_worker_seconds = 1.0
    try:
        key = jobs.submit("plan", MISSING)
        state = until(lambda: jobs.state(key), 30)
        assert state.state == "failed" and "no worker could run it" in (state.error or ""), state
        assert jobs.state(key) == state  # and stays so
    finally:
        jobs.close()


def test_the_web_app_shows_a_job_that_no_worker_could_run(
    workerless: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "NO_WORKER_SECONDS", 1.0, raising=False)
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        key_file=tmp_path / "keys" / "corridor.key",
        scheduler=workerless,
        **CHEAP,  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings)) as client:
        world = make_world(client, settings)
        started = client.post(world.url("/plan/jobs"), json={}, headers=world.coordinator)
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        end = time.monotonic() + 60
        job: dict[str, Any] = started.json()
        while job["state"] not in ("done", "failed", "cancelled") and time.monotonic() < end:
            time.sleep(0.2)
            job = client.get(world.url(f"/jobs/{job_id}"), headers=world.coordinator).json()
        assert job["state"] == "failed" and "no worker could run it" in job["error"], job
        # The job's card on the plan page says so.
        client.cookies.clear()
        logged = client.post(
            "/login", data={"username": "coordinator", "password": PASSWORD}, follow_redirects=False
        )
        assert logged.status_code == 303, logged.text
        card = client.get(f"/operations/{world.operation_id}/jobs/{job_id}", headers={"HX-Request": "true"})
        assert card.status_code == 200, card.text
        shown = re.search(r'id="job-error">([^<]*)<', card.text)
        assert shown is not None and "no worker could run it" in shown.group(1), card.text
