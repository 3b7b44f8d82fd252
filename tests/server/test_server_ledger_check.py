"""verify_ledger proves the chain untouched, or names the first entry changed behind its back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

from corridor.ops.ledger import GENESIS, canonical_json, sha256_hex
from corridor.server.db import Database
from corridor.server.ledger import service as ledger
from corridor.server.ledger_check import verify_ledger
from server.conftest import World


def fill(world: World) -> None:
    world.vehicle("bus-1")
    people = world.household(
        {"name": "Huda", "age_band": "18-59", "sex": "female"},
        {"name": "Karim", "age_band": "12-17", "sex": "male"},
    )["people"]
    events = [
        {
            "event_id": f"e{n}",
            "device_id": "scanner-1",
            "seq": n,
            "device_time": f"2016-12-15T10:0{n}:00Z",
            "type": "boarded",
            "payload": {"person_id": p["id"], "vehicle_id": "bus-1", "point": "start"},
        }
        for n, p in enumerate(people, start=1)
    ]
    answer = world.client.post(world.url("/events/batch"), json={"events": events}, headers=world.device)
    assert answer.json()["stored"] == 2


def sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def test_an_untouched_ledger_verifies(world: World) -> None:
    fill(world)
    result = verify_ledger(world.settings.database_url)
    assert result.ok and result.entries == 4, result.render()
    assert "intact" in result.render()


def forge_payload(url: str) -> None:
    sql(url, "UPDATE ledger_entries SET payload = replace(payload, 'bus-1', 'bus-9') WHERE position = 3")


def forge_time(url: str) -> None:
    sql(url, "UPDATE ledger_entries SET device_time = device_time - INTERVAL '1 hour' WHERE position = 3")


def forge_type(url: str) -> None:
    sql(url, "UPDATE ledger_entries SET type = 'arrived' WHERE position = 3")


def forge_payload_and_both_hashes(url: str) -> None:
    """A careful forger recomputes the payload hash and the entry hash; the next link breaks."""
    engine = create_engine(url)
    with engine.begin() as connection:
        payload = connection.execute(
            text("SELECT payload FROM ledger_entries WHERE position = 3")
        ).scalar_one()
        forged = payload.replace("bus-1", "bus-9")
        connection.execute(
            text(
                "UPDATE ledger_entries SET payload = :p, payload_sha256 = :h, entry_hash = :e"
                " WHERE position = 3"
            ),
            {"p": forged, "h": sha256_hex(forged.encode()), "e": sha256_hex(b"forged")},
        )
    engine.dispose()


def null_subject(url: str) -> None:
    sql(url, "UPDATE ledger_entries SET subject_kind = NULL WHERE position = 3")


def other_subject(url: str) -> None:
    sql(url, "UPDATE ledger_entries SET subject_id = 'someone-else' WHERE position = 3")


def other_point(url: str) -> None:
    sql(url, "UPDATE ledger_entries SET point = 'end' WHERE position = 3")


def other_operation(url: str) -> None:
    sql(url, "UPDATE ledger_entries SET operation_id = 'elsewhere' WHERE position = 3")


def delete_entry(url: str) -> None:
    sql(url, "DELETE FROM ledger_entries WHERE position = 3")


def cut_the_end(url: str) -> None:
    sql(url, "DELETE FROM ledger_entries WHERE position = 4")


@pytest.mark.parametrize(
    ("tamper", "position"),
    [
        (forge_payload, 3),
        (forge_type, 3),
        (forge_payload_and_both_hashes, 3),
        (null_subject, 3),
        (other_subject, 3),
        (other_point, 3),
        (other_operation, 3),
        (delete_entry, 3),
        (cut_the_end, 4),
    ],
)
def test_a_row_edited_in_the_database_is_found(
    world: World, tamper: Callable[[str], None], position: int
) -> None:
    fill(world)
    url = world.settings.database_url
    tamper(url)
    result = verify_ledger(url)
    assert not result.ok and result.first_bad_position == position, result.render()
    assert f"entry {position}" in result.render()
    via_api = world.client.get("/api/ledger/verify", headers=world.coordinator).json()
    assert via_api["first_bad_position"] == position


def test_an_edited_device_time_is_found(world: World) -> None:
    fill(world)
    url = world.settings.database_url
    if url.startswith("sqlite"):
        sql(url, "UPDATE ledger_entries SET device_time = '2016-12-15 09:00:00.000000' WHERE position = 3")
    else:
        forge_time(url)
    assert verify_ledger(url).first_bad_position == 3


def test_the_genesis_and_canonical_form_are_stable() -> None:
    assert GENESIS == "0" * 64
    assert canonical_json({"b": [1, 2], "a": None}) == b'{"a":null,"b":[1,2]}'


def test_nulling_the_subject_of_a_detention_is_found(world: World) -> None:
    """The column readers find an event by is covered by the chain: hiding a detention from the
    alarms by one UPDATE is no longer invisible to verify-ledger."""
    fill(world)
    person = world.household({"name": "Rana", "age_band": "18-59", "sex": "female"})["people"][0]["id"]
    detained = {
        "event_id": "held-1",
        "device_id": "scanner-1",
        "seq": 9,
        "device_time": "2016-12-15T10:09:00Z",
        "type": "detained",
        "payload": {"person_id": person, "point": "cp1"},
    }
    assert world.client.post(world.url("/events"), json=detained, headers=world.device).status_code == 201
    alarms = world.client.get(world.url("/reconciliation"), headers=world.coordinator).json()["alarms"]
    assert [a["subject_id"] for a in alarms] == [person]
    url = world.settings.database_url
    sql(url, "UPDATE ledger_entries SET subject_kind = NULL WHERE event_id = 'held-1'")
    db = Database(url)
    with db.reading() as session:  # the edit hides the detention from the readers of the columns ...
        about = ledger.events_about(session, world.operation_id, "person", person)
        assert [e.type for e in about] == ["registered"]
    db.dispose()
    result = verify_ledger(url)
    assert not result.ok and result.first_bad_position == 6, result.render()  # ... and is found


def test_an_edited_received_time_is_found(world: World) -> None:
    fill(world)
    url = world.settings.database_url
    if url.startswith("sqlite"):
        sql(url, "UPDATE ledger_entries SET received_at = '2016-12-15 09:00:00.000000' WHERE position = 3")
    else:
        sql(url, "UPDATE ledger_entries SET received_at = received_at - INTERVAL '1 hour' WHERE position = 3")
    assert verify_ledger(url).first_bad_position == 3
