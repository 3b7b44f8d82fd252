"""Ids that cannot collide: what a sender in one operation does never touches another operation.

Device ids, their sequence numbers and event ids are keys within an operation; the names the
service uses itself (``server``, ``user:<name>``) are refused for scanners.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from corridor.ops.ledger import SERVER_DEVICE, EventType, ScanEvent
from corridor.server.auth import token_digest
from corridor.server.db import Database, upgrade
from corridor.server.ledger import service as ledger
from server.conftest import PASSWORD, WINDOWS, World, _libpq, bearer

M = "checkpoint_marshal"
OTHER_ROUTE = [
    {"id": "a", "name": "A", "kind": "departure", "expected_minutes": 0},
    {"id": "b", "name": "B", "kind": "arrival", "expected_minutes": 9},
]


def other_operation(world: World) -> tuple[str, dict[str, str]]:
    """Operation B and the headers of its own coordinator (who has no role in A)."""
    client = world.client
    made = client.post(
        "/api/operations",
        json={"name": "Madaya", "scenario_name": "madaya", "route": OTHER_ROUTE, "windows": WINDOWS},
        headers=world.coordinator,
    )
    assert made.status_code == 201, made.text
    other = made.json()["id"]
    user = client.post(
        "/api/users", json={"username": "b-lead", "password": PASSWORD}, headers=world.coordinator
    )
    assert user.status_code == 201, user.text
    granted = client.post(
        f"/api/operations/{other}/members",
        json={"username": "b-lead", "role": "coordinator"},
        headers=world.coordinator,
    )
    assert granted.status_code == 204, granted.text
    return other, bearer(world.login("b-lead"))


def enrol(world: World, operation_id: str, headers: dict[str, str], device_id: str, point: str) -> Any:
    return world.client.post(
        f"/api/operations/{operation_id}/devices",
        json={"device_id": device_id, "label": "scanner", "point": point},
        headers=headers,
    )


def event(device_id: str, seq: int, event_id: str, **payload: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "device_id": device_id,
        "seq": seq,
        "device_time": "2016-12-15T10:00:00Z",
        "type": "checkpoint",
        "payload": payload,
    }


def person_in(world: World, operation_id: str) -> str:
    answer = world.client.post(
        f"/api/operations/{operation_id}/households",
        json={"gathering_point": "gp", "people": [{"name": "Rana", "age_band": "18-59", "sex": "female"}]},
        headers=world.coordinator,
    )
    assert answer.status_code == 201, answer.text
    person: str = answer.json()["people"][0]["id"]
    return person


@pytest.mark.parametrize("name", ["server", "Server", "server:x", "user:checkpoint_marshal-user", "USER:x"])
def test_reserved_device_names_are_refused_naming_the_field(world: World, name: str) -> None:
    other, b_lead = other_operation(world)
    answer = enrol(world, other, b_lead, name, "a")
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["where"] == "device_id"
    assert "reserved" in error["message"]
    # A itself is untouched: registrations still work there.
    person_in(world, world.operation_id)


def test_the_same_device_id_in_two_operations(world: World) -> None:
    other, b_lead = other_operation(world)
    twin = enrol(world, other, b_lead, "scanner-1", "a")  # A has a scanner-1 already
    assert twin.status_code == 201, twin.text
    again = enrol(world, other, b_lead, "scanner-1", "a")
    assert again.status_code == 409 and again.json()["error"]["where"] == "device_id"
    in_a, in_b = person_in(world, world.operation_id), person_in(world, other)
    # Both scanner-1s send seq 1 with the same event id: each is its operation's own.
    b_scan = world.client.post(
        f"/api/operations/{other}/events",
        json=event("scanner-1", 1, "e-1", person_id=in_b, point="a"),
        headers=bearer(twin.json()["token"]),
    )
    assert b_scan.status_code == 201 and b_scan.json()["outcome"] == "stored", b_scan.text
    a_scan = world.client.post(
        world.url("/events"),
        json=event("scanner-1", 1, "e-1", person_id=in_a, point="start"),
        headers=world.device,
    )
    assert a_scan.status_code == 201 and a_scan.json()["outcome"] == "stored", a_scan.text
    repeat = world.client.post(
        world.url("/events"),
        json=event("scanner-1", 1, "e-1", person_id=in_a, point="start"),
        headers=world.device,
    )
    assert repeat.status_code == 200 and repeat.json()["outcome"] == "repeat"
    # Revoking B's scanner-1 leaves A's working.
    revoked = world.client.post(f"/api/operations/{other}/devices/scanner-1/revoke", headers=b_lead)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    later = world.client.post(
        world.url("/events"),
        json=event("scanner-1", 2, "e-2", person_id=in_a, point="cp1"),
        headers=world.device,
    )
    assert later.status_code == 201, later.text
    # Neither coordinator can revoke the other's scanner-1 by name.
    foreign = world.client.post(world.url("/devices/scanner-1/revoke"), headers=b_lead)
    assert foreign.status_code == 403


def test_a_marshal_of_two_operations_numbers_each_from_one(world: World) -> None:
    other, _ = other_operation(world)
    granted = world.client.post(
        f"/api/operations/{other}/members",
        json={"username": "checkpoint_marshal-user", "role": M},
        headers=world.coordinator,
    )
    assert granted.status_code == 204
    in_a, in_b = person_in(world, world.operation_id), person_in(world, other)
    device = "user:checkpoint_marshal-user"
    in_b_answer = world.client.post(
        f"/api/operations/{other}/events",
        json=event(device, 1, "b-1", person_id=in_b, point="a"),
        headers=world.as_role(M),
    )
    assert in_b_answer.status_code == 201, in_b_answer.text
    in_a_answer = world.client.post(
        world.url("/events"),
        json=event(device, 1, "a-1", person_id=in_a, point="start"),
        headers=world.as_role(M),
    )
    assert in_a_answer.status_code == 201 and in_a_answer.json()["outcome"] == "stored", in_a_answer.text
    # Within one operation a seq is still the device's once.
    clash = world.client.post(
        world.url("/events"),
        json=event(device, 1, "a-2", person_id=in_a, point="cp1"),
        headers=world.as_role(M),
    )
    assert clash.status_code == 409


def test_events_under_the_server_name_in_one_operation_leave_the_others_registering(world: World) -> None:
    """What a scanner named ``server`` in B could store before names were reserved (seq 1-50 in
    B's share of the ledger) does not stop A's registrations, which the server records as device
    ``server`` with its own seq 1, 2, ..."""
    other, _ = other_operation(world)
    db = Database(world.settings.database_url)
    squatted = [
        ScanEvent(
            f"squat-{n}", SERVER_DEVICE, n, datetime(2016, 12, 15, 10, tzinfo=UTC), EventType.CHECKPOINT, {}
        )
        for n in range(1, 51)
    ]
    with db.writing() as session:
        results = ledger.append(session, operation_id=other, events=squatted, validate=lambda _: None)
    db.dispose()
    assert {r.outcome for r in results} == {ledger.Outcome.STORED}
    for _ in range(3):
        person_in(world, world.operation_id)  # 201 each, not 500


def test_a_scanner_enrolled_under_a_reserved_name_before_sends_nothing(world: World) -> None:
    """A scanner enrolled as ``server`` before names were reserved (and not revoked) is refused
    when it sends, naming the device id."""
    token = "dev_enrolled-before-names-were-reserved"
    engine = create_engine(world.settings.database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO devices (device_id, operation_id, label, token_sha256, created_at)"
                " VALUES ('server', :o, 'old', :t, '2026-01-01 00:00:00')"
            ),
            {"o": world.operation_id, "t": token_digest(token)},
        )
    engine.dispose()
    person = person_in(world, world.operation_id)
    answer = world.client.post(
        world.url("/events"),
        json=event("server", 1000, "s-1", person_id=person, point="start"),
        headers=bearer(token),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["where"].endswith("device_id")
    person_in(world, world.operation_id)  # the server's own events go on


def _squat_before_the_migration(url: str) -> None:
    """Data as a version before 0004 let it be stored: operation B's scanner named ``server``
    sent seq 1-5, and B has scanners named ``server`` and ``user:amal``."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO operations (id, name, scenario_name, state, route, windows, linked_operations,"
                " created_at) VALUES ('opb', 'B', 's', 'active', '[]', '[]', '[]', '2026-01-01 00:00:00')"
            )
        )
        for name, digest in (("server", "1" * 64), ("user:amal", "2" * 64), ("gate", "3" * 64)):
            connection.execute(
                text(
                    "INSERT INTO devices (device_id, operation_id, label, token_sha256, created_at)"
                    " VALUES (:d, 'opb', 'x', :t, '2026-01-01 00:00:00')"
                ),
                {"d": name, "t": digest},
            )
        for seq in range(1, 6):
            connection.execute(
                text(
                    "INSERT INTO ledger_entries (position, operation_id, event_id, device_id, seq,"
                    " device_time,"
                    " received_at, type, payload, payload_sha256, previous_hash, entry_hash) VALUES"
                    " (:p, 'opb', :e, 'server', :s, '2026-01-01 00:00:00', '2026-01-01 00:00:00',"
                    " 'checkpoint', '{}', 'x', 'x', 'x')"
                ),
                {"p": seq, "e": f"squat-{seq}", "s": seq},
            )
        connection.execute(text("UPDATE ledger_head SET count = 5, server_seq = 2"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    """A database with no tables yet: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.db"
        return
    if postgres_url is None:
        pytest.skip("PostgreSQL is unreachable; only SQLite was tested")
    name = f"corridor_migrate_{secrets.token_hex(6)}"
    admin = psycopg.connect(_libpq(postgres_url), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_the_migration_revokes_reserved_scanners_and_moves_the_server_seq(empty_url: str) -> None:
    url = empty_url
    upgrade(url, "0003")
    _squat_before_the_migration(url)
    upgrade(url, "0004")
    engine = create_engine(url)
    with engine.connect() as connection:
        revoked: dict[str, bool] = dict(
            connection.execute(text("SELECT device_id, revoked_at IS NOT NULL FROM devices")).all()
        )
        server_seq = connection.execute(text("SELECT server_seq FROM ledger_head")).scalar_one()
    engine.dispose()
    assert revoked == {"server": True, "user:amal": True, "gate": False}
    assert server_seq == 5  # the next server event takes seq 6, above every squatted one
