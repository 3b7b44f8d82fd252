"""The scanning screen's routes without a browser: the snapshot it judges scans from (who may
have it, what it holds), the page, the service worker, and the manifests page's assignment."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.conftest import PASSWORD, World


def _log_in(client: TestClient, username: str) -> None:
    answer = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def _scanned_world(world: World) -> dict[str, str]:
    """Two people on BUS-1 (one with a wristband), one boarded, one reported missing."""
    world.vehicle("BUS-1", seats=10)
    household = world.household(
        {"name": "Huda Haddad", "age_band": "18-59", "sex": "female", "wristband": "WB-1"},
        {"name": "Omar Haddad", "age_band": "5-11", "sex": "male"},
    )
    huda, omar = (p["id"] for p in household["people"])
    assert world.client.post(world.url("/manifests"), headers=world.coordinator).status_code == 200
    events = [
        {"type": "boarded", "payload": {"person_id": huda, "vehicle_id": "BUS-1", "point": "start"}},
        {"type": "missing", "payload": {"person_id": omar, "point": "cp1"}},
    ]
    batch = [
        {
            "event_id": f"e-{seq}",
            "device_id": "scanner-1",
            "seq": seq,
            "device_time": f"2016-12-15T08:0{seq}:00Z",
            **event,
        }
        for seq, event in enumerate(events, start=1)
    ]
    answer = world.client.post(world.url("/events/batch"), json={"events": batch}, headers=world.device)
    assert answer.json()["stored"] == 2, answer.text
    return {"huda": huda, "omar": omar}


def test_the_snapshot_holds_vehicle_wristband_status_and_names_for_a_marshal(world: World) -> None:
    people = _scanned_world(world)
    _log_in(world.client, "checkpoint_marshal-user")
    answer = world.client.get(f"/operations/{world.operation_id}/scan/snapshot")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert [p["id"] for p in body["route"]] == ["start", "cp1", "end"]
    assert body["names"] is True
    rows = {row[0]: row for row in body["people"]}
    assert rows[people["huda"]] == [people["huda"], "WB-1", "BUS-1", "boarded", 0, "Huda Haddad"]
    assert rows[people["omar"]] == [people["omar"], None, "BUS-1", "missing", -1, "Omar Haddad"]
    assert body["vehicles"] == [["BUS-1", "registered", -1]]


def test_the_snapshot_is_refused_to_an_observer_and_to_no_session(world: World) -> None:
    url = f"/operations/{world.operation_id}/scan/snapshot"
    nobody = world.client.get(url)
    assert nobody.status_code == 401
    assert nobody.json()["error"]["code"] == "unauthenticated"
    page = world.client.get(
        f"/operations/{world.operation_id}/scan", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next=/operations/{world.operation_id}/scan"
    _log_in(world.client, "observer-user")
    assert world.client.get(url).status_code == 403
    assert world.client.get(f"/operations/{world.operation_id}/scan").status_code == 403


def test_a_scanner_device_gets_the_snapshot_without_names(world: World) -> None:
    people = _scanned_world(world)
    answer = world.client.get(f"/operations/{world.operation_id}/scan/snapshot", headers=world.device)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["names"] is False
    assert {row[0]: row[5] for row in body["people"]} == {people["huda"]: None, people["omar"]: None}


def test_the_snapshot_with_names_is_in_the_access_log(world: World) -> None:
    _scanned_world(world)
    _log_in(world.client, "checkpoint_marshal-user")
    assert world.client.get(f"/operations/{world.operation_id}/scan/snapshot").status_code == 200
    log = world.client.get("/api/access-log", headers=world.coordinator)
    assert log.status_code == 200, log.text
    entries = [e for e in log.json() if e["path"].endswith("/scan/snapshot")]
    assert [(e["actor"], e["action"], e["decision"]) for e in entries] == [
        ("user:checkpoint_marshal-user", "manifest.read", "allow")
    ]


def test_the_scan_page_names_the_points_and_the_sender(world: World) -> None:
    world.vehicle("BUS-1")
    _log_in(world.client, "checkpoint_marshal-user")
    answer = world.client.get(f"/operations/{world.operation_id}/scan")
    assert answer.status_code == 200
    assert 'data-device="user:checkpoint_marshal-user"' in answer.text
    for point in ("start", "cp1", "end", "BUS-1"):
        assert f'value="{point}"' in answer.text
    assert "Huda" not in answer.text


def test_the_service_worker_is_served_from_the_root(world: World) -> None:
    answer = world.client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["service-worker-allowed"] == "/"
    assert answer.headers["content-type"].startswith("text/javascript")
    assert "corridor-scan-v1" in answer.text


def test_manifests_page_assigns_and_names_only_for_manifest_readers(world: World) -> None:
    world.vehicle("BUS-1", seats=10)
    world.household({"name": "Layla Khatib", "age_band": "18-59", "sex": "female"})
    client = world.client
    _log_in(client, "planner-user")
    listed = client.get(f"/operations/{world.operation_id}/manifests")
    assert listed.status_code == 200
    assert 'data-assigned="0"' in listed.text
    assert "/manifests/BUS-1" not in listed.text  # planners do not read names
    headers = {"HX-Request": "true", "X-CSRF-Token": client.cookies["corridor_csrf"]}
    built = client.post(f"/operations/{world.operation_id}/manifests/assign", headers=headers)
    assert built.status_code == 200, built.text
    assert "People assigned: 1." in built.text
    assert 'data-assigned="1"' in built.text
    assert client.get(f"/operations/{world.operation_id}/manifests/BUS-1").status_code == 403
    _log_in(client, "checkpoint_marshal-user")
    refused = client.post(
        f"/operations/{world.operation_id}/manifests/assign",
        headers={"HX-Request": "true", "X-CSRF-Token": client.cookies["corridor_csrf"]},
    )
    assert refused.status_code == 403
    printable = client.get(f"/operations/{world.operation_id}/manifests/BUS-1")
    assert printable.status_code == 200
    assert "Layla Khatib" in printable.text
    assert printable.headers["cache-control"] == "no-store"


def test_a_vehicle_manifest_in_arabic_names_needs_sex_and_age_in_arabic(world: World) -> None:
    """A manifest printed from the Arabic page says each person's needs, sex and age band in
    Arabic (the stored codes, such as ``elderly``, were shown as they are)."""
    world.vehicle("BUS-1", seats=10)
    world.household(
        {
            "name": "Layla Khatib",
            "age_band": "60+",
            "sex": "female",
            "vulnerabilities": ["elderly", "wheelchair"],
        }
    )
    client = world.client
    _log_in(client, "coordinator")
    headers = {"HX-Request": "true", "X-CSRF-Token": client.cookies["corridor_csrf"]}
    assert (
        client.post(f"/operations/{world.operation_id}/manifests/assign", headers=headers).status_code == 200
    )
    arabic = client.get(f"/operations/{world.operation_id}/manifests/BUS-1?lang=ar")
    assert arabic.status_code == 200
    assert "مسنّ" in arabic.text and "elderly" not in arabic.text and "wheelchair" not in arabic.text
    assert ">female<" not in arabic.text and "\u206660+\u2069" in arabic.text
    english = client.get(f"/operations/{world.operation_id}/manifests/BUS-1?lang=en")
    assert "Elderly" in english.text or "elderly" in english.text.lower()
