"""Rules of the web layer that need no browser: languages complete, CSRF on cookie sessions,
pages versus API errors."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from corridor.reports import notice_words
from corridor.server.web.i18n import languages
from server.conftest import PASSWORD, World

WEB = Path(__file__).resolve().parents[2] / "src" / "corridor" / "server" / "web"


def test_every_language_has_every_message_and_a_direction() -> None:
    found = languages()
    assert {"en", "ar"} <= set(found)
    reference = set(found["en"].messages)
    for code, language in found.items():
        assert language.direction in ("ltr", "rtl"), code
        missing = reference - set(language.messages)
        assert not missing, f"{code}/LC_MESSAGES/corridor.po lacks {sorted(missing)}"
        for key, text in language.messages.items():
            placeholders = set(re.findall(r"{(\w+)}", text))
            assert placeholders == set(re.findall(r"{(\w+)}", found["en"].messages.get(key, text))), key


def test_every_message_used_in_templates_and_code_exists_in_english() -> None:
    # the web app's catalog, and the reports' (the words of notices and public pages are there)
    english = set(languages()["en"].messages) | set(notice_words.words("en").language.messages)
    used: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        used |= set(re.findall(r"""\bt(?:ext)?\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text()))
    assert used, "no messages found: the pattern is wrong"
    # A key ending in "_" or "." is the prefix of keys made at run time (e.g. "status." ~ value):
    # at least one key must start with it.
    prefixes = {key for key in used if key.endswith(("_", "."))}
    assert not used - prefixes - set(english), sorted(used - prefixes - set(english))
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in english), prefix


def _log_in(client: TestClient, username: str) -> None:
    answer = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert "corridor_session" in client.cookies


def test_a_cookie_session_must_carry_the_csrf_token_to_change_anything(world: World) -> None:
    client = world.client
    client.headers.pop("Authorization", None)
    _log_in(client, "coordinator")
    body = {"code": "BUS-X", "kind": "bus", "seats": 40}
    refused = client.post(world.url("/vehicles"), json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["where"] == "X-CSRF-Token"
    csrf = client.cookies["corridor_csrf"]
    accepted = client.post(world.url("/vehicles"), json=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201, accepted.text
    assert client.get(world.url("/vehicles")).status_code == 200


def test_api_errors_stay_json_and_pages_redirect_to_log_in(world: World) -> None:
    client = world.client
    api = client.get(world.url("/vehicles"), headers={"Accept": "text/html"})
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "unauthenticated"
    page = client.get(
        f"/operations/{world.operation_id}", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=/operations/")


def test_log_in_refuses_a_redirect_to_another_site(world: World) -> None:
    answer = world.client.post(
        "/login",
        data={"username": "coordinator", "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_log_out_revokes_the_token(world: World) -> None:
    client = world.client
    _log_in(client, "coordinator")
    token = client.cookies["corridor_session"]
    csrf = client.cookies["corridor_csrf"]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 200
    again = client.get(world.url("/vehicles"), headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401


def test_the_api_documentation_is_served_from_the_app_not_a_cdn(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    scripts = re.findall(r"""<script src=["']([^"']+)["']""", docs.text)
    assert scripts and all(src.startswith("/static/vendor/") for src in scripts)
    for src in scripts:
        assert client.get(src).status_code == 200, src
    assert client.get("/redoc").status_code == 404
