"""The scanning phones' roster: only the manifests that pass the phone's point, then deltas that
carry only what changed, and a whole roster again when the cursor is too old (SQLite and
PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from corridor.server.columns import utc_now
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.db import Database
from corridor.server.manifests.roster import MAX_AGE, Cursor
from corridor.server.manifests.tables import ManifestEntry
from server.conftest import World

# Trip 1 of B1 drives start -> cp1 -> end; trip 1 of B2 goes round cp1 (start -> bypass -> end).
PATHS = {"bus-1": ["start", "cp1", "end"], "bus-2": ["start", "bypass", "end"]}


def _plan(world: World) -> None:
    """A current convoy plan naming the roads of the trips of B1 and B2 (as a publish would)."""
    trips = [
        {"vehicle": v, "number": 1, "gathering": "start", "reception": "end", "haul": {"nodes": nodes}}
        for v, nodes in PATHS.items()
    ]
    db = Database(world.settings.database_url)
    with db.writing() as session:
        session.add(
            ConvoyVersion(
                operation_id=world.operation_id,
                version=1,
                plan_hash="0" * 64,
                body={"trips": trips},
                basis={},
                vehicles={"bus-1": "B1", "bus-2": "B2"},
                offsets={},
                current=True,
                published_at=utc_now(),
                published_by="test",
                method="test",
                evacuated=4,
                evacuees=4,
                trips=2,
            )
        )
    db.dispose()


def _people(world: World, *names: str) -> list[str]:
    made = world.household(*({"name": n, "age_band": "18-59", "sex": "female"} for n in names))
    return [p["id"] for p in made["people"]]


def _assign(world: World) -> dict[str, str]:
    answer = world.client.post(world.url("/manifests"), headers=world.coordinator)
    assert answer.status_code < 300, answer.text
    db = Database(world.settings.database_url)
    with db.reading() as session:
        rows = session.execute(select(ManifestEntry.person_id, ManifestEntry.vehicle_code))
        found = {person: vehicle for person, vehicle in rows}
    db.dispose()
    return found


def _roster(world: World, point: str, since: str | None = None, role: str = "checkpoint_marshal") -> Any:
    params = {"point": point} | ({"since": since} if since else {})
    answer = world.client.get(world.url("/roster"), params=params, headers=world.as_role(role))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _scan(world: World, n: int, kind: str, person: str, point: str) -> None:
    event = {
        "event_id": f"roster-{n}",
        "device_id": "scanner-1",
        "seq": n,
        "device_time": utc_now().isoformat(),
        "type": kind,
        "payload": {"person_id": person, "point": point},
    }
    answer = world.client.post(world.url("/events"), json=event, headers=world.device)
    assert answer.status_code == 201, answer.text


def _world_with_two_roads(world: World) -> tuple[list[str], list[str]]:
    world.vehicle("B1", seats=2)
    world.vehicle("B2", seats=2)
    first = _people(world, "Rana", "Huda")
    second = _people(world, "Omar", "Samir")
    _plan(world)
    on = _assign(world)
    by_cp1 = sorted(p for p in first + second if on[p] == "B1")
    around = sorted(p for p in first + second if on[p] == "B2")
    assert len(by_cp1) == 2 and len(around) == 2
    return by_cp1, around


def test_a_phone_holds_only_the_manifests_that_pass_its_point(world: World) -> None:
    by_cp1, around = _world_with_two_roads(world)
    at_cp1 = _roster(world, "cp1")
    assert at_cp1["full"] is True
    assert sorted(row[0] for row in at_cp1["people"]) == by_cp1
    assert not {row[0] for row in at_cp1["people"]} & set(around)
    assert {row[2] for row in at_cp1["people"]} == {"B1"}
    # Both roads start and end at the same points: those phones hold everyone.
    for point in ("start", "end"):
        assert sorted(row[0] for row in _roster(world, point)["people"]) == sorted(by_cp1 + around)
    # Names for a marshal (who may read manifests); a scanner device gets none.
    assert all(row[5] for row in at_cp1["people"])
    device = world.client.get(world.url("/roster"), params={"point": "cp1"}, headers=world.device)
    assert device.status_code == 200, device.text
    assert [row[5] for row in device.json()["people"]] == [None, None]
    # A plan whose roads name none of the route's points (no published plan places them on the
    # network) tells nothing: every phone holds everyone.
    _plan_again(world, lambda body: {"trips": [t | {"haul": {"nodes": ["n1", "n2"]}} for t in body["trips"]]})
    assert len(_roster(world, "cp1")["people"]) == 4


def test_a_delta_after_a_change_carries_only_the_change(world: World) -> None:
    by_cp1, around = _world_with_two_roads(world)
    cursor = _roster(world, "cp1")["cursor"]
    # Nothing changed: an empty delta with a cursor to go on from.
    quiet = _roster(world, "cp1", cursor)
    assert (quiet["full"], quiet["people"], quiet["gone"], quiet["vehicles"]) == (False, [], [], [])
    # Boarding at the start changes nothing a scan at cp1 answers: nothing to send.
    _scan(world, 1, "boarded", by_cp1[0], "start")
    boarded = _roster(world, "cp1", quiet["cursor"])
    assert boarded["people"] == [] and boarded["full"] is False
    # Passing cp1 does (a second scan there answers "already seen here"): that one row alone.
    _scan(world, 2, "checkpoint", by_cp1[0], "cp1")
    passed = _roster(world, "cp1", boarded["cursor"])
    assert [row[0] for row in passed["people"]] == [by_cp1[0]]
    assert passed["people"][0][3:5] == ["", 1]
    # A person scanned on the other road is no concern of cp1's phone.
    _scan(world, 3, "arrived", around[0], "end")
    assert _roster(world, "cp1", passed["cursor"])["people"] == []
    # A person moved to the trip that goes round cp1 leaves this phone's roster (gone).
    db = Database(world.settings.database_url)
    with db.writing() as session:
        entry = session.get(ManifestEntry, by_cp1[1])
        assert entry is not None
        entry.vehicle_code = "B2"
    db.dispose()
    moved = _roster(world, "cp1", passed["cursor"])
    assert moved["people"] == [] and moved["gone"] == [by_cp1[1]]
    # A new household on a vehicle no plan describes passes every point: its rows alone.
    world.vehicle("B3", seats=5)
    newcomers = _people(world, "Layla", "Mariam")
    _assign(world)
    added = _roster(world, "cp1", moved["cursor"])
    assert sorted(row[0] for row in added["people"]) == sorted(newcomers)
    assert [row[0] for row in added["vehicles"]] == ["B3"]


def test_a_whole_roster_again_when_the_cursor_is_too_old_or_not_ours(world: World) -> None:
    by_cp1, _ = _world_with_two_roads(world)
    now = _roster(world, "cp1")
    cursor = Cursor.parse(now["cursor"])
    assert cursor is not None
    stale = Cursor(cursor.change, cursor.position, int(time.time()) - MAX_AGE - 60, "cp1").text()
    for since in (stale, "garbage", now["cursor"].replace(".cp1", ".start")):
        again = _roster(world, "cp1", since)
        assert again["full"] is True
        assert sorted(row[0] for row in again["people"]) == by_cp1
    # A change of trips or plans: every phone loads whole again.
    _plan_again(world)
    assert _roster(world, "cp1", now["cursor"])["full"] is True
    # A point not on the route is refused, naming the field.
    answer = world.client.get(
        world.url("/roster"), params={"point": "nowhere"}, headers=world.as_role("checkpoint_marshal")
    )
    assert answer.status_code == 422 and "nowhere" in answer.text
    # A role that may not scan gets no roster.
    refused = world.client.get(
        world.url("/roster"), params={"point": "cp1"}, headers=world.as_role("observer")
    )
    assert refused.status_code == 403


def _plan_again(world: World, change: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
    """The current convoy plan changed (its count of trips, or its body by ``change``)."""
    db = Database(world.settings.database_url)
    with db.writing() as session:
        version = session.scalars(select(ConvoyVersion)).one()
        version.trips += 1
        if change is not None:  # another plan: another content hash
            version.body = change(version.body)
            version.plan_hash = "1" * 64
    db.dispose()


def test_people_registered_at_a_point_on_no_manifest_are_on_its_roster_and_counted(world: World) -> None:
    """A person registered where they gather, not yet on any manifest, is on the roster of that
    point (with no vehicle) and of no other; a scan of them there is recorded, noted, and
    reconciliation counts them. Put on a trip that does not pass the point, the phone drops them."""
    by_cp1, around = _world_with_two_roads(world)
    before = {p: _roster(world, p) for p in ("start", "cp1")}
    [walker] = _people_at(world, "start", "Mariam")
    [stray] = _people_at(world, "cp1", "Samira")
    at_start = _roster(world, "start")
    rows = {row[0]: row for row in at_start["people"]}
    assert set(rows) == {*by_cp1, *around, walker}  # not the one registered at cp1
    assert rows[walker][2] is None and rows[walker][3:5] == ["", -1] and rows[walker][5] == "Mariam"
    assert sorted(row[0] for row in _roster(world, "cp1")["people"]) == sorted([*by_cp1, stray])
    assert _roster(world, "end")["people"] and walker not in {r[0] for r in _roster(world, "end")["people"]}
    # The phones already holding a roster get them as a change.
    delta = _roster(world, "start", before["start"]["cursor"])
    assert delta["full"] is False and [row[0] for row in delta["people"]] == [walker]
    delta = _roster(world, "cp1", before["cp1"]["cursor"])
    assert [row[0] for row in delta["people"]] == [stray] and stray not in delta["gone"]

    # Scanned where they gather: recorded, with the note the phone adds, and counted.
    event = {
        "event_id": "roster-walker",
        "device_id": "scanner-1",
        "seq": 1,
        "device_time": utc_now().isoformat(),
        "type": "boarded",
        "payload": {"person_id": walker, "point": "start", "note": "on no manifest"},
    }
    answer = world.client.post(world.url("/events"), json=event, headers=world.device)
    assert answer.status_code == 201, answer.text
    status = world.client.get(world.url(f"/status/person/{walker}"), headers=world.coordinator).json()
    assert status["status"] == "boarded"
    result = world.client.get(world.url("/reconciliation"), headers=world.coordinator).json()
    assert result["people"]["boarded"] == 1
    assert result["by_gathering_point"]["start"]["boarded"] == 1
    assert not [u for u in result["unknown_subjects"] if walker in u]
    seen = _roster(world, "start", at_start["cursor"])
    assert [row[0] for row in seen["people"]] == [walker] and seen["people"][0][3:5] == ["", 0]

    # Put on trip 1 of B2 (round cp1): cp1's phone drops them, start's shows the vehicle.
    cursors = {p: _roster(world, p)["cursor"] for p in ("start", "cp1")}
    db = Database(world.settings.database_url)
    with db.writing() as session:
        for person in (walker, stray):
            session.add(
                ManifestEntry(
                    person_id=person,
                    operation_id=world.operation_id,
                    vehicle_code="B2",
                    trip=1,
                    place="seat",
                    assigned_at=utc_now(),
                )
            )
    db.dispose()
    dropped = _roster(world, "cp1", cursors["cp1"])
    assert dropped["full"] is False and stray in dropped["gone"] and dropped["people"] == []
    moved = _roster(world, "start", cursors["start"])
    assert {row[0]: row[2] for row in moved["people"]} == {walker: "B2", stray: "B2"}


def _people_at(world: World, point: str, *names: str) -> list[str]:
    people = ({"name": n, "age_band": "18-59", "sex": "female"} for n in names)
    return [p["id"] for p in world.household(*people, gathering_point=point)["people"]]
