"""Access: every endpoint tried with every role, a device, an outsider and no credentials; the
access log of personal data."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from server.conftest import PASSWORD, World, bearer

C, P, R, M, MO, OBS = (
    "coordinator",
    "planner",
    "registrar",
    "checkpoint_marshal",
    "monitor",
    "observer",
)
EVERY_ROLE = {C, P, R, M, MO, OBS}
DEVICE, OUTSIDER = "device", "outsider"
OP = "/api/operations/{operation_id}"
PUBLIC = {("POST", "/api/auth/token"), ("GET", "/api/health")}

# Who may call what: written out here on its own, not read from the code under test.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("POST", "/api/users"): {C},
    ("POST", "/api/users/{username}/disable"): {C},
    ("POST", "/api/users/{username}/enable"): {C},
    ("POST", "/api/auth/password"): EVERY_ROLE | {OUTSIDER},
    ("GET", "/api/access-log"): {C},
    ("GET", "/api/operations"): EVERY_ROLE | {OUTSIDER},
    ("POST", "/api/operations"): {C},
    ("GET", "/api/ledger/verify"): {C},  # reads every operation: a role in every operation only
    ("POST", "/api/ledger/checkpoints"): {C},  # the whole ledger's head: a role in every operation only
    ("GET", "/api/ledger/head"): {C},
    ("GET", OP): EVERY_ROLE,
    ("PATCH", OP): {C, P},
    ("POST", OP + "/purge"): {C},
    ("POST", OP + "/members"): {C},
    ("DELETE", OP + "/members/{username}/{role}"): {C},
    ("POST", OP + "/devices"): {C},
    ("POST", OP + "/devices/{device_id}/revoke"): {C},
    ("GET", OP + "/plan"): EVERY_ROLE,
    ("POST", OP + "/plan"): {C, P},
    ("GET", OP + "/plans"): EVERY_ROLE,
    ("GET", OP + "/plans/{version}"): EVERY_ROLE,
    ("POST", OP + "/plan/jobs"): {C, P},  # a plan job costs CPU on the cluster
    ("GET", OP + "/jobs"): EVERY_ROLE,
    ("GET", OP + "/jobs/{job_id}"): EVERY_ROLE,
    ("POST", OP + "/jobs/{job_id}/cancel"): {C, P},
    ("POST", OP + "/households"): {C, R},
    ("GET", OP + "/people"): {C, R, M, MO},
    ("GET", OP + "/people/duplicates"): {C, R, M, MO},
    ("GET", OP + "/people/{person_id}"): {C, R, M, MO},
    ("DELETE", OP + "/people/{person_id}/tracing"): {C, R},
    ("POST", OP + "/imports/registrations"): {C, R},
    ("POST", OP + "/events"): {C, M, DEVICE},
    ("POST", OP + "/events/batch"): {C, M, DEVICE},
    ("GET", OP + "/roster"): {C, M, DEVICE},  # a scanning phone's people at its point
    ("GET", OP + "/clocks"): {C, P, M, MO},
    ("GET", OP + "/counts"): EVERY_ROLE,
    ("GET", OP + "/reconciliation"): {C, P, M, MO},
    ("GET", OP + "/status/{kind}/{subject_id}"): {C, P, M, MO},
    ("POST", OP + "/vehicles"): {C, P},
    ("GET", OP + "/vehicles"): {C, P, R, M, MO},
    ("POST", OP + "/manifests"): {C, P},
    ("GET", OP + "/vehicles/{code}/manifest"): {C, R, M},
    ("POST", OP + "/convoy"): {C, P},
    ("POST", OP + "/convoy/jobs"): {C, P},  # a convoy plan job costs CPU on the cluster
    ("GET", OP + "/convoys"): EVERY_ROLE,
    ("GET", OP + "/convoys/{version}"): EVERY_ROLE,
    ("GET", OP + "/trips"): {C, P, M, MO},
    ("POST", OP + "/incidents"): {C, M, MO},
    ("GET", OP + "/incidents"): {C, MO},
    ("POST", OP + "/incidents/{incident_id}/evidence"): {C, M, MO},
    ("GET", OP + "/evidence/{sha256}"): {C, MO},
    ("GET", OP + "/exports/people.csv"): {C, R, P, MO},
    ("GET", OP + "/exports/events.csv"): {C, MO},
    ("GET", OP + "/exports/incidents.csv"): {C, MO},
    ("GET", OP + "/exports/people.hxl.csv"): {C, R, P, MO},
    ("GET", OP + "/exports/events.hxl.csv"): {C, MO},
    ("GET", OP + "/exports/incidents.hxl.csv"): {C, MO},
    ("GET", OP + "/exports/counts.hxl.csv"): EVERY_ROLE,
    ("GET", OP + "/exports/operation.geojson"): EVERY_ROLE,
    ("GET", OP + "/exports/registration-form.xlsx"): {C, R},
}


def outsider_token(world: World) -> str:
    """A coordinator of another operation only."""
    client = world.client
    other = client.post(
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
    client.post("/api/users", json={"username": "outsider", "password": PASSWORD}, headers=world.coordinator)
    client.post(
        f"/api/operations/{other}/members",
        json={"username": "outsider", "role": C},
        headers=world.coordinator,
    )
    return world.login("outsider")


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    if method in ("POST", "PATCH"):
        return client.request(method, path, json={}, headers=headers)
    return client.request(method, path, headers=headers)


def test_every_endpoint_is_in_the_matrix(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    endpoints = {(m.upper(), p) for p, methods in paths.items() for m in methods}
    assert endpoints == set(MATRIX) | PUBLIC


def test_role_by_endpoint_matrix(world: World) -> None:
    actors = {role: world.as_role(role) for role in EVERY_ROLE}
    actors[DEVICE] = world.device
    actors[OUTSIDER] = bearer(outsider_token(world))
    values = {
        "operation_id": world.operation_id,
        "person_id": "x",
        "kind": "person",
        "subject_id": "x",
        "code": "bus-1",
        "incident_id": "x",
        "sha256": "0" * 64,
        "username": "x",
        "role": "observer",
        "device_id": "x",
        "version": "1",
        "job_id": "x",
    }
    wrong = []
    for (method, template), allowed in MATRIX.items():
        path = template.format(**values)
        anonymous = call(world.client, method, path, {})
        if anonymous.status_code != 401:
            wrong.append(f"{method} {template} without credentials: {anonymous.status_code}")
        for actor, headers in actors.items():
            status = call(world.client, method, path, headers).status_code
            ok = status not in (401, 403)
            if ok != (actor in allowed):
                wrong.append(f"{method} {template} as {actor}: {status}")
    assert wrong == []


def test_reads_of_personal_data_are_logged_allowed_or_denied(world: World) -> None:
    world.household({"name": "Amal", "age_band": "18-59", "sex": "female"})
    assert world.client.get(world.url("/people"), headers=world.as_role(R)).status_code == 200
    assert world.client.get(world.url("/people"), headers=world.as_role(OBS)).status_code == 403
    assert world.client.get(world.url("/people")).status_code == 401
    log = world.client.get(
        f"/api/access-log?operation={world.operation_id}", headers=world.coordinator
    ).json()
    reads = [(e["actor"], e["decision"]) for e in log if e["action"] == "people.read"]
    assert reads == [("anonymous", "deny"), ("user:observer-user", "deny"), ("user:registrar-user", "allow")]
    assert world.client.get("/api/access-log", headers=world.as_role(R)).status_code == 403


def test_a_device_acts_only_in_its_own_operation(world: World) -> None:
    token = outsider_token(world)
    operations = world.client.get("/api/operations", headers=bearer(token)).json()
    [madaya] = [o["id"] for o in operations]
    answer = world.client.post(
        f"/api/operations/{madaya}/events/batch", json={"events": []}, headers=world.device
    )
    assert answer.status_code == 403


def test_wrong_password_and_unknown_user_look_the_same(world: World) -> None:
    a = world.client.post("/api/auth/token", data={"username": "coordinator", "password": "nope"})
    b = world.client.post("/api/auth/token", data={"username": "nobody", "password": "nope"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()
