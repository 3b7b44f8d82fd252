"""Incidents and evidence: files stored by SHA-256, never altered, custody in the ledger."""

from __future__ import annotations

import hashlib
from typing import Any

from corridor.server.encryption import Sealer
from server.conftest import World

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def incident(world: World, **changes: Any) -> dict[str, Any]:
    body = {
        "kind": "detention",
        "occurred_at": "2016-12-15T10:25:00+02:00",
        "place_name": "Ramouseh checkpoint",
        "pcode": "SY020100",
        "admin_level": 3,
        "description": "Bus stopped; 3 men taken off by armed men / أُنزل ثلاثة رجال",
        "vehicles": ["bus-1"],
        **changes,
    }
    answer = world.client.post(world.url("/incidents"), json=body, headers=world.as_role("monitor"))
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def ledger_types(world: World) -> list[str]:
    text = world.client.get(world.url("/exports/events.csv"), headers=world.coordinator).text
    return [line.split(",")[6] for line in text.splitlines()[1:]]


def test_an_incident_is_recorded_in_the_ledger(world: World) -> None:
    world.vehicle("bus-1")
    made = incident(world)
    assert made["occurred_at"].startswith("2016-12-15T08:25:00")  # kept in UTC
    assert made["reported_by"] == "user:monitor-user" and made["ledger_event_id"].startswith("server-")
    listed = world.client.get(world.url("/incidents"), headers=world.coordinator).json()
    assert listed[0]["description"].endswith("أُنزل ثلاثة رجال")
    assert ledger_types(world) == ["incident"]


def test_an_incident_naming_unknown_people_is_refused(world: World) -> None:
    answer = world.client.post(
        world.url("/incidents"),
        json={
            "kind": "shelling",
            "occurred_at": "2016-12-15T10:25:00Z",
            "description": "x",
            "people": ["nobody"],
        },
        headers=world.coordinator,
    )
    assert answer.status_code == 422 and answer.json()["error"]["where"] == "people"


def test_evidence_is_kept_byte_for_byte_encrypted_with_custody_events(world: World) -> None:
    world.vehicle("bus-1")
    made = incident(world)
    digest = hashlib.sha256(PHOTO).hexdigest()
    upload = world.client.post(
        world.url(f"/incidents/{made['id']}/evidence"),
        files={"file": ("photo.png", PHOTO, "image/png")},
        data={"note": "taken by driver"},
        headers=world.as_role("monitor"),
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["sha256"] == digest and upload.json()["size"] == len(PHOTO)
    stored = world.settings.data_dir / "evidence" / digest[:2] / digest
    assert PHOTO[:64] not in stored.read_bytes()  # encrypted at rest
    back = world.client.get(world.url(f"/evidence/{digest}"), headers=world.coordinator)
    assert back.content == PHOTO and back.headers["X-Content-SHA256"] == digest
    assert ledger_types(world) == ["incident", "evidence_received", "evidence_accessed"]
    # the same file again changes nothing
    again = world.client.post(
        world.url(f"/incidents/{made['id']}/evidence"),
        files={"file": ("copy.png", PHOTO, "image/png")},
        headers=world.coordinator,
    )
    assert again.json()["filename"] == "photo.png"
    assert world.client.get("/api/ledger/verify", headers=world.coordinator).json()["ok"]


def test_a_changed_evidence_file_is_detected(world: World) -> None:
    made = incident(world, vehicles=[])
    world.client.post(
        world.url(f"/incidents/{made['id']}/evidence"),
        files={"file": ("a.bin", b"original", "application/octet-stream")},
        headers=world.coordinator,
    )
    digest = hashlib.sha256(b"original").hexdigest()
    path = world.settings.data_dir / "evidence" / digest[:2] / digest
    # a swap encrypted with the right key: only the hash check can tell
    path.write_bytes(Sealer.from_file(world.settings.key_file).seal_bytes(b"swapped"))
    answer = world.client.get(world.url(f"/evidence/{digest}"), headers=world.coordinator)
    assert answer.status_code == 409 and "no longer matches" in answer.json()["error"]["message"]
