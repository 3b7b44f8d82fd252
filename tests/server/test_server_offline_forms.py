"""Forms sent from a phone's offline queue carry the id the phone gave them (``client_id``): a resend
is stored once and answers what the first send stored, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from corridor.server.db import Database
from corridor.server.incidents.tables import EvidenceFile, Incident
from corridor.server.registration.tables import Household, Person
from server.conftest import PASSWORD, World

HTMX = {"HX-Request": "true", "Accept": "text/html"}
CLIENT_ID = "0b6f3f0e-7c1a-4d51-9a44-2b1f3c5d6e7f"


def _log_in(world: World, username: str) -> dict[str, str]:
    client = world.client
    client.headers.pop("Authorization", None)
    answer = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return {**HTMX, "X-CSRF-Token": client.cookies["corridor_csrf"]}


def _count(world: World, *query: object) -> int:
    db = Database(world.settings.database_url)
    with db.reading() as session:
        found = session.scalar(select(func.count()).select_from(*query))  # type: ignore[arg-type]
    db.dispose()
    return int(found or 0)


def test_a_household_sent_twice_is_stored_once(world: World) -> None:
    headers = _log_in(world, "registrar-user")
    url = f"/operations/{world.operation_id}/register"
    form = {"client_id": CLIENT_ID, "p-0-name": "Rana Offline", "p-0-sex": "female", "p-0-age_band": "18-59"}
    first = world.client.post(url, data=form, headers=headers)
    assert first.status_code == 201, first.text
    again = world.client.post(url, data=form | {"p-0-name": "Changed meanwhile"}, headers=headers)
    assert again.status_code == 200, again.text
    assert "Rana Offline" in again.text and "Changed meanwhile" not in again.text
    assert _count(world, Household) == 1 and _count(world, Person) == 1
    # Another client id is another household; an id that is not a UUID is refused.
    other = world.client.post(url, data=form | {"client_id": CLIENT_ID[:-1] + "0"}, headers=headers)
    assert other.status_code == 201
    bad = world.client.post(url, data=form | {"client_id": "not-a-uuid"}, headers=headers)
    assert bad.status_code == 422 and "client_id" in bad.text
    assert _count(world, Household) == 2


def test_an_incident_with_a_file_sent_twice_is_stored_once(world: World) -> None:
    headers = _log_in(world, "checkpoint_marshal-user")
    url = f"/operations/{world.operation_id}/incidents"
    form = {
        "client_id": CLIENT_ID,
        "kind": "shooting",
        "occurred_at": "2016-12-15T10:30",
        "utc_offset": "120",
        "description": "Shots near the bus",
    }
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    for expected in (201, 200):
        files = {"files": ("shots.png", photo, "image/png")}
        answer = world.client.post(url, data=form, files=files, headers=headers)
        assert answer.status_code == expected, answer.text
        assert hashlib.sha256(photo).hexdigest()[:12] in answer.text
    assert _count(world, Incident) == 1 and _count(world, EvidenceFile) == 1
