"""The web administration under attack and careless hands, on SQLite and PostgreSQL.

A coordinator of one operation edits ids in the URL and the form to reach another operation's
windows, plans, members, scanners and vehicles, or a role in every operation: refused, nothing
stored changes. Nobody can leave the service without an enabled coordinator of every operation.
Bad input (windows out of order or overlapping, empty or huge names, look-alike user names, a
vehicle with no or absurd places, a reserved scanner id) is a 4xx naming the field, with nothing
stored. Every admin POST route refuses a missing or forged CSRF token; each one, made properly,
writes its change to the access log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from corridor.server.access.tables import AccessLogEntry, Device, Membership, User
from corridor.server.db import Database
from corridor.server.manifests.tables import Vehicle
from corridor.server.operations.tables import Operation, PlanVersion
from corridor.server.web.admin import CHANGES
from server.admin_cases import ROUTE_TEXT, log_in, plan_json
from server.conftest import PASSWORD, ROUTE, WINDOWS, World

TABLES = (User, Membership, Device, Vehicle, Operation, PlanVersion)


def _stored(world: World) -> dict[str, Any]:
    """Everything the admin pages can change, row by row, and how many changes the log holds."""
    db = Database(world.settings.database_url)
    try:
        with db.reading() as session:
            rows: dict[str, Any] = {
                table.__tablename__: sorted(
                    repr(tuple(row)) for row in session.execute(select(*table.__table__.columns))
                )
                for table in TABLES
            }
            rows["changes logged"] = session.scalar(
                select(func.count())
                .select_from(AccessLogEntry)
                .where(AccessLogEntry.decision == "allow", AccessLogEntry.action.in_(CHANGES))
            )
            return rows
    finally:
        db.dispose()


def _last_change(world: World) -> tuple[str, str, str]:
    db = Database(world.settings.database_url)
    try:
        with db.reading() as session:
            entry = session.scalars(
                select(AccessLogEntry)
                .where(AccessLogEntry.decision == "allow", AccessLogEntry.action.in_(CHANGES))
                .order_by(AccessLogEntry.id.desc())
                .limit(1)
            ).one()
            return entry.action, entry.actor, entry.path
    finally:
        db.dispose()


def _routes(world: World) -> Iterator[tuple[str, set[str]]]:
    """Every route of the app as (path, methods), routes of included routers too."""
    app: Any = world.client.app
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for found in contexts() if contexts else [route]:
            if getattr(found, "methods", None) and not found.path.startswith("/api"):
                yield found.path, set(found.methods)


def _api(world: World, path: str, body: dict[str, Any], expected: int) -> None:
    answer = world.client.post(path, json=body, headers=world.coordinator)
    assert answer.status_code == expected, answer.text


def _plans(world: World, operation_id: str) -> None:
    for people in (30, 40):
        _api(world, f"/api/operations/{operation_id}/plan", {"plan": plan_json(people), "nodes": {}}, 200)


def test_a_coordinator_of_one_operation_changes_nothing_of_another(world: World) -> None:
    a = world.operation_id
    made = world.client.post(
        "/api/operations",
        json={"name": "Madaya", "scenario_name": "east-aleppo-2016", "route": ROUTE, "windows": WINDOWS},
        headers=world.coordinator,
    )
    assert made.status_code == 201, made.text
    b = made.json()["id"]
    _api(world, f"/api/operations/{b}/vehicles", {"code": "BUS-B", "kind": "bus", "seats": 40}, 201)
    _api(world, f"/api/operations/{b}/devices", {"device_id": "scanner-b", "label": "B gate"}, 201)
    _plans(world, b)
    for username, operation_id, role in (("only-b", b, "registrar"), ("coord-a", a, "coordinator")):
        _api(world, "/api/users", {"username": username, "password": PASSWORD}, 201)
        _api(world, f"/api/operations/{operation_id}/members", {"username": username, "role": role}, 204)
    headers = log_in(world, "coord-a")
    before = _stored(world)

    window = {"start": ["2026-12-07T06:00"], "end": ["2026-12-07T18:00"]}
    vehicle = {"kind": "car", "seats": "1"}
    attempts: list[tuple[str, dict[str, Any], int]] = [
        # The other operation's own pages: its id in the URL.
        (f"/operations/{b}/admin/windows", window, 403),
        (f"/operations/{b}/admin/state", {"state": "active"}, 403),
        (f"/operations/{b}/admin/plans/1/publish", {}, 403),
        (f"/operations/{b}/admin/members", {"username": "coord-a", "role": "coordinator"}, 403),
        (f"/operations/{b}/admin/members/only-b/registrar/revoke", {}, 403),
        (f"/operations/{b}/admin/devices", {"device_id": "mine", "label": "x"}, 403),
        (f"/operations/{b}/admin/devices/scanner-b/revoke", {}, 403),
        (f"/operations/{b}/admin/vehicles", {"code": "CAR-1", **vehicle}, 403),
        (f"/operations/{b}/admin/vehicles/BUS-B", vehicle, 403),
        (f"/operations/{b}/admin/vehicles/BUS-B/remove", {}, 403),
        # Its ids under this operation's URL.
        (f"/operations/{a}/admin/plans/2/publish", {}, 404),
        (f"/operations/{a}/admin/members/only-b/registrar/revoke", {}, 404),
        (f"/operations/{a}/admin/devices/scanner-b/revoke", {}, 404),
        (f"/operations/{a}/admin/vehicles/BUS-B", vehicle, 404),
        (f"/operations/{a}/admin/vehicles/BUS-B/remove", {}, 404),
        # Roles in every operation or another one, users and operations: for global coordinators.
        ("/admin/users/coord-a/role", {"operation": "*", "role": "coordinator"}, 403),
        ("/admin/users/coord-a/role", {"operation": b, "role": "coordinator"}, 403),
        ("/admin/users/coordinator/role", {"operation": "*", "role": "none"}, 403),
        ("/admin/users/coordinator/disable", {}, 403),
        ("/admin/users/coordinator/password", {}, 403),
        (
            "/admin/users",
            {"username": "mallory", "password": PASSWORD, "operation": "*", "role": "coordinator"},
            403,
        ),
        ("/admin/operations", {"name": "Mine", "scenario_name": "x", "route": ROUTE_TEXT}, 403),
    ]
    for path, data, expected in attempts:
        answer = world.client.post(path, data=data, headers=headers)
        assert answer.status_code == expected, (path, answer.status_code, answer.text[:300])
    assert _stored(world) == before

    # Fields smuggled into the members form do not move the grant out of this operation.
    smuggled = world.client.post(
        f"/operations/{a}/admin/members",
        data={"username": "coord-a", "role": "coordinator", "operation": "*", "operation_id": b},
        headers=headers,
    )
    assert smuggled.status_code == 200, smuggled.text
    db = Database(world.settings.database_url)
    try:
        with db.reading() as session:
            held = session.execute(
                select(Membership.operation_id, Membership.role)
                .join(User, User.id == Membership.user_id)
                .where(User.username == "coord-a")
            ).all()
    finally:
        db.dispose()
    assert [tuple(r) for r in held] == [(a, "coordinator")]


def test_nobody_locks_everyone_out_and_bad_input_names_its_field_and_stores_nothing(world: World) -> None:
    a = world.operation_id
    headers = log_in(world)
    post = world.client.post
    before = _stored(world)

    # The last enabled coordinator of every operation keeps that role and stays enabled.
    for role in ("none", "planner"):
        kept = post("/admin/users/coordinator/role", data={"operation": "*", "role": role}, headers=headers)
        assert kept.status_code == 409 and "last enabled coordinator" in kept.text, kept.text[:300]
    assert post("/admin/users/coordinator/disable", headers=headers).status_code == 409

    # User names that pass for another.
    for name, code in (
        ("сoordinator", 422),
        ("Coordinator", 409),
        ("ｃｏｏｒｄｉｎａｔｏｒ", 409),
        ("", 422),
    ):
        answer = post("/admin/users", data={"username": name, "password": PASSWORD}, headers=headers)
        assert answer.status_code == code, (name, answer.text[:300])
        assert "User name" in answer.text, name

    # Windows out of order or overlapping.
    windows = f"/operations/{a}/admin/windows"
    backwards = post(
        windows, data={"start": ["2026-12-07T18:00"], "end": ["2026-12-07T06:00"]}, headers=headers
    )
    assert backwards.status_code == 422 and "end after it starts" in backwards.text
    overlapping = post(
        windows,
        data={
            "start": ["2026-12-07T06:00", "2026-12-07T12:00"],
            "end": ["2026-12-07T18:00", "2026-12-08T06:00"],
        },
        headers=headers,
    )
    assert overlapping.status_code == 422 and "Windows:" in overlapping.text and "overlap" in overlapping.text

    # Operations with no name or a huge one.
    for name in ("", "   ", "x" * 201):
        answer = post(
            "/admin/operations",
            data={"name": name, "scenario_name": "s", "route": ROUTE_TEXT},
            headers=headers,
        )
        assert answer.status_code == 422 and "Name:" in answer.text, (len(name), answer.text[:300])
        assert 'id="op-route"' in answer.text  # the form is there again, with what was typed

    # Vehicles with negative, no or absurd places.
    vehicles = f"/operations/{a}/admin/vehicles"
    for places, label in (
        ({"seats": "-1"}, "Seats"),
        ({"seats": "0", "stretchers": "0"}, "Seats"),
        ({"seats": "100000"}, "Seats"),
        ({"seats": "4", "stretchers": "-3"}, "Stretcher places"),
        ({"seats": "four"}, "Seats"),
    ):
        answer = post(vehicles, data={"code": "CAR-1", "kind": "car", **places}, headers=headers)
        assert answer.status_code == 422 and f"{label}:" in answer.text, (places, answer.text[:300])

    # Scanner ids the service keeps for itself, or that read as one.
    for device_id in ("server", "Server.", "user:coordinator", "ѕerver"):
        answer = post(
            f"/operations/{a}/admin/devices", data={"device_id": device_id, "label": "x"}, headers=headers
        )
        assert answer.status_code == 422 and "Scanner id" in answer.text, (device_id, answer.text[:300])

    assert _stored(world) == before

    # Arabic names are names; a second coordinator of every operation, once disabled, does not count.
    arabic = post("/admin/users", data={"username": "ليلى", "password": PASSWORD}, headers=headers)
    assert arabic.status_code == 200, arabic.text[:300]
    second = post(
        "/admin/users",
        data={"username": "deputy", "password": PASSWORD, "operation": "*", "role": "coordinator"},
        headers=headers,
    )
    assert second.status_code == 200, second.text[:300]
    assert post("/admin/users/deputy/disable", headers=headers).status_code == 200
    alone = post("/admin/users/coordinator/role", data={"operation": "*", "role": "none"}, headers=headers)
    assert alone.status_code == 409
    assert post("/admin/users/deputy/enable", headers=headers).status_code == 200
    handed = post("/admin/users/deputy/role", data={"operation": "*", "role": "planner"}, headers=headers)
    assert handed.status_code == 200  # another enabled coordinator of every operation remains


def _admin_posts(world: World) -> dict[str, tuple[str, dict[str, Any], str]]:
    """Each admin POST route (as declared): the path to try, the form, and the change it logs,
    in an order in which each is accepted."""
    a = world.operation_id
    window = {
        "start": ["2026-12-07T06:00", "2026-12-08T06:00"],
        "end": ["2026-12-07T18:00", "2026-12-08T18:00"],
    }
    op = "/operations/{operation_id}/admin"
    # Each admin POST route: the path to try, the form, and the change it logs.
    changes: dict[str, tuple[str, dict[str, Any], str]] = {
        "/admin/operations": (
            "/admin/operations",
            {"name": "Madaya", "scenario_name": "madaya", "route": ROUTE_TEXT},
            "operation.created",
        ),
        "/admin/users": ("/admin/users", {"username": "new-user", "password": PASSWORD}, "user.created"),
        "/admin/users/{username}/role": (
            "/admin/users/new-user/role",
            {"operation": a, "role": "monitor"},
            "member.granted",
        ),
        "/admin/users/{username}/password": ("/admin/users/new-user/password", {}, "user.password_reset"),
        "/admin/users/{username}/disable": ("/admin/users/new-user/disable", {}, "user.disabled"),
        "/admin/users/{username}/enable": ("/admin/users/new-user/enable", {}, "user.enabled"),
        f"{op}/windows": (f"/operations/{a}/admin/windows", window, "operation.windows_changed"),
        f"{op}/plans/{{version}}/publish": (f"/operations/{a}/admin/plans/1/publish", {}, "plan.published"),
        f"{op}/members": (
            f"/operations/{a}/admin/members",
            {"username": "new-user", "role": "observer"},
            "member.granted",
        ),
        f"{op}/members/{{username}}/{{role}}/revoke": (
            f"/operations/{a}/admin/members/new-user/observer/revoke",
            {},
            "member.revoked",
        ),
        f"{op}/devices": (
            f"/operations/{a}/admin/devices",
            {"device_id": "gate-9", "label": "Gate 9"},
            "device.registered",
        ),
        f"{op}/devices/{{device_id}}/revoke": (
            f"/operations/{a}/admin/devices/gate-9/revoke",
            {},
            "device.revoked",
        ),
        f"{op}/vehicles": (
            f"/operations/{a}/admin/vehicles",
            {"code": "CAR-7", "kind": "car", "seats": "4"},
            "vehicle.added",
        ),
        f"{op}/vehicles/{{code}}": (
            f"/operations/{a}/admin/vehicles/CAR-7",
            {"kind": "car", "seats": "5"},
            "vehicle.changed",
        ),
        f"{op}/vehicles/{{code}}/remove": (
            f"/operations/{a}/admin/vehicles/CAR-7/remove",
            {},
            "vehicle.removed",
        ),
        f"{op}/state": (f"/operations/{a}/admin/state", {"state": "active"}, "operation.state_changed"),
    }
    return changes


def test_every_admin_post_refuses_a_forged_csrf_token_and_logs_each_change(world: World) -> None:
    world.vehicle("BUS-1")
    _plans(world, world.operation_id)
    headers = log_in(world)
    changes = _admin_posts(world)
    routes = {path for path, methods in _routes(world) if "POST" in methods and "/admin" in path}
    assert routes == set(changes), routes ^ set(changes)

    forged = [
        {k: v for k, v in headers.items() if k != "X-CSRF-Token"},
        {**headers, "X-CSRF-Token": "forged"},
    ]
    before = _stored(world)
    for path, data, _ in changes.values():
        for sent in forged:
            answer = world.client.post(path, data=data, headers=sent)
            assert answer.status_code == 403, (path, answer.status_code, answer.text[:300])
    assert _stored(world) == before

    for path, data, action in changes.values():
        answer = world.client.post(path, data=data, headers=headers)
        assert answer.status_code in (200, 201), (path, answer.status_code, answer.text[:300])
        assert _last_change(world)[:2] == (action, "user:coordinator"), path
    assert len(CHANGES - {"password.changed"}) == len({action for _, _, action in changes.values()})


def test_every_admin_form_works_without_javascript_with_the_token_in_a_hidden_field(world: World) -> None:
    """A browser posts a form itself (no script yet, or none at all): the token travels in the
    form's ``csrf_token`` field, compared with the session's; without it, or with another, the
    change is refused in plain words and nothing is stored. The answer is a whole page."""
    world.vehicle("BUS-1")
    _plans(world, world.operation_id)
    log_in(world)
    token = world.client.cookies["corridor_csrf"]
    plain = {"Accept": "text/html"}  # no HX-Request, no X-CSRF-Token: what a browser sends
    # Every form on the admin pages carries the token.
    a = world.operation_id
    for path in ("/admin/operations", "/admin/users", f"/operations/{a}/admin"):
        for tail in ("", "/members", "/devices", "/vehicles") if path.endswith("/admin") else ("",):
            shown = world.client.get(path + tail, headers=plain)
            assert shown.status_code == 200, (path + tail, shown.text[:300])
            forms = re.findall(r'<form [^>]*method="post".*?</form>', shown.text, re.S)
            assert forms, path + tail
            for form in forms:
                assert f'name="csrf_token" value="{token}"' in form, (path + tail, form[:300])

    changes = _admin_posts(world)
    before = _stored(world)
    for path, data, _ in changes.values():
        for sent in (data, {**data, "csrf_token": "forged"}, {**data, "csrf_token": token[:-1]}):
            answer = world.client.post(path, data=sent, headers=plain)
            assert answer.status_code == 403, (path, answer.status_code, answer.text[:300])
            assert "did not come from a page of this site" in answer.text, path
            assert "<html" in answer.text  # the error page, not a fragment
    assert _stored(world) == before

    for path, data, action in changes.values():
        answer = world.client.post(path, data={**data, "csrf_token": token}, headers=plain)
        assert answer.status_code in (200, 201), (path, answer.status_code, answer.text[:300])
        assert "<html" in answer.text and 'id="admin-result"' in answer.text, path  # a whole page
        assert _last_change(world)[:2] == (action, "user:coordinator"), path
    # A file posted with a form (multipart) carries it the same way.
    upload = world.client.post(
        f"/operations/{a}/notices/sms-status",
        data={"csrf_token": "forged"},
        files={"file": ("status.csv", b"phone,status\n", "text/csv")},
        headers=plain,
    )
    assert upload.status_code == 403
    upload = world.client.post(
        f"/operations/{a}/notices/sms-status",
        data={"csrf_token": token},
        files={"file": ("status.csv", b"phone,status\n", "text/csv")},
        headers=plain,
        follow_redirects=False,
    )
    assert upload.status_code == 303, upload.text[:300]  # back to the notices page
    assert upload.headers["location"] == f"/operations/{a}/notices#deliveries"
    bad = world.client.post(
        f"/operations/{a}/notices/sms-status",
        data={"csrf_token": token},
        files={"file": ("status.csv", b"\xff\xfe", "text/csv")},
        headers=plain,
    )
    assert bad.status_code == 422 and "<html" in bad.text and "status.csv" in bad.text
