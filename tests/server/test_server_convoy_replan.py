"""A re-plan after a closure through the web routes: refused with the field named when it changes
nothing or names what does not exist; a job on the cluster whose re-plan the page shows once it
is made (also after a reload), then published as version 2, which keeps the trips under way,
numbers the new ones after them, and verifies against the scenario with the closure."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi.testclient import TestClient

from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.plan.convoy_verify import verify_convoy
from corridor.problem.convoy import compile_convoy
from corridor.scenario.load import load_scenario
from corridor.server.convoys.scenario import Basis, changed
from corridor.server.runtime import Runtime
from server.conftest import PASSWORD, World
from server.test_server_convoy import SCENARIO, example_plan

STEP = 180  # the re-plan's time: three hours into the window


def _browser(world: World) -> tuple[TestClient, dict[str, str]]:
    client = world.client
    client.cookies.clear()
    answer = client.post(
        "/login", data={"username": "coordinator", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client, {"X-CSRF-Token": client.cookies["corridor_csrf"], "HX-Request": "true"}


def _form(plan: ConvoyPlan, **fields: str) -> dict[str, str]:
    return {"start": plan.time_of(STEP).strftime("%Y-%m-%dT%H:%M"), **fields}


def _replanned(world: World, url: str, fields: dict[str, str]) -> tuple[str, str]:
    """Ask for a re-plan (the page answers with its job at once), wait for the job, and read the
    re-plan page again: its text and the draft to publish."""
    client, headers = _browser(world)
    asked = client.post(url, data=fields, headers=headers)
    assert asked.status_code == 200, asked.text
    job = re.search(r'data-job="([0-9a-f]{32})"', asked.text)
    assert job is not None, asked.text
    runtime: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    ended = runtime.jobs.wait(job.group(1), 300)
    assert (ended.kind, ended.state, ended.error) == ("convoy-replan", "done", None)
    assert client.post(url, data=fields, headers=headers).text.count(job.group(1)) >= 1  # the same job
    shown = client.get(url)
    assert shown.status_code == 200, shown.text
    draft = re.search(r'name="draft" value="([0-9a-f]{32})"', shown.text)
    assert draft is not None and draft.group(1) == job.group(1)
    return shown.text, draft.group(1)


def test_a_replan_is_refused_naming_the_field(world: World) -> None:
    plan = example_plan()
    url = f"/operations/{world.operation_id}/convoy/replan"
    client, headers = _browser(world)
    assert (
        client.post(url, data=_form(plan, closed="checkpoint:ramouseh"), headers=headers).status_code == 404
    )
    assert world.client.post(world.url("/convoy"), json={"plan": plan.to_dict()}, headers=world.coordinator)
    client, headers = _browser(world)
    for fields, where in (
        ({"closed": "checkpoint:nowhere"}, "no checkpoint"),
        ({"closed": "bridge:1"}, "names no road or checkpoint"),
        ({}, "nothing changes"),
        ({"closed": "checkpoint:ramouseh", "start": "2016-12-01T00:00"}, "outside the plan"),
        ({"closed": "checkpoint:ramouseh", "start": "yesterday"}, "not a date"),
        ({"closed": "checkpoint:ramouseh", "end": "2016-12-15T13:00"}, "ends before it starts"),
    ):
        answer = client.post(url, data=_form(plan, **fields), headers=headers)
        assert answer.status_code == 422, (fields, answer.status_code)
        assert where in answer.text, (fields, answer.text)
    gone = client.post(f"{url}/publish", data={"draft": "0" * 64}, headers=headers)
    assert gone.status_code == 404
    listed = world.client.get(world.url("/convoys"), headers=world.coordinator).json()
    assert [v["version"] for v in listed] == [1]


def test_a_replan_after_a_road_closure_is_published_as_version_2(world: World) -> None:
    plan = example_plan()
    assert world.client.post(world.url("/convoy"), json={"plan": plan.to_dict()}, headers=world.coordinator)
    client, headers = _browser(world)
    url = f"/operations/{world.operation_id}/convoy/replan"
    road = "road:corridor-west-1|ramouseh-junction"
    shown, draft = _replanned(world, url, _form(plan, closed=road))
    assert 'id="diff"' in shown
    assert "No trip of the plan has been scanned yet" in shown
    client, headers = _browser(world)
    published = client.post(f"{url}/publish", data={"draft": draft}, headers=headers)
    assert published.status_code == 200, published.text
    versions = world.client.get(world.url("/convoys"), headers=world.coordinator).json()
    assert [(v["version"], v["current"], v["replan"]) for v in versions] == [
        (1, False, False),
        (2, True, True),
    ]
    body = world.client.get(world.url("/convoys/2"), headers=world.coordinator).json()
    assert body["basis"]["replaces"] == 1
    assert body["basis"]["closures"][0]["arc"] == ["corridor-west-1", "ramouseh-junction"]
    # Independent check: it verifies against the scenario with the closure and its starting state.
    new = ConvoyPlan.from_dict(body["plan"])
    basis = Basis.from_dict(body["basis"])
    scenario = load_scenario(SCENARIO)
    problem, _ = compile_convoy(
        changed(scenario, basis), load_network(scenario.network, scenario.base_dir), state=basis.state
    )
    assert problem is not None and verify_convoy(new, problem) == []
    # The trips done by then stay, the new ones (trips under way kept first) numbered after them.
    trips = world.client.get(world.url("/trips"), headers=world.coordinator).json()["trips"]
    current = {(t["vehicle"], t["number"]) for t in trips if t["current"]}
    done = {(t.vehicle, t.number) for t in plan.trips if t.arrival <= STEP}
    offsets = body["offsets"]
    assert offsets == {v: max(n for w, n in done if w == v) for v, _ in done}
    assert done <= current
    assert {(t.vehicle, t.number + offsets.get(t.vehicle, 0)) for t in new.trips} <= current
    assert len(current) == len(done) + len(new.trips)
    old_under_way = {(t.vehicle, t.gathering, t.board_start) for t in plan.trips if t.arrival > STEP}
    for t in new.trips:
        if t.board_start < STEP:  # only a trip under way at the re-plan's time boards before it
            assert (t.vehicle, t.gathering, t.board_start) in old_under_way
    first_new = min(new.trips, key=lambda t: t.board_start)
    row = next(
        x
        for x in trips
        if (x["vehicle"], x["number"])
        == (first_new.vehicle, first_new.number + offsets.get(first_new.vehicle, 0))
    )
    assert datetime.fromisoformat(row["planned_arrival"]) == new.time_of(first_new.haul.arrival)


def test_a_replan_starts_from_the_scans_once_they_began(world: World) -> None:
    plan = example_plan()
    assert world.client.post(world.url("/convoy"), json={"plan": plan.to_dict()}, headers=world.coordinator)
    first = min((t for t in plan.trips if t.number == 1), key=lambda t: t.arrival)
    assert first.arrival < STEP
    events = [
        {
            "event_id": f"scanner-1-{n}",
            "device_id": "scanner-1",
            "seq": n,
            "device_time": plan.time_of(at).isoformat(),
            "type": kind,
            "payload": {"vehicle_id": first.vehicle, "point": point, "trip": 1},
        }
        for n, (kind, at, point) in enumerate(
            (("departed", first.board_end, "start"), ("arrived", first.haul.arrival, "end")), start=1
        )
    ]
    sent = world.client.post(world.url("/events/batch"), json={"events": events}, headers=world.device)
    assert sent.status_code == 200, sent.text
    url = f"/operations/{world.operation_id}/convoy/replan"
    shown, draft = _replanned(world, url, _form(plan, closed="checkpoint:ramouseh"))
    assert "Planned from the scans" in shown
    client, headers = _browser(world)
    assert client.post(f"{url}/publish", data={"draft": draft}, headers=headers).status_code == 200
    state = world.client.get(world.url("/convoys/2"), headers=world.coordinator).json()["basis"]["state"]
    # The bus that arrived waits at its reception point from the re-plan's time; nobody was scanned
    # boarding, so nobody counts as gone.
    places = {v["vehicle"]: (v["node"], v["ready"]) for v in state["vehicles"]}
    assert places[first.vehicle][0] == first.haul.nodes[-1]
    assert state["left"] == [] and state["out_by_group"] == []
