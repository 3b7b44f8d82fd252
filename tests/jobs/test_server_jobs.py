"""The service's plan jobs on a real TCP Dask cluster: a plan asked through the API runs on the
cluster's workers and its plan is kept as a plan version (not published); what may not start or
read a job is refused; a job whose service stopped while it ran is marked failed, never left
running."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from corridor.jobs import Jobs
from corridor.server.app import create_app
from corridor.server.db import upgrade
from corridor.server.settings import Settings
from jobs.conftest import TcpCluster
from server.conftest import CHEAP, World, make_world

# A short window: the plan takes a second or two.
SHORT = "2016-12-15T19:20:00+02:00"


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
        world.url("/plan/jobs"), json={"deadline": SHORT}, headers=world.as_role("planner")
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "plan" and job["state"] in ("queued", "running")
    assert job["created_by"] == "user:planner-user" and job["params"]["deadline"] == SHORT
    # Asked again while it runs (or once done): the same job, not a second one.
    again = world.client.post(world.url("/plan/jobs"), json={"deadline": SHORT}, headers=world.coordinator)
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
