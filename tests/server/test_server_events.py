"""Scan events through the API: repeats, conflicts, batches, late events, reconciliation."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from corridor.ops.ledger import EventType, ScanEvent
from corridor.ops.route import PointKind, Route, RoutePoint
from corridor.ops.status import fold
from server.conftest import ROUTE, World

T = "2016-12-15T10:{:02d}:00Z"


def scan(n: int, kind: str, minute: int, device: str = "scanner-1", **payload: str) -> dict[str, Any]:
    return {
        "event_id": f"{device}-{n}",
        "device_id": device,
        "seq": n,
        "device_time": T.format(minute),
        "type": kind,
        "payload": payload,
    }


def setup_people(world: World) -> list[str]:
    world.vehicle("bus-1")
    household = world.household(
        {"name": "Rana", "age_band": "18-59", "sex": "female", "vulnerabilities": ["wounded"]},
        {"name": "Omar", "age_band": "5-11", "sex": "male"},
        {"name": "Samir", "age_band": "60+", "sex": "male", "vulnerabilities": ["elderly"]},
    )
    return [p["id"] for p in household["people"]]


def post(world: World, event: dict[str, Any]) -> Any:
    return world.client.post(world.url("/events"), json=event, headers=world.device)


def test_stored_then_repeat_then_conflict(world: World) -> None:
    [p1, *_] = setup_people(world)
    event = scan(1, "boarded", 0, person_id=p1, vehicle_id="bus-1", point="start")
    first = post(world, event)
    assert first.status_code == 201 and first.json()["outcome"] == "stored"
    again = post(world, event)
    assert again.status_code == 200 and again.json()["outcome"] == "repeat"
    assert again.json()["position"] == first.json()["position"]
    other = post(world, {**event, "payload": {**event["payload"], "point": "cp1"}})
    assert other.status_code == 409
    assert other.json()["error"]["where"] == f"event_id {event['event_id']}"
    status = world.client.get(world.url(f"/status/person/{p1}"), headers=world.coordinator).json()
    assert status["status"] == "boarded" and status["point"] == "start"


def test_bad_events_are_rejected_with_the_field_named(world: World) -> None:
    [p1, *_] = setup_people(world)
    cases = [
        (scan(1, "boarded", 0, person_id="nobody", point="start"), "payload.person_id"),
        (scan(1, "checkpoint", 5, person_id=p1, point="cp9"), "payload.point"),
        (scan(1, "registered", 5, person_id=p1), "type"),
        (scan(1, "checkpoint", 5, device="someone-else", person_id=p1), "device_id"),
        (scan(1, "departed", 5, person_id=p1), "payload.vehicle_id"),
    ]
    for event, field in cases:
        answer = post(world, event)
        assert answer.status_code == 422, (event, answer.text)
        assert answer.json()["error"]["where"].endswith(field), answer.json()
    naive = {**scan(1, "checkpoint", 5, person_id=p1), "device_time": "2016-12-15T10:00:00"}
    assert post(world, naive).status_code == 422


def test_a_batch_stores_the_good_events_and_reports_the_others(world: World) -> None:
    [p1, p2, _] = setup_people(world)
    good = scan(1, "boarded", 0, person_id=p1, vehicle_id="bus-1", point="start")
    assert post(world, good).status_code == 201
    batch = [
        good,  # repeat
        {**good, "payload": {"person_id": p2}},  # conflict
        scan(2, "boarded", 0, person_id=p2, vehicle_id="bus-1", point="start"),
        scan(3, "boarded", 0, person_id="ghost", point="start"),  # rejected
        scan(4, "departed", 1, vehicle_id="bus-1", point="start"),
    ]
    answer = world.client.post(world.url("/events/batch"), json={"events": batch}, headers=world.device)
    body = answer.json()
    assert (body["stored"], body["repeats"], body["conflicts"], body["rejected"]) == (2, 1, 1, 1)
    assert [r["outcome"] for r in body["results"]] == [
        "repeat",
        "conflict",
        "stored",
        "rejected",
        "stored",
    ]


def test_a_reused_sequence_number_is_a_conflict(world: World) -> None:
    [p1, p2, _] = setup_people(world)
    assert post(world, scan(1, "boarded", 0, person_id=p1, point="start")).status_code == 201
    reuse = {**scan(1, "boarded", 0, person_id=p2, point="start"), "event_id": "fresh-id"}
    answer = post(world, reuse)
    assert answer.status_code == 409 and "seq 1" in answer.json()["error"]["message"]


def test_a_late_boarding_does_not_clear_a_detention(world: World) -> None:
    [p1, *_] = setup_people(world)
    detained = scan(1, "detained", 25, device="user:checkpoint_marshal-user", person_id=p1, point="cp1")
    marshal = world.as_role("checkpoint_marshal")
    assert world.client.post(world.url("/events"), json=detained, headers=marshal).status_code == 201
    late = scan(1, "boarded", 0, person_id=p1, vehicle_id="bus-1", point="start")
    assert post(world, late).status_code == 201
    status = world.client.get(world.url(f"/status/person/{p1}"), headers=world.coordinator).json()
    assert status["status"] == "detained"


def test_reconciliation_names_who_was_not_seen_and_what_data_is_pending(world: World) -> None:
    [p1, p2, p3] = setup_people(world)
    events = [
        scan(1, "boarded", 0, person_id=p1, vehicle_id="bus-1", point="start"),
        scan(2, "boarded", 0, person_id=p2, vehicle_id="bus-1", point="start"),
        scan(3, "departed", 0, vehicle_id="bus-1", point="start"),
        scan(5, "checkpoint", 21, person_id=p1, point="cp1"),  # seq 4 has not arrived yet
    ]
    world.client.post(world.url("/events/batch"), json={"events": events}, headers=world.device)
    at = "2016-12-15T11:00:00Z"  # 60 min after boarding: cp1 was due by 10:20 + 30 min grace
    result = world.client.get(world.url(f"/reconciliation?at={at}"), headers=world.coordinator).json()
    assert result["people"]["boarded"] == 1 and result["people"]["passed_checkpoint"] == 1
    assert result["people"]["registered"] == 1
    assert [(o["subject_id"], o["expected_point"]) for o in result["not_seen"]] == [(p2, "cp1")]
    assert result["not_seen"][0]["data_pending"] is True  # scanner-1 reported at cp1 with a gap
    assert result["data_pending"] == {"scanner-1": [{"first": 4, "last": 4}]}
    assert [v["subject_id"] for v in result["overdue_vehicles"]] == ["bus-1"]
    assert result["ceasefire"]["minutes_left"] == 420 and result["ceasefire"]["people_inside"] == 3
    assert result["by_group"]["wounded"]["passed_checkpoint"] == 1
    assert p3 not in {o["subject_id"] for o in result["not_seen"]}


def test_observers_get_counts_and_nothing_that_names_anyone(world: World) -> None:
    setup_people(world)
    counts = world.client.get(world.url("/counts"), headers=world.as_role("observer"))
    assert counts.status_code == 200 and counts.json()["people"]["registered"] == 3
    assert "not_seen" not in counts.json()
    denied = world.client.get(world.url("/reconciliation"), headers=world.as_role("observer"))
    assert denied.status_code == 403


def test_replayed_shuffled_duplicated_from_several_devices_gives_the_same_state(
    world: World,
) -> None:
    people = setup_people(world)
    marshal = world.as_role("checkpoint_marshal")
    rng = random.Random(7)
    kinds = ["boarded", "checkpoint", "missing", "detained", "released", "arrived", "found"]
    points = ["start", "cp1", "end"]
    by_device: dict[str, list[dict[str, Any]]] = {"scanner-1": [], "user:checkpoint_marshal-user": []}
    for device, events in by_device.items():
        for n in range(1, 16):
            events.append(
                scan(
                    n,
                    rng.choice(kinds),
                    rng.randrange(60),
                    device=device,
                    person_id=rng.choice(people),
                    point=rng.choice(points),
                )
            )
    headers = {"scanner-1": world.device, "user:checkpoint_marshal-user": marshal}

    def statuses() -> dict[str, str]:
        return {
            p: world.client.get(world.url(f"/status/person/{p}"), headers=world.coordinator)
            .json()
            .get("status", "none")
            for p in people
        }

    # Arrival order scrambled: each device's events shuffled, repeated, sent in uneven batches.
    for device, events in by_device.items():
        replay = events + rng.sample(events, 8)
        rng.shuffle(replay)
        while replay:
            size = rng.randint(1, 7)
            batch, replay = replay[:size], replay[size:]
            answer = world.client.post(
                world.url("/events/batch"), json={"events": batch}, headers=headers[device]
            )
            assert answer.json()["conflicts"] == answer.json()["rejected"] == 0
    # The server's state is the fold of the events in device order, whatever the arrival order.
    route = Route(
        tuple(RoutePoint(p["id"], p["name"], PointKind(p["kind"]), p["expected_minutes"]) for p in ROUTE)
    )
    in_order = [
        ScanEvent(
            e["event_id"],
            e["device_id"],
            e["seq"],
            datetime.fromisoformat(e["device_time"]),
            EventType(e["type"]),
            e["payload"],
        )
        for events in by_device.values()
        for e in events
    ]
    expected = {p: str(s.status) for (_, p), s in fold(in_order, route).items()}
    assert statuses() == {p: expected.get(p, "none") for p in people}
    check = world.client.get("/api/ledger/verify", headers=world.coordinator).json()
    assert check["ok"] and check["entries"] == 3 + 30  # 3 registrations + 30 scans


def test_a_time_without_offset_or_an_unknown_kind_is_a_clear_422(world: World) -> None:
    naive = world.client.get(world.url("/counts?at=2016-12-15T11:00:00"), headers=world.coordinator)
    assert naive.status_code == 422 and naive.json()["error"]["where"] == "query.at"
    kind = world.client.get(world.url("/status/bus/x"), headers=world.coordinator)
    assert kind.status_code == 422 and kind.json()["error"]["where"] == "path.kind"
