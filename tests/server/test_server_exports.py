"""Streaming exports; names only for roles that may see them; the retention purge."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from corridor.server.app import create_app
from corridor.server.ledger_check import verify_ledger
from corridor.server.public.tables import TracingConsent
from corridor.server.settings import Settings
from server.conftest import World, make_world


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def register_many(world: World, count: int) -> None:
    lines = ["hh_id,name,age,sex"] + [
        f"H{i // 4},Person {i} شخص,{i % 90},{'mf'[i % 2]}" for i in range(count)
    ]
    answer = world.client.post(
        world.url("/imports/registrations"),
        files={"file": ("many.csv", "\n".join(lines).encode())},
        headers=world.coordinator,
    )
    assert answer.json()["people"] == count, answer.text


def test_people_export_streams_every_row_with_names_only_for_registrars(world: World) -> None:
    register_many(world, 1200)
    with world.client.stream(
        "GET", world.url("/exports/people.csv"), headers=world.as_role("registrar")
    ) as answer:
        assert answer.headers["content-type"].startswith("text/csv")
        assert "content-length" not in answer.headers  # streamed, not built in memory first
        text = b"".join(answer.iter_bytes()).decode("utf-8")
    named = rows(text)
    assert len(named) == 1200 and len({r["person_id"] for r in named}) == 1200
    assert {"Person 7 شخص"} <= {r["name"] for r in named}
    anonymous = rows(
        world.client.get(world.url("/exports/people.csv"), headers=world.as_role("planner")).text
    )
    assert len(anonymous) == 1200 and "name" not in anonymous[0] and "wristband" not in anonymous[0]


def test_events_export_is_the_ledger_in_chain_order(world: World) -> None:
    register_many(world, 10)
    events = rows(world.client.get(world.url("/exports/events.csv"), headers=world.as_role("monitor")).text)
    assert [int(e["position"]) for e in events] == list(range(1, 11))
    assert {e["type"] for e in events} == {"registered"}


def test_the_retention_purge_erases_names_and_keeps_the_ledger(settings: Settings) -> None:
    purging = settings.model_copy(update={"retention_days": 0})
    with TestClient(create_app(purging), raise_server_exceptions=False) as client:
        world = make_world(client, purging)
        register_many(world, 7)
        traced = client.post(
            world.url("/households"),
            json={
                "people": [{"name": "Amal", "age_band": "18-59", "sex": "female"}],
                "tracing": [{"person": 0, "relative": "Huda, her sister"}],
            },
            headers=world.coordinator,
        )
        assert traced.status_code == 201, traced.text
        early = client.post(world.url("/purge"), headers=world.coordinator)
        assert early.status_code == 409 and early.json()["error"]["hint"] == "close the operation first"
        client.patch(world.url(), json={"state": "closed"}, headers=world.coordinator)
        done = client.post(world.url("/purge"), headers=world.coordinator)
        assert done.json() == {"people_purged": 8}
        people = client.get(world.url("/people"), headers=world.coordinator).json()["people"]
        assert {p["name"] for p in people} == {None} and {p["age_band"] for p in people} != {None}
    # The relative named for family tracing is erased too, and the consent ends.
    engine = create_engine(purging.database_url)
    with engine.connect() as connection:
        query = select(TracingConsent.relative_sealed, TracingConsent.withdrawn_at)
        consents = connection.execute(query).all()
    engine.dispose()
    assert [(relative, ended is not None) for relative, ended in consents] == [("", True)]
    check = verify_ledger(purging.database_url)
    assert check.ok and check.entries == 9  # 8 registrations + the purge itself
