"""What the administration's tests share (without a browser and in one): a cookie log-in with
the headers an htmx form sends, a route as the operation form takes it, and a small plan.json to
publish."""

from __future__ import annotations

from typing import Any

from server.conftest import PASSWORD, World

HTMX = {"HX-Request": "true", "Accept": "text/html"}
ROUTE_TEXT = "a; Gate A; departure; 0\nb; Bridge; checkpoint; 15\nc; Camp; arrival; 40"


def log_in(world: World, username: str = "coordinator") -> dict[str, str]:
    """A cookie session as ``username``; the headers an htmx form sends (with the CSRF token)."""
    client = world.client
    client.headers.pop("Authorization", None)
    client.cookies.clear()
    answer = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return {**HTMX, "X-CSRF-Token": client.cookies["corridor_csrf"]}


def plan_json(people: int) -> dict[str, Any]:
    """A small well-formed plan.json for the test scenario, passing the route points start, cp1
    and end (published by the API)."""
    return {
        "format": 1,
        "scenario": "east-aleppo-2016",
        "network": "test",
        "method": "greedy",
        "objective": "max-evacuated",
        "status": "feasible",
        "start": "2016-12-15T06:00:00+00:00",
        "dt": 5.0,
        "horizon": 20,
        "evacuees": people,
        "evacuated": people,
        "bound": people,
        "routes": [
            {
                "source": "s1",
                "group": "g",
                "people": people,
                "destination": "end",
                "nodes": ["start", "cp1", "end"],
                "arcs": [0, 1],
                "departures": [0, 4],
                "arrival": 12,
            }
        ],
    }
