"""Defects found by review: each test holds one of them fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.conftest import PASSWORD, World

T = "2016-12-15T10:{:02d}:00Z"


def scan(n: int, kind: str, minute: int, **payload: Any) -> dict[str, Any]:
    return {
        "event_id": f"scanner-1-{n}",
        "device_id": "scanner-1",
        "seq": n,
        "device_time": T.format(minute),
        "type": kind,
        "payload": payload,
    }


def person(world: World) -> str:
    household = world.household({"name": "Rana", "age_band": "18-59", "sex": "female"})
    person_id: str = household["people"][0]["id"]
    return person_id


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"person_id": 7, "point": "start"}, "payload.person_id"),
        ({"person_id": True, "point": "start"}, "payload.person_id"),
        ({"person_id": "", "point": "start"}, "payload.person_id"),
        ({"vehicle_id": 3, "point": "start"}, "payload.vehicle_id"),
        ({"person_id": "P", "point": 1}, "payload.point"),
        ({"person_id": "P", "point": None}, "payload.point"),
    ],
)
def test_a_subject_or_point_that_is_not_text_is_refused(
    world: World, payload: dict[str, Any], where: str
) -> None:
    p1 = person(world)
    payload = {k: (p1 if v == "P" else v) for k, v in payload.items()}
    kind = "departed" if "vehicle_id" in payload else "checkpoint"
    single = world.client.post(world.url("/events"), json=scan(1, kind, 1, **payload), headers=world.device)
    assert single.status_code == 422, single.text
    assert single.json()["error"]["where"].endswith(where)
    good = scan(2, "checkpoint", 2, person_id=p1, point="cp1")
    batch = world.client.post(
        world.url("/events/batch"), json={"events": [scan(1, kind, 1, **payload), good]}, headers=world.device
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["outcome"] for r in results] == ["rejected", "stored"]
    assert results[0]["where"].endswith(where)


def test_a_sequence_number_of_true_is_refused(world: World) -> None:
    p1 = person(world)
    event = {**scan(1, "checkpoint", 1, person_id=p1, point="cp1"), "seq": True}
    answer = world.client.post(world.url("/events"), json=event, headers=world.device)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["where"] == "body.seq"


@pytest.mark.parametrize(
    ("value", "words"), [("a" * 501, "500 characters"), ([1], "text, a number"), (2**64, "2^63")]
)
def test_a_bad_payload_value_is_named_by_its_key_alone(world: World, value: Any, words: str) -> None:
    p1 = person(world)
    event = scan(1, "checkpoint", 1, person_id=p1, point="cp1", note=value)
    answer = world.client.post(world.url("/events"), json=event, headers=world.device)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert [d["where"] for d in error["details"]] == ["body.payload.note"]
    assert error["where"] == "body.payload.note"
    assert words in error["message"]
    batch = world.client.post(world.url("/events/batch"), json={"events": [event]}, headers=world.device)
    [result] = batch.json()["results"]
    assert (result["outcome"], result["where"]) == ("rejected", "event.payload.note")


def test_a_closed_operation_gains_no_scanner_and_no_member(world: World) -> None:
    made = world.client.post(
        "/api/users", json={"username": "late", "password": PASSWORD}, headers=world.coordinator
    )
    assert made.status_code == 201, made.text
    closed = world.client.patch(world.url(), json={"state": "closed"}, headers=world.coordinator)
    assert closed.status_code == 200, closed.text
    device = world.client.post(
        world.url("/devices"), json={"device_id": "scanner-9", "label": "late"}, headers=world.coordinator
    )
    assert device.status_code == 409, device.text
    member = world.client.post(
        world.url("/members"), json={"username": "late", "role": "registrar"}, headers=world.coordinator
    )
    assert member.status_code == 409, member.text
    assert "token" not in device.json()
    revoked = world.client.post(world.url("/devices/scanner-1/revoke"), headers=world.coordinator)
    assert revoked.status_code == 200, revoked.text


def enrol(world: World, device_id: str) -> Any:
    return world.client.post(
        world.url("/devices"), json={"device_id": device_id, "label": "scanner"}, headers=world.coordinator
    )


@pytest.mark.parametrize("name", ["server.", "user", "userx:amarshal", "_Server_", "SERVER-2", "u.s.e.r"])
def test_scanner_ids_that_read_as_a_reserved_name_are_refused(world: World, name: str) -> None:
    answer = enrol(world, name)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["where"], "reserved" in error["message"]) == ("device_id", True)


@pytest.mark.parametrize("name", ["ｓerver", "scanner\u2011two", "gaté"])
def test_scanner_ids_outside_plain_ascii_are_refused(world: World, name: str) -> None:
    answer = enrol(world, name)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["where"] == "body.device_id"


@pytest.mark.parametrize("name", ["gate-2", "scanner_3", "cp1.north", "observer"])
def test_plain_scanner_ids_are_still_taken(world: World, name: str) -> None:
    answer = enrol(world, name)
    assert answer.status_code == 201, answer.text
    assert answer.json()["device_id"] == name


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_clearing_dated_ahead_does_not_hide_an_alarm_reported_after_it(world: World) -> None:
    """Detained now, arrived dated 4 minutes ahead, then missing: the arrival is placed at the
    time it was received, so the later missing stands."""
    p1 = person(world)
    marshal = world.as_role("checkpoint_marshal")
    device = "user:checkpoint_marshal-user"

    def send(seq: int, kind: str, when: datetime) -> None:
        event = {
            "event_id": f"m-{seq}",
            "device_id": device,
            "seq": seq,
            "device_time": _at(when),
            "type": kind,
            "payload": {"person_id": p1, "point": "cp1"},
        }
        answer = world.client.post(world.url("/events"), json=event, headers=marshal)
        assert answer.status_code == 201, answer.text

    now = datetime.now(UTC)
    send(1, "detained", now)
    send(2, "arrived", now + timedelta(minutes=4))
    send(3, "missing", datetime.now(UTC) + timedelta(seconds=1))
    status = world.client.get(world.url(f"/status/person/{p1}"), headers=world.coordinator)
    assert status.json()["status"] == "missing", status.text
    reconciliation = world.client.get(world.url("/reconciliation"), headers=world.coordinator).json()
    assert [(a["subject_id"], a["status"]) for a in reconciliation["alarms"]] == [(p1, "missing")]
    counts = world.client.get(world.url("/counts"), headers=world.coordinator).json()
    assert counts["people"].get("missing") == 1 and not counts["people"].get("arrived"), counts
