"""Small defects of the web app, on SQLite and PostgreSQL: the 403 page speaks plainly and leads
back; the favicon is served; the dashboard's incidents panel counts by kind; the clearance curve
is a line, not a filled wedge."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from corridor.reports.curves import Series, clearance_svg
from server.admin_cases import log_in
from server.conftest import World

HTML = {"Accept": "text/html"}


def test_the_403_page_says_what_in_plain_words_and_leads_back_and_the_favicon_is_served(
    world: World,
) -> None:
    log_in(world, "observer-user")
    came_from = f"http://testserver/operations/{world.operation_id}"
    for lang, plain in (("en", "read the incidents"), ("ar", "تقرأ الحوادث")):
        answer = world.client.get(
            f"/operations/{world.operation_id}/incidents?lang={lang}", headers={**HTML, "Referer": came_from}
        )
        assert answer.status_code == 403
        assert plain in answer.text
        # No internal name of a permission or role, no actor label.
        for internal in ("incidents.read", "checkpoint_marshal", "user:observer-user", "may not do"):
            assert internal not in answer.text, internal
        assert f'href="/operations/{world.operation_id}"' in answer.text  # back where they came from
        assert 'href="/"' in answer.text
    # A referer on another site is no way back.
    elsewhere = world.client.get(
        f"/operations/{world.operation_id}/incidents?lang=en",
        headers={**HTML, "Referer": "http://evil.example/operations"},
    )
    assert elsewhere.status_code == 403 and "evil.example" not in elsewhere.text
    # htmx fragments too; the API keeps its exact JSON.
    fragment = world.client.get(
        f"/operations/{world.operation_id}/incidents?lang=en", headers={**HTML, "HX-Request": "true"}
    )
    assert fragment.status_code == 403 and "incidents.read" not in fragment.text
    api = world.client.get(world.url("/incidents"), headers=world.as_role("observer"))
    assert api.status_code == 403 and "incidents.read" in api.json()["error"]["message"]

    # The favicon: an SVG, linked from every page.
    icon = world.client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
    login = world.client.get("/login")
    assert '<link rel="icon" href="/favicon.ico"' in login.text


def test_the_dashboard_incidents_panel_counts_by_kind_and_logs_the_read(world: World) -> None:
    for kind, minute in (("detention", 10), ("detention", 20), ("shelling", 30)):
        reported = world.client.post(
            world.url("/incidents"),
            json={
                "kind": kind,
                "occurred_at": f"2016-12-15T10:{minute}:00Z",
                "place_name": f"km {minute}",
                "description": "seen",
            },
            headers=world.coordinator,
        )
        assert reported.status_code == 201, reported.text
    log_in(world, "monitor-user")
    dashboard = world.client.get(f"/operations/{world.operation_id}?lang=en", headers=HTML)
    assert dashboard.status_code == 200
    assert f'hx-get="/operations/{world.operation_id}/incidents/panel"' in dashboard.text
    panel = world.client.get(f"/operations/{world.operation_id}/incidents/panel?lang=en", headers=HTML)
    assert panel.status_code == 200, panel.text
    counts = dict(re.findall(r'data-kind="(\w+)"><span>[^<]+</span> <b>(\d+)</b>', panel.text))
    assert counts == {"detention": "2", "shelling": "1"}
    latest = re.findall(r"<li><time[^>]*>([^<]+)</time>", panel.text)
    # Newest first, in the operation's time zone, named once.
    assert re.fullmatch(r"Shelling at .*1[02]:30 UTC(\+02:00)?", latest[0]) and len(latest) == 3, latest
    assert "All incidents (3)" in panel.text and 'hx-trigger="every 30s"' in panel.text
    log = world.client.get("/api/access-log?limit=5", headers=world.coordinator).json()
    assert any(
        e["action"] == "incidents.read" and e["path"].endswith("/incidents/panel?lang=en") for e in log
    )
    # An observer sees the dashboard without the panel, and may not open it.
    log_in(world, "observer-user")
    plain = world.client.get(f"/operations/{world.operation_id}", headers=HTML)
    assert plain.status_code == 200 and "/incidents/panel" not in plain.text
    assert (
        world.client.get(f"/operations/{world.operation_id}/incidents/panel", headers=HTML).status_code == 403
    )


def test_the_clearance_curve_draws_lines_not_filled_areas() -> None:
    start = datetime(2016, 12, 15, 6, tzinfo=UTC)
    end = datetime(2016, 12, 15, 18, tzinfo=UTC)
    planned = [(datetime(2016, 12, 15, h, tzinfo=UTC), (h - 6) * 10) for h in range(7, 18)]
    svg = clearance_svg(
        [Series("arrived", [], "reality"), Series("planned", planned, "plan")],
        start=start,
        end=end,
        total=120,
        title="t",
    )
    lines = re.findall(r"<polyline [^>]*>", svg)
    assert len(lines) == 2
    # An inline style outranks any stylesheet rule that colours the series with ``fill``.
    assert all('style="fill:none"' in line for line in lines)
