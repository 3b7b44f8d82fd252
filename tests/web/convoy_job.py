"""The example's fleet planned by the server and published, for browser tests that need a convoy
plan: ``POST .../convoy`` without a plan starts a job (202); the job publishes the plan when it ends."""

from __future__ import annotations

import time

import httpx

# A convoy plan of the example takes seconds alone; the cluster may be busy with other tests' jobs.
WAIT_SECONDS = 300


def publish_convoy(api: httpx.Client, operation_id: str) -> int:
    """Plan the operation's fleet on the cluster, wait for the job, and return the version it published."""
    started = api.post(f"/api/operations/{operation_id}/convoy", json={})
    assert started.status_code == 202, started.text
    job = started.json()
    deadline = time.monotonic() + WAIT_SECONDS
    while job["state"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"the convoy plan job did not end: {job}"
        time.sleep(0.5)
        job = api.get(f"/api/operations/{operation_id}/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    version: int = job["result"]["convoy_version"]
    return version
