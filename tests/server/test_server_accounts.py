"""Account management: disabling and enabling users, changing one's password, taking a role back,
revoking a scanner; each change refused or applied at once, and recorded in the access log."""

from __future__ import annotations

from typing import Any

from server.conftest import PASSWORD, World, bearer

NEW_PASSWORD = "a much longer passphrase"


def unauthenticated(answer: Any) -> bool:
    """A 401 in the service's one JSON error shape."""
    error: dict[str, Any] = answer.json()["error"]
    return bool(answer.status_code == 401 and error["status"] == 401 and error["code"] == "unauthenticated")


def log_of(world: World, action: str) -> list[tuple[str, str | None, str]]:
    entries = world.client.get("/api/access-log", headers=world.coordinator).json()
    return [(e["actor"], e["operation_id"], e["path"]) for e in entries if e["action"] == action]


def test_a_disabled_user_is_refused_at_once_and_may_be_enabled_again(world: World) -> None:
    people = world.url("/people")
    old_token = world.tokens["registrar"]
    assert world.client.get(people, headers=bearer(old_token)).status_code == 200

    answer = world.client.post("/api/users/registrar-user/disable", headers=world.coordinator)
    assert answer.status_code == 200 and answer.json()["disabled"] is True
    assert unauthenticated(world.client.get(people, headers=bearer(old_token)))
    login = world.client.post("/api/auth/token", data={"username": "registrar-user", "password": PASSWORD})
    assert unauthenticated(login)

    answer = world.client.post("/api/users/registrar-user/enable", headers=world.coordinator)
    assert answer.status_code == 200 and answer.json()["disabled"] is False
    assert unauthenticated(world.client.get(people, headers=bearer(old_token)))  # tokens stay dead
    assert world.client.get(people, headers=bearer(world.login("registrar-user"))).status_code == 200

    assert log_of(world, "user.disabled") == [("user:coordinator", None, "/api/users/registrar-user/disable")]
    assert log_of(world, "user.enabled") == [("user:coordinator", None, "/api/users/registrar-user/enable")]


def test_disabling_oneself_or_nobody_is_refused(world: World) -> None:
    itself = world.client.post("/api/users/coordinator/disable", headers=world.coordinator)
    assert itself.status_code == 409 and itself.json()["error"]["where"] == "username"
    nobody = world.client.post("/api/users/nobody/disable", headers=world.coordinator)
    assert nobody.status_code == 404
    assert world.client.get("/api/operations", headers=world.coordinator).status_code == 200
    assert log_of(world, "user.disabled") == []


