"""Publishing a plan to an operation: its hash, the plan's minutes per route segment, and
reconciliation that expects people where and when the published plan does."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from corridor.plan.model import Plan
from corridor.solve import solve
from corridor.solve.pipeline import Planned, plan_file
from factories import problem
from server.conftest import World

EXAMPLE = Path(__file__).parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
NODES = {"start": "0", "cp1": "1", "end": "3"}


def as_file(plan: Plan) -> dict[str, Any]:
    """The plan as ``corridor plan --out`` writes it to plan.json, read back."""
    data: dict[str, Any] = json.loads(json.dumps(plan.to_dict(), indent=1))
    return data


def tiny_plan() -> Plan:
    """The world's scenario on a tiny network 0 -> 1 -> 2 -> 3 (5, 7, 3 minutes, no waiting)."""
    tiny = problem(
        4, [(0, 1, 10, 5), (1, 2, 10, 7), (2, 3, 10, 3)], sources=[(0, 5)], destinations=[3], horizon=30
    )
    return solve(replace(tiny, name="east-aleppo-2016"), quickest=False)


def publish(world: World, plan: dict[str, Any], nodes: dict[str, str], role: str = "planner") -> Any:
    return world.client.post(
        world.url("/plan"), json={"plan": plan, "nodes": nodes}, headers=world.as_role(role)
    )


def segments(answer: dict[str, Any]) -> list[tuple[str, str, float, str]]:
    return [(s["from_point"], s["to_point"], s["minutes"], s["source"]) for s in answer["segments"]]


def test_a_published_plan_gives_the_expected_minutes(world: World) -> None:
    before = world.client.get(world.url("/plan"), headers=world.as_role("observer")).json()
    assert before["plan_hash"] is None and before["published_at"] is None
    assert segments(before) == [("start", "cp1", 20.0, "route"), ("cp1", "end", 40.0, "route")]

    plan = tiny_plan()
    answer = publish(world, as_file(plan), NODES)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["plan_hash"] == plan.content_hash()
    assert body["published_by"] == "user:planner-user" and body["method"] == "exact"
    assert segments(body) == [("start", "cp1", 5.0, "plan"), ("cp1", "end", 10.0, "plan")]
    assert [s["route_minutes"] for s in body["segments"]] == [20.0, 40.0]
    assert world.client.get(world.url(), headers=world.coordinator).json()["plan_hash"] == plan.content_hash()
    assert world.client.get(world.url("/plan"), headers=world.coordinator).json() == body

    log = world.client.get("/api/access-log", headers=world.coordinator).json()
    assert [(e["actor"], e["path"]) for e in log if e["action"] == "plan.published"] == [
        ("user:planner-user", world.url("/plan"))
    ]


def boarded_at_ten(world: World) -> str:
    household = world.household({"name": "Rana", "age_band": "18-59", "sex": "female"})
    person: str = household["people"][0]["id"]
    event = {
        "event_id": "scanner-1-1",
        "device_id": "scanner-1",
        "seq": 1,
        "device_time": "2016-12-15T10:00:00Z",
        "type": "boarded",
        "payload": {"person_id": person, "point": "start"},
    }
    assert world.client.post(world.url("/events"), json=event, headers=world.device).status_code == 201
    return person


def not_seen_at(world: World, at: str) -> list[tuple[str, str, str]]:
    result = world.client.get(world.url(f"/reconciliation?at={at}"), headers=world.coordinator).json()
    return [(o["subject_id"], o["expected_point"], o["expected_by"]) for o in result["not_seen"]]


def test_reconciliation_follows_the_published_plan_and_falls_back_without_it(world: World) -> None:
    person = boarded_at_ten(world)
    # Written route: cp1 20 minutes after boarding, + 30 minutes of grace -> 10:50.
    assert not_seen_at(world, "2016-12-15T10:36:00Z") == []
    assert not_seen_at(world, "2016-12-15T10:51:00Z") == [(person, "cp1", "2016-12-15T10:50:00Z")]
    # Published plan: 5 minutes to cp1 -> due by 10:35.
    assert publish(world, as_file(tiny_plan()), NODES).status_code == 200
    assert not_seen_at(world, "2016-12-15T10:35:00Z") == []
    assert not_seen_at(world, "2016-12-15T10:36:00Z") == [(person, "cp1", "2016-12-15T10:35:00Z")]
    # Another plan hash set by hand: the published times no longer apply.
    patched = world.client.patch(world.url(), json={"plan_hash": "ab" * 32}, headers=world.coordinator)
    assert patched.status_code == 200
    assert not_seen_at(world, "2016-12-15T10:36:00Z") == []
    after = world.client.get(world.url("/plan"), headers=world.coordinator).json()
    assert after["plan_hash"] == "ab" * 32 and after["published_at"] is None
    assert {s["source"] for s in after["segments"]} == {"route"}


