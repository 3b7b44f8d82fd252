"""The incidents page's routes without a browser, on SQLite and PostgreSQL: who may read and who
may report, evidence stored through the API's services (by SHA-256, custody in the ledger)."""

from __future__ import annotations

import hashlib
import re

from server.conftest import PASSWORD, World

HTMX = {"HX-Request": "true", "Accept": "text/html"}
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _log_in(world: World, username: str) -> dict[str, str]:
    client = world.client
    client.headers.pop("Authorization", None)
    answer = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return {**HTMX, "X-CSRF-Token": client.cookies["corridor_csrf"]}


def _page(world: World, tail: str = "") -> str:
    return f"/operations/{world.operation_id}/incidents{tail}"


def _form(**changes: str) -> dict[str, str]:
    return {
        "kind": "detention",
        "occurred_at": "2016-12-15T10:25",
        "utc_offset": "120",
        "point": "cp1",
        "place": "",
        "lat": "36.1712",
        "lon": "37.119",
        "vehicles": "bus-1",
        "people": "",
        "description": "Three men taken off the bus / أُنزل ثلاثة رجال",
        **changes,
    }


def _ledger_types(world: World) -> list[str]:
    text = world.client.get(world.url("/exports/events.csv"), headers=world.coordinator).text
    return [line.split(",")[6] for line in text.splitlines()[1:]]


def test_without_a_session_the_pages_go_to_log_in(world: World) -> None:
    for tail in ("", "/new"):
        answer = world.client.get(_page(world, tail), headers={"Accept": "text/html"}, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={_page(world, tail)}"


def test_an_observer_may_neither_read_nor_report(world: World) -> None:
    headers = _log_in(world, "observer-user")
    assert world.client.get(_page(world), headers={"Accept": "text/html"}).status_code == 403
    assert world.client.get(_page(world, "/new"), headers={"Accept": "text/html"}).status_code == 403
    refused = world.client.post(_page(world), data=_form(), headers=headers)
    assert refused.status_code == 403 and 'class="alert bad"' in refused.text
    assert world.client.get(world.url("/incidents"), headers=world.coordinator).json() == []


def test_a_monitor_reports_with_a_photo_stored_by_its_sha256(world: World) -> None:
    world.vehicle("bus-1")
    headers = _log_in(world, "monitor-user")
    assert 'name="files"' in world.client.get(_page(world), headers={"Accept": "text/html"}).text
    files = {"files": ("gate.png", PHOTO, "image/png")}
    answer = world.client.post(_page(world), data=_form(), files=files, headers=headers)
    assert answer.status_code == 201, answer.text
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert f'data-sha256="{digest}"' in answer.text
    assert 'id="timeline" hx-swap-oob="true"' in answer.text  # the monitor's timeline is refreshed
    listed = world.client.get(world.url("/incidents"), headers=world.coordinator).json()
    assert len(listed) == 1
    made = listed[0]
    assert made["occurred_at"].startswith("2016-12-15T08:25:00")  # 10:25 at UTC+2
    assert made["place_name"] == "Ramouseh" and made["pcode"] == "SY020100" and made["admin_level"] == 3
    assert (made["lat"], made["lon"], made["vehicles"]) == (36.1712, 37.119, ["bus-1"])
    assert made["reported_by"] == "user:monitor-user"
    assert [e["sha256"] for e in made["evidence"]] == [digest]
    assert _ledger_types(world) == ["incident", "evidence_received"]
    original = world.client.get(world.url(f"/evidence/{digest}"), headers=world.coordinator)
    assert original.content == PHOTO
    timeline = world.client.get(_page(world), headers={"Accept": "text/html"}).text
    assert digest[:12] in timeline and '"lat": 36.1712' in timeline
    # The timeline names the reporter, not the device the report was recorded under.
    assert "monitor-user" in timeline and "user:monitor-user" not in timeline


def test_a_marshal_reports_with_a_photo_on_the_form_alone(world: World) -> None:
    headers = _log_in(world, "checkpoint_marshal-user")
    assert world.client.get(_page(world), headers={"Accept": "text/html"}).status_code == 403
    form = world.client.get(_page(world, "/new"), headers={"Accept": "text/html"})
    assert form.status_code == 200 and 'name="files"' in form.text and 'id="timeline"' not in form.text
    files = {"files": ("gate.png", PHOTO, "image/png")}
    reported = world.client.post(_page(world), data=_form(vehicles=""), files=files, headers=headers)
    assert reported.status_code == 201 and 'id="timeline"' not in reported.text
    stored = world.client.get(world.url("/incidents"), headers=world.coordinator).json()
    assert len(stored) == 1 and len(stored[0]["evidence"]) == 1


def test_errors_are_given_next_to_their_fields_and_nothing_is_stored(world: World) -> None:
    headers = _log_in(world, "monitor-user")
    bad = _form(kind="", description="", lat="north", point="nowhere", occurred_at="yesterday")
    answer = world.client.post(_page(world), data=bad, headers=headers)
    assert answer.status_code == 422
    marked = dict(re.findall(r'id="([\w-]+)-error" hx-swap-oob="true">([^<]*)<', answer.text))
    assert marked["kind"] == "Required" and marked["description"] == "Required"
    assert set(marked) == {"kind", "description", "lat", "point", "occurred_at"}
    unknown = world.client.post(_page(world), data=_form(vehicles="BUS-99"), headers=headers)
    assert unknown.status_code == 422
    assert 'id="vehicles-error" hx-swap-oob="true">no vehicle' in unknown.text
    assert world.client.get(world.url("/incidents"), headers=world.coordinator).json() == []
    assert _ledger_types(world) == []