def test_a_user_changes_their_own_password(world: World) -> None:
    other_session = world.login("monitor-user")
    token = world.tokens["monitor"]
    change = "/api/auth/password"

    wrong = world.client.post(
        change, json={"old_password": "not it at all", "new_password": NEW_PASSWORD}, headers=bearer(token)
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["where"] == "old_password"
    short = world.client.post(
        change, json={"old_password": PASSWORD, "new_password": "short"}, headers=bearer(token)
    )
    assert short.status_code == 422 and short.json()["error"]["where"] == "body.new_password"
    same = world.client.post(
        change, json={"old_password": PASSWORD, "new_password": PASSWORD}, headers=bearer(token)
    )
    assert same.status_code == 422 and same.json()["error"]["where"] == "new_password"

    done = world.client.post(
        change, json={"old_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=bearer(token)
    )
    assert done.status_code == 204, done.text
    assert world.client.get(world.url(), headers=bearer(token)).status_code == 200  # this token stays
    assert unauthenticated(world.client.get(world.url(), headers=bearer(other_session)))
    old = world.client.post("/api/auth/token", data={"username": "monitor-user", "password": PASSWORD})
    assert unauthenticated(old)
    new = world.client.post("/api/auth/token", data={"username": "monitor-user", "password": NEW_PASSWORD})
    assert new.status_code == 200
    assert log_of(world, "password.changed") == [("user:monitor-user", None, "/api/auth/password")]


def test_a_user_without_any_role_may_change_their_password_and_a_device_may_not(world: World) -> None:
    made = world.client.post(
        "/api/users", json={"username": "newcomer", "password": PASSWORD}, headers=world.coordinator
    )
    assert made.status_code == 201 and made.json()["disabled"] is False
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    answer = world.client.post("/api/auth/password", json=body, headers=bearer(world.login("newcomer")))
    assert answer.status_code == 204
    device = world.client.post("/api/auth/password", json=body, headers=world.device)
    assert device.status_code == 403 and device.json()["error"]["code"] == "forbidden"
    assert log_of(world, "user.created")[0] == ("user:coordinator", None, "/api/users/newcomer")  # newest


def test_taking_a_role_back_applies_to_the_next_request(world: World) -> None:
    planner = world.as_role("planner")
    assert world.client.get(world.url("/reconciliation"), headers=planner).status_code == 200
    taken = world.client.delete(world.url("/members/planner-user/planner"), headers=world.coordinator)
    assert taken.status_code == 204
    assert world.client.get(world.url("/reconciliation"), headers=planner).status_code == 403
    again = world.client.delete(world.url("/members/planner-user/planner"), headers=world.coordinator)
    assert again.status_code == 404 and again.json()["error"]["where"] == "role"
    # A role held in every operation is not taken from one operation.
    globally = world.client.delete(world.url("/members/coordinator/coordinator"), headers=world.coordinator)
    assert globally.status_code == 404
    bad_role = world.client.delete(world.url("/members/planner-user/admiral"), headers=world.coordinator)
    assert bad_role.status_code == 422
    assert log_of(world, "member.revoked") == [
        ("user:coordinator", world.operation_id, world.url("/members/planner-user/planner"))
    ]
    assert ("user:coordinator", world.operation_id, world.url("/members/planner-user/planner")) in log_of(
        world, "member.granted"
    )


def scan(n: int, person_id: str) -> dict[str, Any]:
    return {
        "event_id": f"scanner-1-{n}",
        "device_id": "scanner-1",
        "seq": n,
        "device_time": f"2016-12-15T10:{n:02d}:00Z",
        "type": "boarded",
        "payload": {"person_id": person_id, "point": "start"},
    }


def test_a_revoked_scanner_is_refused_at_once_and_its_events_stay(world: World) -> None:
    [person] = [
        p["id"] for p in world.household({"name": "Huda", "age_band": "18-59", "sex": "female"})["people"]
    ]
    events = world.url("/events")
    stored = world.client.post(events, json=scan(1, person), headers=world.device)
    assert stored.status_code == 201, stored.text

    revoked = world.client.post(world.url("/devices/scanner-1/revoke"), headers=world.coordinator)
    assert revoked.status_code == 200
    assert revoked.json()["device_id"] == "scanner-1" and revoked.json()["revoked_at"] is not None
    assert unauthenticated(world.client.post(events, json=scan(2, person), headers=world.device))
    again = world.client.post(world.url("/devices/scanner-1/revoke"), headers=world.coordinator)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]

    status = world.client.get(world.url(f"/status/person/{person}"), headers=world.coordinator).json()
    assert status["status"] == "boarded"
    assert world.client.get("/api/ledger/verify", headers=world.coordinator).json()["ok"] is True
    unknown = world.client.post(world.url("/devices/scanner-9/revoke"), headers=world.coordinator)
    assert unknown.status_code == 404
    assert (
        log_of(world, "device.revoked")
        == [("user:coordinator", world.operation_id, world.url("/devices/scanner-1/revoke"))] * 2
    )


def test_a_scanner_of_another_operation_cannot_be_revoked_from_this_one(world: World) -> None:
    other = world.client.post(
        "/api/operations",
        json={
            "name": "Madaya",
            "scenario_name": "madaya",
            "route": [
                {"id": "a", "name": "A", "kind": "departure", "expected_minutes": 0},
                {"id": "b", "name": "B", "kind": "arrival", "expected_minutes": 9},
            ],
        },
        headers=world.coordinator,
    ).json()["id"]
    answer = world.client.post(f"/api/operations/{other}/devices/scanner-1/revoke", headers=world.coordinator)
    assert answer.status_code == 404
    [person] = [
        p["id"] for p in world.household({"name": "Huda", "age_band": "18-59", "sex": "female"})["people"]
    ]
    still = world.client.post(world.url("/events"), json=scan(1, person), headers=world.device)
    assert still.status_code == 201, still.text
    assert log_of(world, "device.revoked") == []
