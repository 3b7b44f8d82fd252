"""Manifests through the API: wounded to ambulances first, households together, printable."""

from __future__ import annotations

from server.conftest import World


def test_assignment_and_printable_manifest(world: World) -> None:
    world.vehicle("amb-1", kind="ambulance", seats=2, stretchers=1)
    world.vehicle("bus-1", seats=10)
    wounded = world.household(
        {"name": "Ali", "age_band": "18-59", "sex": "male", "vulnerabilities": ["wounded", "stretcher"]},
        {"name": "Mona", "age_band": "18-59", "sex": "female"},
    )
    family = world.household(
        {"name": "Huda", "age_band": "18-59", "sex": "female"},
        {"name": "Sami", "age_band": "0-4", "sex": "male"},
        {"name": "Rami", "age_band": "5-11", "sex": "male"},
    )
    run = world.client.post(world.url("/manifests"), headers=world.as_role("planner")).json()
    assert run == {
        "assigned": 5,
        "by_vehicle": {"amb-1": 2, "bus-1": 3},
        "by_trip": {"amb-1/1": 2, "bus-1/1": 3},
        "split_households": [],
        "unplaced": [],
    }
    amb = world.client.get(
        world.url("/vehicles/amb-1/manifest"), headers=world.as_role("checkpoint_marshal")
    ).json()
    assert {(p["name"], p["place"]) for p in amb["people"]} == {("Ali", "stretcher"), ("Mona", "seat")}
    assert {p["household_id"] for p in amb["people"]} == {wounded["id"]}
    page = world.client.get(world.url("/vehicles/bus-1/manifest?format=html"), headers=world.coordinator)
    assert page.headers["content-type"].startswith("text/html")
    assert all(name in page.text for name in ("Huda", "Sami", "Rami"))
    assert family["id"][:8] in page.text
    # running again assigns nobody twice
    again = world.client.post(world.url("/manifests"), headers=world.coordinator).json()
    assert again["assigned"] == 0


def test_a_vehicle_code_is_unique(world: World) -> None:
    world.vehicle("bus-1")
    answer = world.client.post(
        world.url("/vehicles"), json={"code": "bus-1", "kind": "bus", "seats": 3}, headers=world.coordinator
    )
    assert answer.status_code == 409 and answer.json()["error"]["where"] == "code"
