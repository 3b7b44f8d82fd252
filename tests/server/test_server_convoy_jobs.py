"""Convoy planning as a recorded job: the convoy page starts it and shows it (also after a
reload) until its plan is published as convoy version 1; the API starts it with 202 and answers
the same job when asked again; a job that fails says why; a cancelled one publishes nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from corridor.server.jobs.service import JobView
from corridor.server.runtime import Runtime
from server.conftest import PASSWORD, World
from server.test_server_convoy import example_plan


def _browser(world: World) -> tuple[TestClient, dict[str, str]]:
    client = world.client
    client.cookies.clear()
    answer = client.post(
        "/login", data={"username": "coordinator", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client, {"X-CSRF-Token": client.cookies["corridor_csrf"], "HX-Request": "true"}


def _runtime(world: World) -> Runtime:
    runtime: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _wait(world: World, job_id: str) -> JobView:
    return _runtime(world).jobs.wait(job_id, 300)


def test_the_convoy_page_plans_the_fleet_as_a_job_and_publishes_its_plan(world: World) -> None:
    client, headers = _browser(world)
    url = f"/operations/{world.operation_id}/convoy"
    before = client.get(url)
    assert 'id="convoy-plan"' in before.text and 'data-job="' not in before.text
    started = client.post(f"{url}/plan", headers=headers)
    assert started.status_code == 200, started.text
    found = re.search(r'data-job="([0-9a-f]{32})"', started.text)
    assert found is not None, started.text
    job_id = found.group(1)
    assert "The convoy plan is being made on the cluster" in started.text
    # A reload while it runs shows the same job (once made, the page shows the plan instead).
    reloaded = client.get(url)
    assert job_id in reloaded.text or 'id="convoy-evacuated"' in reloaded.text
    ended = _wait(world, job_id)
    assert (ended.kind, ended.state, ended.error) == ("convoy-plan", "done", None)
    assert ended.result is not None and ended.result["convoy_version"] == 1
    shown = client.get(url)
    assert 'id="convoy-label"' in shown.text and "version 1" in shown.text
    assert 'data-job="' not in shown.text and 'id="convoy-plan"' not in shown.text
    versions = world.client.get(world.url("/convoys"), headers=world.coordinator).json()
    assert [(v["version"], v["current"], v["published_by"]) for v in versions] == [
        (1, True, "user:coordinator")
    ]
    # The same plan as the greedy dispatcher makes of the scenario here.
    assert versions[0]["plan_hash"] == example_plan().content_hash()
    # Asked again: the same job, nothing planned or published again.
    again = client.post(f"{url}/plan", headers=headers)
    assert job_id in again.text
    assert len(world.client.get(world.url("/convoys"), headers=world.coordinator).json()) == 1


def test_the_api_starts_a_convoy_job_and_a_failed_one_says_why(world: World) -> None:
    url = world.url("/convoy/jobs")
    answer = world.client.post(url, json={}, headers=world.as_role("planner"))
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["kind"], job["params"]["method"]) == ("convoy-plan", "greedy")
    same = world.client.post(url, json={"method": "greedy"}, headers=world.coordinator).json()
    assert same["id"] == job["id"]
    assert world.client.post(url, json={"method": "x" * 41}, headers=world.coordinator).status_code == 422
    refused = world.client.post(url, json={}, headers=world.as_role("observer"))
    assert refused.status_code == 403
    assert _wait(world, job["id"]).state == "done"
    read = world.client.get(world.url(f"/jobs/{job['id']}"), headers=world.as_role("observer")).json()
    assert (read["state"], read["progress"], read["result"]["convoy_version"]) == ("done", 1.0, 1)
    # A method the workers do not know: the job fails naming it, and nothing is published.
    bad = world.client.post(url, json={"method": "psychic"}, headers=world.coordinator).json()
    failed = _wait(world, bad["id"])
    assert failed.state == "failed" and failed.error is not None and "psychic" in failed.error
    assert len(world.client.get(world.url("/convoys"), headers=world.coordinator).json()) == 1


def test_a_cancelled_convoy_job_publishes_nothing_and_can_be_asked_again(world: World) -> None:
    client, headers = _browser(world)
    url = f"/operations/{world.operation_id}/convoy"
    started = client.post(f"{url}/plan", headers=headers)
    found = re.search(r'data-job="([0-9a-f]{32})"', started.text)
    assert found is not None, started.text
    job_id = found.group(1)
    cancelled = client.post(f"/operations/{world.operation_id}/jobs/{job_id}/cancel", headers=headers)
    assert cancelled.status_code == 200
    if 'data-state="cancelled"' in cancelled.text:  # not ended before the cancel came
        shown = client.get(url)
        assert 'id="job-cancelled"' in shown.text and 'id="job-again"' in shown.text
        assert 'hx-post="/operations/' + world.operation_id + '/convoy/plan"' in shown.text
        assert world.client.get(world.url("/convoys"), headers=world.coordinator).json() == []
        # Asked again: a new job, which publishes.
        again = client.post(f"{url}/plan", headers=headers)
        second = re.search(r'data-job="([0-9a-f]{32})"', again.text)
        assert second is not None and second.group(1) != job_id
        assert _wait(world, second.group(1)).state == "done"
    assert [
        v["version"] for v in world.client.get(world.url("/convoys"), headers=world.coordinator).json()
    ] == [1]
