"""The one JSON error shape, pinned: every kind of failure answers in it, never with a traceback."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.conftest import World, bearer

SHAPE = {"status", "code", "message", "where", "hint", "details"}


def assert_shape(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == SHAPE
    assert error["status"] == status and error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    assert "Traceback" not in answer.text
    return error


def test_no_credentials_is_401_with_a_hint(world: World) -> None:
    answer = world.client.get(world.url("/people"))
    error = assert_shape(answer, 401, "unauthenticated")
    assert "/api/auth/token" in error["hint"]
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert_shape(world.client.get(world.url(), headers=bearer("usr_forged")), 401, "unauthenticated")


def test_wrong_role_is_403_naming_the_roles_needed(world: World) -> None:
    error = assert_shape(
        world.client.get(world.url("/people"), headers=world.as_role("observer")), 403, "forbidden"
    )
    assert "registrar" in error["hint"]


def test_unknown_things_are_404(world: World) -> None:
    assert_shape(world.client.get("/api/nowhere"), 404, "not_found")
    error = assert_shape(
        world.client.get(world.url("/people/nobody"), headers=world.coordinator), 404, "not_found"
    )
    assert error["where"] == "person_id"


def test_wrong_method_is_405(world: World) -> None:
    assert_shape(world.client.delete("/api/health"), 405, "method_not_allowed")


def test_invalid_body_lists_every_field_at_fault(world: World) -> None:
    answer = world.client.post(
        world.url("/households"),
        json={"people": [{"name": "", "age_band": "old", "sex": "female"}]},
        headers=world.coordinator,
    )
    error = assert_shape(answer, 422, "invalid")
    places = {d["where"] for d in error["details"]}
    assert {"body.people.0.name", "body.people.0.age_band"} <= places
    assert error["where"] in places and error["hint"]


def test_malformed_json_is_a_422_not_a_crash(world: World) -> None:
    answer = world.client.post(
        world.url("/households"),
        content=b"{not json",
        headers={**world.coordinator, "Content-Type": "application/json"},
    )
    assert_shape(answer, 422, "invalid")


def test_conflict_is_409(world: World) -> None:
    answer = world.client.post(
        "/api/operations",
        json={
            "name": "East Aleppo",
            "scenario_name": "x",
            "route": [
                {"id": "a", "name": "A", "kind": "departure", "expected_minutes": 0},
                {"id": "b", "name": "B", "kind": "arrival", "expected_minutes": 5},
            ],
        },
        headers=world.coordinator,
    )
    assert assert_shape(answer, 409, "conflict")["where"] == "name"


def test_an_unexpected_failure_is_500_without_a_traceback(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/api/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/boom")
    error = assert_shape(answer, 500, "internal")
    assert "secret internals" not in answer.text and error["hint"]
