"""Security rules of the web pages, without a browser, on SQLite and PostgreSQL: every change needs
the page's CSRF token, observers never see a name, an id or an incident's description, reads of
personal data are logged, the headers that keep the browser strict, no open redirect after log-in,
evidence that cannot run as a page, and uploads capped on the web path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from corridor.server.settings import Settings
from corridor.server.tables import metadata
from corridor.server.web import headers, incidents
from server.conftest import CHEAP, PASSWORD, World

HTMX = {"HX-Request": "true", "Accept": "text/html"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
EVIL = '"><img src=x onerror=alert(1)>'
SCRIPT = "<script>alert(1)</script>"
# Marks no page may show an observer: a person's name, a household reference, an incident's text.
NAME_A, NAME_B = "Zeinab Qadri-Observer-Test", "Ghassan Halabi-Observer-Test"
SECRET_TEXT = "Secret detail: taken at dawn by unit 7"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """As the shared fixture, but with no scenario files: the map and plan pages answer at once
    (no solving) and still show everything they show without a plan."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        key_file=tmp_path / "keys" / "corridor.key",
        scenarios_dir=tmp_path / "no-scenarios",
        max_evidence_bytes=64 * 1024,
        **CHEAP,  # type: ignore[arg-type]
    )


def _log_in(client: TestClient, username: str) -> str:
    """Log in through the form; the CSRF token of the session."""
    client.headers.pop("Authorization", None)
    client.cookies.clear()
    answer = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    csrf: str = client.cookies["corridor_csrf"]
    return csrf


def _routes(world: World) -> Iterator[tuple[str, set[str]]]:
    """Every route of the app as (path, methods), routes of included routers too."""
    app: Any = world.client.app
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for found in contexts() if contexts else [route]:
            if getattr(found, "methods", None):
                yield found.path, set(found.methods)


def _page_routes(world: World) -> list[tuple[str, set[str]]]:
    return [(p, m) for p, m in _routes(world) if not p.startswith(("/api", "/docs", "/redoc", "/openapi"))]


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: values.get(m[1], "x"), path)


