"""Operations side by side: route, windows, plan hash and state."""

from __future__ import annotations

from server.conftest import ROUTE, World


def test_several_operations_side_by_side_and_linked(world: World) -> None:
    second = world.client.post(
        "/api/operations",
        json={
            "name": "Foua and Kefraya",
            "scenario_name": "foua-kefraya-2016",
            "route": ROUTE,
            "linked_operations": [world.operation_id],
        },
        headers=world.coordinator,
    )
    assert second.status_code == 201, second.text
    names = [o["name"] for o in world.client.get("/api/operations", headers=world.coordinator).json()]
    assert names == ["East Aleppo", "Foua and Kefraya"]
    # a planner of the first operation sees only that one
    seen = world.client.get("/api/operations", headers=world.as_role("planner")).json()
    assert [o["name"] for o in seen] == ["East Aleppo"]
    point = world.client.get(world.url(), headers=world.coordinator).json()["route"][1]
    assert (point["pcode"], point["admin_level"]) == ("SY020100", 3)


def test_state_moves_only_forward_and_names_the_next_states(world: World) -> None:
    patch = world.client.patch(
        world.url(), json={"state": "active", "plan_hash": "ab" * 32}, headers=world.as_role("planner")
    )
    assert patch.status_code == 200 and patch.json()["plan_hash"] == "ab" * 32
    closed = world.client.patch(world.url(), json={"state": "closed"}, headers=world.coordinator)
    assert closed.json()["closed_at"] is not None
    again = world.client.patch(world.url(), json={"state": "active"}, headers=world.coordinator)
    assert again.status_code == 409 and again.json()["error"]["where"] == "state"


def test_a_bad_route_says_what_is_wrong_and_changes_nothing(world: World) -> None:
    bad = [dict(p) for p in ROUTE]
    bad[0]["kind"] = "checkpoint"
    answer = world.client.patch(world.url(), json={"route": bad}, headers=world.coordinator)
    assert answer.status_code == 422
    assert "departure" in answer.json()["error"]["message"]
    assert world.client.get(world.url(), headers=world.coordinator).json()["route"][0]["kind"] == (
        "departure"
    )


def test_a_window_must_end_after_it_starts(world: World) -> None:
    answer = world.client.patch(
        world.url(),
        json={"windows": [{"start": "2016-12-15T10:00:00Z", "end": "2016-12-15T09:00:00Z"}]},
        headers=world.coordinator,
    )
    assert answer.status_code == 422 and "end after" in answer.json()["error"]["message"]