def test_a_changed_route_keeps_the_plan_times_of_unchanged_segments(world: World) -> None:
    assert publish(world, as_file(tiny_plan()), NODES).status_code == 200
    route = [
        {"id": "start", "name": "Gate", "kind": "departure", "expected_minutes": 0},
        {"id": "cp1", "name": "Checkpoint", "kind": "checkpoint", "expected_minutes": 20},
        {"id": "cp2", "name": "New checkpoint", "kind": "checkpoint", "expected_minutes": 30},
        {"id": "end", "name": "Reception", "kind": "arrival", "expected_minutes": 60},
    ]
    assert (
        world.client.patch(world.url(), json={"route": route}, headers=world.coordinator).status_code == 200
    )
    body = world.client.get(world.url("/plan"), headers=world.coordinator).json()
    assert segments(body) == [
        ("start", "cp1", 5.0, "plan"),
        ("cp1", "cp2", 10.0, "route"),
        ("cp2", "end", 30.0, "route"),
    ]


def test_plans_that_cannot_be_published_are_refused_with_the_place_named(world: World) -> None:
    good = as_file(tiny_plan())
    other = as_file(
        solve(
            replace(problem(2, [(0, 1, 5, 3)], sources=[(0, 2)], destinations=[1], horizon=9), name="madaya")
        )
    )
    broken = {**good, "routes": [{**good["routes"][0], "departures": [0, 5]}]}
    cases = [
        (publish(world, other, NODES), 422, "plan.scenario"),
        (publish(world, good, {"nowhere": "0"}), 422, "nodes"),
        (publish(world, good, {}), 422, "nodes"),  # the route's point ids are not node ids
        (publish(world, broken, NODES), 422, "body.plan.routes.0"),
        (publish(world, {**good, "dt": 0}, NODES), 422, "body.plan.dt"),
        (publish(world, {**good, "format": 7}, NODES), 422, "body.plan.format"),
        (publish(world, good, NODES, role="registrar"), 403, f"operation {world.operation_id}"),
    ]
    assert [(a.status_code, a.json()["error"]["where"]) for a, _, _ in cases] == [(s, w) for _, s, w in cases]
    assert world.client.get(world.url(), headers=world.coordinator).json()["plan_hash"] is None

    world.client.patch(world.url(), json={"state": "closed"}, headers=world.coordinator)
    closed = publish(world, good, NODES)
    assert closed.status_code == 409 and closed.json()["error"]["where"] == "state"


@pytest.fixture(scope="module")
def example() -> Planned:
    return plan_file(EXAMPLE, quickest=False)


def test_the_east_aleppo_plan_gives_the_corridor_its_times(world: World, example: Planned) -> None:
    """The shipped scenario, planned by the library: its plan.json published to an operation
    whose route is the corridor al-Amiriyah -> Ramouseh -> al-Rashideen."""
    client = world.client
    route = [
        {"id": "amiriyah", "name": "al-Amiriyah crossing", "kind": "departure", "expected_minutes": 0},
        {"id": "ramouseh", "name": "Ramouseh checkpoint", "kind": "checkpoint", "expected_minutes": 25},
        {"id": "rashideen", "name": "al-Rashideen", "kind": "arrival", "expected_minutes": 55},
    ]
    made = client.post(
        "/api/operations",
        json={"name": "Aleppo corridor", "scenario_name": "east-aleppo-2016", "route": route},
        headers=world.coordinator,
    )
    operation = made.json()["id"]
    client.post(
        f"/api/operations/{operation}/members",
        json={"username": "planner-user", "role": "planner"},
        headers=world.coordinator,
    )
    answer = client.post(
        f"/api/operations/{operation}/plan",
        json={"plan": as_file(example.plan), "nodes": {"ramouseh": "ramouseh-checkpoint"}},
        headers=world.as_role("planner"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["plan_hash"] == example.plan.content_hash()
    [to_checkpoint, to_arrival] = body["segments"]
    assert to_checkpoint["source"] == to_arrival["source"] == "plan"
    # No planned passage is quicker than driving the roads without stopping.
    problem_ = example.problem
    quickest: dict[int, int] = {}
    for r in example.plan.routes:
        for a, b, key in (("amiriyah", "ramouseh-checkpoint", 0), ("ramouseh-checkpoint", "rashideen", 1)):
            if a in r.nodes and b in r.nodes[r.nodes.index(a) + 1 :]:
                i, j = r.nodes.index(a), r.nodes.index(b, r.nodes.index(a) + 1)
                steps = int(sum(problem_.tau[arc] for arc in r.arcs[i:j]))
                quickest[key] = min(quickest.get(key, steps), steps)
    assert set(quickest) == {0, 1}
    assert to_checkpoint["minutes"] >= quickest[0] * example.plan.dt
    assert to_arrival["minutes"] >= quickest[1] * example.plan.dt
    assert to_checkpoint["minutes"] + to_arrival["minutes"] <= example.plan.horizon * example.plan.dt