def _row_counts(world: World) -> dict[str, int]:
    engine = create_engine(world.settings.database_url)
    try:
        with engine.connect() as connection:
            return {
                t.name: connection.scalar(select(func.count()).select_from(t)) or 0
                for t in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _form_that_would_change_things() -> dict[str, str]:
    """One body for every page that changes something: a household, an incident, a log-out."""
    return {
        "p-0-name": "Amal",
        "p-0-sex": "female",
        "p-0-age_band": "18-59",
        "kind": "other",
        "occurred_at": "2016-12-15T10:25",
        "utc_offset": "0",
        "description": "road blocked",
    }


# --- CSRF ---------------------------------------------------------------------------------------


def test_every_page_that_changes_something_refuses_a_session_without_its_csrf_token(world: World) -> None:
    world.vehicle("BUS-1")
    values = {"operation_id": world.operation_id}
    unsafe = [(p, m & UNSAFE) for p, m in _page_routes(world) if m & UNSAFE]
    # The log-in form has no session yet: it is guarded by the Origin check (tested below). The
    # public pages read no session at all (tests/server/test_server_public*.py).
    guarded = [(p, methods) for p, methods in unsafe if p != "/login" and not p.startswith("/public/")]
    assert {p for p, _ in guarded} >= {
        "/logout",
        "/operations/{operation_id}/register",
        "/operations/{operation_id}/register/duplicates",
        "/operations/{operation_id}/manifests/assign",
        "/operations/{operation_id}/incidents",
    }
    _log_in(world.client, "coordinator")
    before = _row_counts(world)
    for path, methods in guarded:
        for method in methods:
            answer = world.client.request(
                method, _fill(path, values), data=_form_that_would_change_things(), headers=HTMX
            )
            assert answer.status_code == 403, (method, path, answer.status_code, answer.text[:200])
            # With the wrong token too.
            wrong = world.client.request(
                method,
                _fill(path, values),
                data={**_form_that_would_change_things(), "csrf_token": "forged"},
                headers={**HTMX, "X-CSRF-Token": "forged"},
            )
            assert wrong.status_code == 403, (method, path)
    after = _row_counts(world)
    assert after == before
    # The same request with the token does change things: the refusals above were the token's.
    csrf = world.client.cookies["corridor_csrf"]
    done = world.client.post(
        _fill("/operations/{operation_id}/register", values),
        data=_form_that_would_change_things(),
        headers={**HTMX, "X-CSRF-Token": csrf},
    )
    assert done.status_code == 201, done.text
    assert _row_counts(world)["people"] == before["people"] + 1


def test_no_page_changes_anything_by_get(world: World) -> None:
    """Only GET, HEAD and the unsafe methods checked above: no other verb slips past the check."""
    for path, methods in _page_routes(world):
        assert methods <= {"GET", "HEAD", "POST"}, (path, methods)


def test_log_in_from_another_site_is_refused(world: World) -> None:
    client = world.client
    data = {"username": "coordinator", "password": PASSWORD}
    foreign = client.post(
        "/login",
        data=data,
        headers={"Origin": "https://evil.example", "Accept": "text/html"},
        follow_redirects=False,
    )
    assert foreign.status_code == 403
    assert "corridor_session" not in client.cookies
    blank = client.post("/login", data=data, headers={"Origin": "null"}, follow_redirects=False)
    assert blank.status_code == 403
    own = client.post("/login", data=data, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert own.status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example/",
        "/\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "https://evil.example",
    ],
)
def test_log_in_never_sends_the_browser_to_another_site(world: World, target: str) -> None:
    answer = world.client.post(
        "/login",
        data={"username": "coordinator", "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    form = world.client.get("/login", params={"next": target})
    assert 'name="next" value="/"' in form.text


def test_log_in_goes_back_to_the_page_asked_for(world: World) -> None:
    target = f"/operations/{world.operation_id}/incidents?lang=ar"
    answer = world.client.post(
        "/login",
        data={"username": "coordinator", "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert answer.headers["location"] == target


def test_the_session_cookie_is_http_only_and_strict_and_log_out_ends_it(world: World) -> None:
    client = world.client
    client.headers.pop("Authorization", None)
    answer = client.post(
        "/login", data={"username": "coordinator", "password": PASSWORD}, follow_redirects=False
    )
    cookies = answer.headers.get_list("set-cookie")
    [session] = [c for c in cookies if c.startswith("corridor_session=")]
    assert "HttpOnly" in session and "SameSite=strict" in session.replace("Strict", "strict")
    token, csrf = client.cookies["corridor_session"], client.cookies["corridor_csrf"]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 200
    after = client.get(world.url("/vehicles"), headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401


# --- access -------------------------------------------------------------------------------------


def _people_and_an_incident(world: World) -> dict[str, Any]:
    first = world.household(
        {"name": NAME_A, "age_band": "18-59", "sex": "female", "wristband": "WB-SEC-1"},
        {"name": NAME_B, "age_band": "0-4", "sex": "male", "vulnerabilities": ["wounded"]},
    )
    world.vehicle("BUS-1")
    assert world.client.post(world.url("/manifests"), headers=world.coordinator).status_code in (200, 201)
    person_ids = [p["id"] for p in first["people"]]
    incident = world.client.post(
        world.url("/incidents"),
        json={
            "kind": "detention",
            "occurred_at": "2016-12-15T10:25:00+02:00",
            "description": SECRET_TEXT,
            "place_name": "Ramouseh bridge",
            "lat": 36.17,
            "lon": 37.12,
            "people": person_ids[:1],
            "vehicles": ["BUS-1"],
        },
        headers=world.coordinator,
    )
    assert incident.status_code == 201, incident.text
    return {"household": first["id"], "people": person_ids, "incident": incident.json()["id"]}


def test_an_observer_sees_no_name_id_or_incident_text_on_any_page(world: World) -> None:
    made = _people_and_an_incident(world)
    values = {"operation_id": world.operation_id, "code": "BUS-1", "household_id": made["household"]}
    values["slug"] = world.operation_id  # a public page's address may name the operation by its id
    values["chart"] = "fan"  # a risk job's chart: fan or tornado
    _log_in(world.client, "observer-user")
    secrets = [NAME_A, NAME_B, SECRET_TEXT, "WB-SEC-1", *made["people"], made["household"], made["incident"]]
    shown = 0
    for path, methods in _page_routes(world):
        if "GET" not in methods or path == "/sw.js":
            continue
        for lang in ("en", "ar"):
            answer = world.client.get(
                _fill(path, values), params={"lang": lang}, headers={"Accept": "text/html"}
            )
            # the convoy's trip sheets exist once a convoy plan is published (none is here)
            # ... and a notice's poster needs a notice of that id, a job's page a job (none is "x"),
            # the local CA's pages a CA (made by `corridor serve --tls`; none here)
            missing = (
                "/convoy/" in path or "{notice_id}" in path or "{job" in path or path in ("/ca", "/ca.crt")
            )
            allowed = (200, 403, 503, 404) if missing else (200, 403, 503)
            assert answer.status_code in allowed, (path, answer.status_code)
            shown += answer.status_code == 200
            for secret in secrets:
                assert secret not in answer.text, (path, secret)
                assert secret[:8] not in answer.text or secret in (NAME_A, NAME_B, SECRET_TEXT), (
                    path,
                    secret,
                )
    assert shown >= 6  # operations, dashboard and its live part, sitrep, map and its data, in 2 languages


def _report_an_incident(world: World, username: str) -> str:
    """Report an incident on the page as ``username``, after another was reported; the answer."""
    _people_and_an_incident(world)
    csrf = _log_in(world.client, username)
    answer = world.client.post(
        f"/operations/{world.operation_id}/incidents",
        data=_form_that_would_change_things(),
        headers={**HTMX, "X-CSRF-Token": csrf},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.text)


def test_a_marshal_who_reports_an_incident_sees_no_other_incident(world: World) -> None:
    text = _report_an_incident(world, "checkpoint_marshal-user")
    assert SECRET_TEXT not in text


def _log(world: World, action: str) -> list[tuple[str, str, str]]:
    entries = world.client.get(
        f"/api/access-log?operation={world.operation_id}", headers=world.coordinator
    ).json()
    return [(e["actor"], e["decision"], e["path"]) for e in entries if e["action"] == action]


def test_reporting_an_incident_on_the_page_logs_the_read_of_the_timeline_it_answers(world: World) -> None:
    text = _report_an_incident(world, "monitor-user")
    assert SECRET_TEXT in text  # the timeline, with every incident's description
    world.client.cookies.clear()
    reads = _log(world, "incidents.read")
    assert ("user:monitor-user", "allow", f"/operations/{world.operation_id}/incidents") in reads


def test_every_page_that_names_people_logs_the_read(world: World) -> None:
    made = _people_and_an_incident(world)
    _log_in(world.client, "coordinator")
    op = world.operation_id
    pages = {
        f"/operations/{op}/manifests/BUS-1": "manifest.read",
        f"/operations/{op}/register/households/{made['household']}/wristbands": "households.write",
        f"/operations/{op}/incidents": "incidents.read",
        f"/operations/{op}/scan/snapshot": "manifest.read",
    }
    for path in pages:
        answer = world.client.get(path, headers={"Accept": "text/html"})
        assert answer.status_code == 200, (path, answer.text[:200])
    world.client.cookies.clear()
    for path, action in pages.items():
        assert ("user:coordinator", "allow", path) in _log(world, action), path


# --- XSS ------------------------------------------------------------------------------------------


def test_names_and_descriptions_are_escaped_on_every_page_that_shows_them(world: World) -> None:
    household = world.household(
        {"name": SCRIPT, "age_band": "18-59", "sex": "female"},
        {"name": EVIL, "age_band": "18-59", "sex": "male"},
        gathering_point=EVIL,
    )
    world.vehicle("BUS-1")
    world.client.post(world.url("/manifests"), headers=world.coordinator)
    answer = world.client.post(
        world.url("/incidents"),
        json={
            "kind": "other",
            "occurred_at": "2016-12-15T10:25:00Z",
            "description": SCRIPT + EVIL,
            "place_name": EVIL + SCRIPT,
            "lat": 36.1,
            "lon": 37.1,
        },
        headers=world.coordinator,
    )
    assert answer.status_code == 201, answer.text
    _log_in(world.client, "coordinator")
    op = world.operation_id
    for path in (
        f"/operations/{op}/manifests/BUS-1",
        f"/operations/{op}/register/households/{household['id']}/wristbands",
        f"/operations/{op}/register",
        f"/operations/{op}/incidents",
    ):
        for lang in ("en", "ar"):
            text = world.client.get(path, params={"lang": lang}).text
            assert "<script>alert" not in text and "<img src=x" not in text, path
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in world.client.get(f"/operations/{op}/manifests/BUS-1").text
    )
    # The incidents' map points are JSON in a data block: "</script>" inside cannot close it.
    incidents = world.client.get(f"/operations/{op}/incidents").text
    block = re.search(r'id="incident-points">(.*?)</script>', incidents, re.S)
    assert block is not None and "\\u003cimg" in block[1]


# --- headers --------------------------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy_and_no_store(world: World) -> None:
    _log_in(world.client, "coordinator")
    for path in (
        "/login",
        "/",
        f"/operations/{world.operation_id}",
        f"/operations/{world.operation_id}/incidents",
    ):
        answer = world.client.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-eval" not in policy and "script-src 'self' 'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
    static = world.client.get("/static/app.js")
    assert static.headers["x-content-type-options"] == "nosniff"
    assert static.headers.get("cache-control") != "no-store"
    assert world.client.get("/sw.js").headers["cache-control"] == "no-cache"
    api = world.client.get("/api/health")
    assert "content-security-policy" not in api.headers and api.headers["x-content-type-options"] == "nosniff"


def test_the_pages_have_no_inline_script_or_handler_for_the_policy_to_refuse() -> None:
    templates = Path(headers.__file__).parent / "templates"
    for path in templates.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), path.name
        assert "<style" not in text, path.name


def test_the_tile_host_is_allowed_for_images_only_when_set() -> None:
    assert headers.tile_source(None) is None
    assert headers.tile_source("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert (
        headers.tile_source("https://tiles.example.org:8443/{z}/{x}/{y}.png")
        == "https://tiles.example.org:8443"
    )
    assert headers.tile_source("/tiles/{z}/{x}/{y}.png") is None
    assert "img-src 'self' data: blob: https://*.tile.example.org;" in headers.content_policy(
        "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    )


# --- evidence -------------------------------------------------------------------------------------


def test_an_html_file_given_as_evidence_can_never_run_as_a_page(world: World) -> None:
    csrf = _log_in(world.client, "coordinator")
    html = b"<html><script>alert(document.cookie)</script></html>"
    answer = world.client.post(
        f"/operations/{world.operation_id}/incidents",
        data=_form_that_would_change_things(),
        files={"files": ("photo.jpg", html, "text/html")},
        headers={**HTMX, "X-CSRF-Token": csrf},
    )
    assert answer.status_code == 201, answer.text
    sha = re.search(r'data-sha256="([0-9a-f]{64})"', answer.text)
    assert sha is not None
    download = world.client.get(world.url(f"/evidence/{sha[1]}"))
    assert download.status_code == 200
    assert download.content == html
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    assert "default-src 'none'" in download.headers["content-security-policy"]


def test_the_web_upload_refuses_a_file_over_the_limit_and_a_body_over_the_cap(world: World) -> None:
    csrf = _log_in(world.client, "coordinator")
    limit = world.settings.max_evidence_bytes
    url = f"/operations/{world.operation_id}/incidents"
    sent = {**HTMX, "X-CSRF-Token": csrf}
    before = _row_counts(world)
    one = world.client.post(
        url,
        data=_form_that_would_change_things(),
        files={"files": ("big.jpg", b"\xff" * (limit + 1), "image/jpeg")},
        headers=sent,
    )
    assert one.status_code == 413, one.text
    assert 'id="files-error"' in one.text and "big.jpg" in one.text
    many = world.client.post(
        url,
        data=_form_that_would_change_things(),
        files=[("files", (f"p{i}.jpg", b"\xff", "image/jpeg")) for i in range(incidents.MAX_FILES + 1)],
        headers=sent,
    )
    assert many.status_code == 422, many.text
    assert 'id="files-error"' in many.text
    cap = incidents.MAX_FILES * limit + incidents.FORM_FIELDS_BYTES
    huge = world.client.post(
        url,
        data=_form_that_would_change_things(),
        files=[("files", (f"p{i}.jpg", b"\xff" * (cap // 3), "image/jpeg")) for i in range(4)],
        headers=sent,
    )
    assert huge.status_code == 413, huge.text
    # Without a Content-Length (sent in chunks), the body is cut off as it comes in.
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="x.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(cap // 65536 + 2):
            yield b"\xff" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    chunked = world.client.post(
        url, content=chunks(), headers={**sent, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert chunked.status_code == 413, chunked.text
    assert _row_counts(world)["incidents"] == before["incidents"]
    ok = world.client.post(
        url,
        data=_form_that_would_change_things(),
        files={"files": ("fits.jpg", b"\xff" * limit, "image/jpeg")},
        headers=sent,
    )
    assert ok.status_code == 201, ok.text
