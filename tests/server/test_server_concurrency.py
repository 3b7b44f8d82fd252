"""Many scanners at once through the single writer: each acknowledged event stored exactly once,
in an unbroken chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import create_engine, text

from corridor.server.ledger_check import verify_ledger
from server.conftest import World, bearer


def test_concurrent_scanners_lose_and_duplicate_nothing(world: World) -> None:
    world.vehicle("bus-1")
    people = [
        p["id"]
        for p in world.household(*[{"name": f"P{i}", "age_band": "18-59", "sex": "male"} for i in range(10)])[
            "people"
        ]
    ]
    tokens = {}
    for d in range(6):
        answer = world.client.post(
            world.url("/devices"),
            json={"device_id": f"dev-{d}", "label": "gate", "point": "start"},
            headers=world.coordinator,
        )
        tokens[f"dev-{d}"] = answer.json()["token"]

    def scanner(device: str) -> list[int]:
        statuses = []
        for n in range(1, 16):
            event: dict[str, Any] = {
                "event_id": f"{device}-{n}",
                "device_id": device,
                "seq": n,
                "device_time": f"2016-12-15T10:{n:02d}:00Z",
                "type": "boarded",
                "payload": {"person_id": people[n % 10], "vehicle_id": "bus-1", "point": "start"},
            }
            for _ in range(2 if n % 4 == 0 else 1):  # some sent twice
                statuses.append(
                    world.client.post(
                        world.url("/events"), json=event, headers=bearer(tokens[device])
                    ).status_code
                )
        return statuses

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = [s for batch in pool.map(scanner, tokens) for s in batch]
    assert answers.count(201) == 6 * 15 and answers.count(200) == 6 * 3 and len(answers) == 6 * 18
    engine = create_engine(world.settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*), count(DISTINCT event_id) FROM ledger_entries WHERE device_id LIKE 'dev-%'")
        ).one()
    engine.dispose()
    assert tuple(rows) == (90, 90)
    result = verify_ledger(world.settings.database_url)
    assert result.ok and result.entries == 100, result.render()
