"""The JSON API keeps the safeguards of the admin pages, on SQLite and PostgreSQL.

``POST /api/users`` refuses a name mixing scripts with look-alike letters (422) or reading as an
existing user's name once case and letter forms are set aside (409); ``POST /api/operations`` and
``PATCH /api/operations/{id}`` refuse overlapping ceasefire windows (422); the last enabled
coordinator of every operation is not disabled (409). Each answer names the field; nothing is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from server.conftest import PASSWORD, ROUTE, WINDOWS, World

OVERLAPPING = [
    {"start": "2016-12-15T06:00:00Z", "end": "2016-12-15T18:00:00Z"},
    {"start": "2016-12-15T12:00:00Z", "end": "2016-12-16T06:00:00Z"},
]
TOUCHING = [
    {"start": "2016-12-15T06:00:00Z", "end": "2016-12-15T18:00:00Z"},
    {"start": "2016-12-15T18:00:00Z", "end": "2016-12-16T06:00:00Z"},
]


def _refused(answer: Any, status: int, where: str, words: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["where"] == where, error
    assert words in error["message"], error


def _usernames(client: TestClient, world: World) -> list[str]:
    """The user names stored, as the access log of creations tells (one entry per user made)."""
    log = client.get("/api/access-log", params={"limit": 1000}, headers=world.coordinator)
    assert log.status_code == 200, log.text
    return sorted(e["path"] for e in log.json() if e["action"] == "user.created")


def test_api_refuses_what_the_admin_pages_refuse_and_stores_nothing(world: World) -> None:
    client = world.client
    users_before = _usernames(client, world)

    # User names that pass for another.
    for name, status, words in (
        ("сoordinator", 422, "look alike"),  # a Cyrillic "с"
        ("Coordinator", 409, "reads as the existing user"),
        ("ｃｏｏｒｄｉｎａｔｏｒ", 409, "reads as the existing user"),
        ("Planner-User", 409, "reads as the existing user"),
    ):
        answer = client.post(
            "/api/users", json={"username": name, "password": PASSWORD}, headers=world.coordinator
        )
        _refused(answer, status, "username", words)
    assert _usernames(client, world) == users_before
    for name in ("сoordinator", "Coordinator", "Planner-User"):
        refused = client.post("/api/auth/token", data={"username": name, "password": PASSWORD})
        assert refused.status_code == 401, (name, refused.text)

    # A name in one script is still welcome (Arabic here).
    made = client.post(
        "/api/users", json={"username": "منسق", "password": PASSWORD}, headers=world.coordinator
    )
    assert made.status_code == 201, made.text

    # Overlapping windows, on creation and on change.
    listed = client.get("/api/operations", headers=world.coordinator).json()
    created = client.post(
        "/api/operations",
        json={"name": "Overlap", "scenario_name": "s", "route": ROUTE, "windows": OVERLAPPING},
        headers=world.coordinator,
    )
    _refused(created, 422, "windows", "overlap")
    assert client.get("/api/operations", headers=world.coordinator).json() == listed

    changed = client.patch(world.url(), json={"windows": OVERLAPPING}, headers=world.coordinator)
    _refused(changed, 422, "windows", "overlap")
    stored = client.get(world.url(), headers=world.coordinator).json()
    assert [(w["start"][:16], w["end"][:16]) for w in stored["windows"]] == [
        (w["start"][:16], w["end"][:16]) for w in WINDOWS
    ]

    # Windows that only touch are not overlapping.
    touching = client.patch(world.url(), json={"windows": TOUCHING}, headers=world.coordinator)
    assert touching.status_code == 200, touching.text
    assert len(touching.json()["windows"]) == 2

    # The last enabled coordinator of every operation stays enabled.
    kept = client.post("/api/users/coordinator/disable", headers=world.coordinator)
    _refused(kept, 409, "username", "last enabled coordinator")
    assert client.get("/api/operations", headers=world.coordinator).status_code == 200
