"""The web app's administration without a browser, on SQLite and PostgreSQL: each page makes its
change through the API's services, every change lands in the access log, a refused change keeps
what is stored, and roles without the permission get the 403 page."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from server.admin_cases import ROUTE_TEXT, log_in, plan_json
from server.conftest import PASSWORD, World


def _token(world: World, username: str, password: str) -> dict[str, str]:
    answer = world.client.post("/api/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _logged(world: World, limit: int = 50) -> list[dict[str, Any]]:
    answer = world.client.get(f"/api/access-log?limit={limit}", headers=world.coordinator)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def _actions(world: World) -> list[tuple[str, str]]:
    return [(e["action"], e["path"]) for e in _logged(world) if e["actor"] == "user:coordinator"]


def test_operations_are_created_their_windows_changed_and_closed(world: World) -> None:
    headers = log_in(world)
    page = world.client.get("/admin/operations", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'id="op-route"' in page.text
    bad = world.client.post(
        "/admin/operations",
        data={"name": "Madaya", "scenario_name": "madaya", "route": "a; Gate A; departure\nb; B; arrival; 5"},
        headers=headers,
    )
    assert bad.status_code == 422 and "line 1 has 3 parts" in bad.text
    assert 'value="Madaya"' in bad.text  # the form keeps what was typed
    made = world.client.post(
        "/admin/operations",
        data={
            "name": "Madaya",
            "scenario_name": "madaya",
            "route": ROUTE_TEXT,
            "start": "2026-12-07T06:00",
            "end": "2026-12-07T18:00",
        },
        headers=headers,
    )
    assert made.status_code == 200, made.text
    assert "Operation Madaya created" in made.text
    listed = world.client.get("/api/operations", headers=world.coordinator).json()
    madaya = next(o for o in listed if o["name"] == "Madaya")
    assert [p["id"] for p in madaya["route"]] == ["a", "b", "c"]
    assert madaya["windows"] == [{"start": "2026-12-07T06:00:00Z", "end": "2026-12-07T18:00:00Z"}]

    # Windows: edit the first, add a second; an end before its start is refused and nothing changes.
    op = world.operation_id
    refused = world.client.post(
        f"/operations/{op}/admin/windows",
        data={"start": ["2016-12-15T08:00"], "end": ["2016-12-15T07:00"]},
        headers=headers,
    )
    assert refused.status_code == 422 and "window 1" in refused.text
    changed = world.client.post(
        f"/operations/{op}/admin/windows",
        data={
            "start": ["2016-12-15T07:00", "2016-12-16T07:00"],
            "end": ["2016-12-15T19:00", "2016-12-16T12:00"],
        },
        headers=headers,
    )
    assert changed.status_code == 200 and "Windows saved: 2" in changed.text
    windows = world.client.get(world.url(), headers=world.coordinator).json()["windows"]
    assert windows[0]["start"] == "2016-12-15T07:00:00Z" and len(windows) == 2

    # State: planning -> active -> closed; a closed operation changes no more.
    assert (
        world.client.post(
            f"/operations/{op}/admin/state", data={"state": "active"}, headers=headers
        ).status_code
        == 200
    )
    closed = world.client.post(f"/operations/{op}/admin/state", data={"state": "closed"}, headers=headers)
    assert closed.status_code == 200 and "The operation is now: Closed" in closed.text
    again = world.client.post(f"/operations/{op}/admin/state", data={"state": "active"}, headers=headers)
    assert again.status_code == 409
    assert world.client.get(world.url(), headers=world.coordinator).json()["state"] == "closed"
    late = world.client.post(
        f"/operations/{op}/admin/windows", data={"start": [""], "end": [""]}, headers=headers
    )
    assert (
        late.status_code == 422
        and len(world.client.get(world.url(), headers=world.coordinator).json()["windows"]) == 2
    )

    actions = _actions(world)
    assert ("operation.created", f"/admin/operations/{madaya['id']}") in actions
    assert ("operation.windows_changed", f"/operations/{op}/admin/windows") in actions
    assert ("operation.state_changed", f"/operations/{op}/admin/state/active") in actions
    assert ("operation.state_changed", f"/operations/{op}/admin/state/closed") in actions
    assert len([a for a, _ in actions if a == "operation.windows_changed"]) == 1  # refusals log no change


def test_a_published_plan_version_is_chosen_again_and_a_marshal_is_refused(world: World) -> None:
    for people in (30, 40):
        answer = world.client.post(
            world.url("/plan"),
            json={"plan": plan_json(people), "nodes": {}},
            headers=world.as_role("planner"),
        )
        assert answer.status_code == 200, answer.text
    headers = log_in(world, "planner-user")  # planners may choose the plan too
    page = world.client.get(f"/operations/{world.operation_id}/admin", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert re.search(r'<tr data-version="2" class="current">', page.text)
    published = world.client.post(f"/operations/{world.operation_id}/admin/plans/1/publish", headers=headers)
    assert published.status_code == 200 and "Plan version 1 is now the one" in published.text
    assert re.search(r'<tr data-version="1" class="current">', published.text)
    versions = world.client.get(world.url("/plans"), headers=world.coordinator).json()
    assert [v["current"] for v in versions] == [True, False]
    assert (
        world.client.post(
            f"/operations/{world.operation_id}/admin/plans/9/publish", headers=headers
        ).status_code
        == 404
    )
    logged = [
        e for e in _logged(world) if e["action"] == "plan.published" and e["actor"] == "user:planner-user"
    ]
    assert logged[0]["path"] == f"/operations/{world.operation_id}/admin/plans/1/publish"
    assert len(logged) == 3  # two through the API, one here
    _marshal_refused(world)


def test_users_are_created_given_roles_reset_disabled_and_enabled(world: World) -> None:
    headers = log_in(world)
    op = world.operation_id
    short = world.client.post("/admin/users", data={"username": "rima", "password": "short"}, headers=headers)
    assert short.status_code == 422
    assert re.search(r'role="alert"[^>]*>Password: String should have at least 10 characters', short.text)
    assert 'value="rima"' in short.text
    arabic = world.client.post(
        "/admin/users?lang=ar", data={"username": "rima", "password": "short"}, headers=headers
    )
    assert arabic.status_code == 422 and "لم يتغيّر شيء:" in arabic.text
    world.client.get("/login?lang=en")  # back to English for the rest
    made = world.client.post(
        "/admin/users",
        data={"username": "rima", "password": "a long first password", "operation": op, "role": "registrar"},
        headers=headers,
    )
    assert made.status_code == 200 and "User rima created" in made.text
    rima = _token(world, "rima", "a long first password")
    assert world.client.get(world.url("/people"), headers=rima).status_code == 200
    taken = world.client.post(
        "/admin/users/rima/role", data={"operation": op, "role": "observer"}, headers=headers
    )
    assert taken.status_code == 200 and "rima now has: Observer" in taken.text
    assert world.client.get(world.url("/people"), headers=rima).status_code == 403

    reset = world.client.post("/admin/users/rima/password", headers=headers)
    assert reset.status_code == 200
    shown = re.search(r'id="new-password" readonly dir="ltr" value="([^"]+)"', reset.text)
    assert shown is not None
    new_password = unescape(shown[1])
    assert world.client.get(world.url(), headers=rima).status_code == 401  # the old session ended
    assert (
        world.client.post(
            "/api/auth/token", data={"username": "rima", "password": "a long first password"}
        ).status_code
        == 401
    )
    rima = _token(world, "rima", new_password)

    disabled = world.client.post("/admin/users/rima/disable", headers=headers)
    assert disabled.status_code == 200 and "rima is disabled" in disabled.text
    assert world.client.get(world.url(), headers=rima).status_code == 401
    assert (
        world.client.post("/admin/users/coordinator/disable", headers=headers).status_code == 409
    )  # not yourself
    assert world.client.post("/admin/users/rima/enable", headers=headers).status_code == 200
    _token(world, "rima", new_password)

    actions = _actions(world)
    for action, path in (
        ("user.created", "/admin/users/rima"),
        ("member.granted", "/admin/users/rima/" + "registrar"),
        ("member.granted", "/admin/users/rima/role/rima/observer"),
        ("user.password_reset", "/admin/users/rima/password"),
        ("user.disabled", "/admin/users/rima/disable"),
        ("user.enabled", "/admin/users/rima/enable"),
    ):
        assert (action, path) in actions, (action, path, actions)
    entry = next(e for e in _logged(world) if e["path"] == "/admin/users/rima/role/rima/observer")
    assert entry["operation_id"] == op

    # A coordinator of this operation alone manages its members, not the users of every operation.
    made = world.client.post(
        "/api/users", json={"username": "omar", "password": PASSWORD}, headers=world.coordinator
    )
    assert made.status_code == 201, made.text
    granted = world.client.post(
        world.url("/members"), json={"username": "omar", "role": "coordinator"}, headers=world.coordinator
    )
    assert granted.status_code == 204, granted.text
    headers = log_in(world, "omar")
    assert world.client.get("/admin/users", headers={"Accept": "text/html"}).status_code == 403
    members = f"/operations/{op}/admin/members"
    page = world.client.get(members, headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'data-member="observer-user"' in page.text
    unknown = world.client.post(members, data={"username": "nobody", "role": "monitor"}, headers=headers)
    assert unknown.status_code == 422 and "no user 'nobody'" in unescape(unknown.text)
    given = world.client.post(members, data={"username": "observer-user", "role": "monitor"}, headers=headers)
    assert given.status_code == 200 and "observer-user now has the role Monitor" in given.text
    assert world.client.get(world.url("/incidents"), headers=world.as_role("observer")).status_code == 200
    taken = world.client.post(f"{members}/observer-user/monitor/revoke", headers=headers)
    assert taken.status_code == 200 and "no longer has the role Monitor" in taken.text
    assert world.client.get(world.url(), headers=world.as_role("observer")).status_code == 403
    omar = [(e["action"], e["path"]) for e in _logged(world) if e["actor"] == "user:omar"]
    assert ("member.granted", f"{members}/observer-user/monitor") in omar
    assert ("member.revoked", f"{members}/observer-user/monitor/revoke") in omar


def test_a_scanner_is_enrolled_by_qr_code_and_once_revoked_its_scans_are_refused(world: World) -> None:
    headers = log_in(world)
    op = world.operation_id
    bad = world.client.post(
        f"/operations/{op}/admin/devices", data={"device_id": "server", "label": "x"}, headers=headers
    )
    assert bad.status_code == 422 and "reserved" in bad.text
    enrolled = world.client.post(
        f"/operations/{op}/admin/devices",
        data={"device_id": "gate-2", "label": "Gate 2 phone", "point": "cp1"},
        headers=headers,
    )
    assert enrolled.status_code == 201, enrolled.text
    assert '<svg width="' in enrolled.text and 'class="qr"' in enrolled.text
    shown = re.search(r'id="enrolment-payload"[^>]*>([^<]+)</textarea>', enrolled.text)
    assert shown is not None
    payload = json.loads(unescape(shown[1]))
    assert payload["server"] == "http://testserver" and payload["operation"] == op
    assert payload["device_id"] == "gate-2" and payload["point"] == "cp1"
    token = payload["token"]
    again = world.client.post(
        f"/operations/{op}/admin/devices", data={"device_id": "gate-2", "label": "again"}, headers=headers
    )
    assert again.status_code == 409 and token not in again.text  # the token is shown once

    world.vehicle("bus-1")
    [person] = world.household({"name": "Rana", "age_band": "18-59", "sex": "female"})["people"]
    device = {"Authorization": f"Bearer {token}"}

    def scan(n: int) -> int:
        event = {
            "event_id": f"gate-2-{n}",
            "device_id": "gate-2",
            "seq": n,
            "device_time": f"2016-12-15T10:0{n}:00Z",
            "type": "checkpoint",
            "payload": {"person_id": person["id"], "point": "cp1"},
        }
        status: int = world.client.post(world.url("/events"), json=event, headers=device).status_code
        return status

    assert scan(1) == 201
    revoked = world.client.post(f"/operations/{op}/admin/devices/gate-2/revoke", headers=headers)
    assert revoked.status_code == 200 and "gate-2 revoked" in revoked.text
    assert scan(2) == 401
    actions = _actions(world)
    assert ("device.registered", f"/operations/{op}/admin/devices/gate-2") in actions
    assert ("device.revoked", f"/operations/{op}/admin/devices/gate-2/revoke") in actions


def test_vehicles_are_added_changed_and_removed_unless_they_carry_people(world: World) -> None:
    headers = log_in(world, "planner-user")
    op = world.operation_id
    base = f"/operations/{op}/admin/vehicles"
    assert (
        world.client.post(base, data={"code": "bad code", "seats": "10"}, headers=headers).status_code == 422
    )
    added = world.client.post(base, data={"code": "BUS-9", "kind": "bus", "seats": "40"}, headers=headers)
    assert added.status_code == 200 and "Vehicle BUS-9 added" in added.text
    changed = world.client.post(
        f"{base}/BUS-9",
        data={"kind": "truck", "seats": "12", "stretchers": "0", "wave": "2"},
        headers=headers,
    )
    assert changed.status_code == 200
    [vehicle] = world.client.get(world.url("/vehicles"), headers=world.coordinator).json()
    assert (vehicle["kind"], vehicle["seats"], vehicle["wave"]) == ("truck", 12, 2)

    world.household({"name": "Rana", "age_band": "18-59", "sex": "female"})
    assert world.client.post(world.url("/manifests"), headers=world.coordinator).status_code == 200
    cut = world.client.post(
        f"{base}/BUS-9", data={"kind": "truck", "seats": "0", "stretchers": "1"}, headers=headers
    )
    assert cut.status_code == 409 and "would not hold them" in cut.text
    kept = world.client.post(f"{base}/BUS-9/remove", headers=headers)
    assert kept.status_code == 409 and "carries 1 people" in kept.text
    assert len(world.client.get(world.url("/vehicles"), headers=world.coordinator).json()) == 1

    world.client.post(base, data={"code": "CAR-1", "kind": "car", "seats": "4"}, headers=headers)
    removed = world.client.post(f"{base}/CAR-1/remove", headers=headers)
    assert removed.status_code == 200 and "Vehicle CAR-1 removed" in removed.text
    assert [
        v["code"] for v in world.client.get(world.url("/vehicles"), headers=world.coordinator).json()
    ] == ["BUS-9"]

    planner = [(e["action"], e["path"]) for e in _logged(world) if e["actor"] == "user:planner-user"]
    for action, path in (
        ("vehicle.added", f"{base}/BUS-9"),
        ("vehicle.changed", f"{base}/BUS-9"),
        ("vehicle.added", f"{base}/CAR-1"),
        ("vehicle.removed", f"{base}/CAR-1/remove"),
    ):
        assert (action, path) in planner, (action, path)
    assert ("vehicle.removed", f"{base}/BUS-9/remove") not in planner


def _marshal_refused(world: World) -> None:
    """A marshal gets the 403 page on every admin page, and changes nothing."""
    headers = log_in(world, "checkpoint_marshal-user")
    op = world.operation_id
    for path in (
        "/admin",
        "/admin/operations",
        "/admin/users",
        f"/operations/{op}/admin",
        f"/operations/{op}/admin/devices",
        f"/operations/{op}/admin/vehicles",
    ):
        answer = world.client.get(path, headers={"Accept": "text/html"})
        assert answer.status_code == 403, path
        assert "Your role does not allow you to" in answer.text and "may not do" not in answer.text
    posted = world.client.post(
        f"/operations/{op}/admin/vehicles", data={"code": "X", "seats": "1"}, headers=headers
    )
    assert posted.status_code == 403
    assert world.client.get(world.url("/vehicles"), headers=world.coordinator).json() == []
    # Without the page's CSRF token a coordinator's session changes nothing either.
    log_in(world)
    forged = world.client.post(
        f"/operations/{op}/admin/vehicles", data={"code": "X", "seats": "1"}, headers={"Accept": "text/html"}
    )
    assert forged.status_code == 403
    assert world.client.get(world.url("/vehicles"), headers=world.coordinator).json() == []
