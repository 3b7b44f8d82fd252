"""The scan endpoints' lean route: the same rules and answers as any route, in fewer steps.

Scanners (bearer tokens) are answered by ``ScanRoute``'s own handler; these tests pin that it keeps
every rule of the API: the access rule, the one JSON error shape with the fields named as FastAPI
names them, the statuses of stored, repeated and conflicting events, the batch limit, and the
OpenAPI description of both endpoints.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.routing import APIRoute

from corridor.ops.ledger import EventType, Filing, ScanEvent, entry_hash
from corridor.server.checkpoints.ingest import BatchRoute, EventRoute
from corridor.server.checkpoints.routes import router
from corridor.server.ledger.service import _row
from server.conftest import World, bearer
from server.test_server_error_shape import assert_shape


def scan(n: int, person_id: str, device: str = "scanner-1") -> dict[str, Any]:
    return {
        "event_id": f"{device}-{n}",
        "device_id": device,
        "seq": n,
        "device_time": "2016-12-15T10:00:00Z",
        "type": "boarded",
        "payload": {"person_id": person_id, "point": "start"},
    }


def person(world: World) -> str:
    household = world.household({"name": "Rana", "age_band": "18-59", "sex": "female"})
    person_id: str = household["people"][0]["id"]
    return person_id


def test_the_scan_endpoints_use_the_lean_route() -> None:
    kinds = {r.path: type(r) for r in router.routes if isinstance(r, APIRoute)}
    assert kinds["/api/operations/{operation_id}/events"] is EventRoute
    assert kinds["/api/operations/{operation_id}/events/batch"] is BatchRoute


def test_stored_repeat_and_conflict_answer_as_before(world: World) -> None:
    event = scan(1, person(world))
    first = world.client.post(world.url("/events"), json=event, headers=world.device)
    assert first.status_code == 201, first.text
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {
        "event_id": "scanner-1-1",
        "outcome": "stored",
        "position": first.json()["position"],
        "message": None,
        "where": None,
        "hint": None,
    }
    again = world.client.post(world.url("/events"), json=event, headers=world.device)
    assert again.status_code == 200 and again.json()["outcome"] == "repeat"
    other = {**event, "payload": {**event["payload"], "point": "cp1"}}
    conflict = world.client.post(world.url("/events"), json=other, headers=world.device)
    assert assert_shape(conflict, 409, "conflict")["where"] == "event_id scanner-1-1"


def test_invalid_fields_are_named_as_fastapi_names_them(world: World) -> None:
    bad = {**scan(1, "x"), "seq": 0, "device_time": "2016-12-15T10:00:00", "colour": "red"}
    answer = world.client.post(world.url("/events"), json=bad, headers=world.device)
    error = assert_shape(answer, 422, "invalid")
    places = {d["where"] for d in error["details"]}
    assert {"body.seq", "body.device_time", "body.colour"} <= places
    assert error["where"] in places and error["hint"]
    batch = world.client.post(
        world.url("/events/batch"), json={"events": [{**scan(1, "x"), "type": "flew"}]}, headers=world.device
    )
    assert batch.status_code == 200, batch.text  # each event of a batch is answered on its own
    [result] = batch.json()["results"]
    assert (result["outcome"], result["where"], result["index"]) == ("rejected", "event.type", 0)


def test_malformed_json_and_other_content_types_are_a_422(world: World) -> None:
    headers = {**world.device, "Content-Type": "application/json"}
    broken = world.client.post(world.url("/events"), content=b'{"event_id": ', headers=headers)
    assert_shape(broken, 422, "invalid")
    text = {**world.device, "Content-Type": "text/plain"}
    plain = world.client.post(world.url("/events"), content=b"{}", headers=text)
    assert "Content-Type" in assert_shape(plain, 422, "invalid")["message"]


def test_credentials_are_checked_before_the_body(world: World) -> None:
    event = scan(1, "x")
    none = world.client.post(world.url("/events"), json=event)
    assert_shape(none, 401, "unauthenticated")
    forged = world.client.post(world.url("/events"), json=event, headers=bearer("dev_forged"))
    assert assert_shape(forged, 401, "unauthenticated")["hint"]
    assert forged.headers["WWW-Authenticate"] == "Bearer"
    observer = world.client.post(world.url("/events"), json=event, headers=world.as_role("observer"))
    assert "checkpoint_marshal" in assert_shape(observer, 403, "forbidden")["hint"]
    elsewhere = world.client.post("/api/operations/elsewhere/events", json=event, headers=world.device)
    assert_shape(elsewhere, 403, "forbidden")


def test_a_person_may_scan_with_a_user_token(world: World) -> None:
    event = scan(1, person(world), device="user:checkpoint_marshal-user")
    marshal = world.as_role("checkpoint_marshal")
    assert world.client.post(world.url("/events"), json=event, headers=marshal).status_code == 201


def test_a_batch_over_the_limit_is_a_413(world: World) -> None:
    events = [scan(n, "x") for n in range(1, world.settings.max_batch + 2)]
    answer = world.client.post(world.url("/events/batch"), json={"events": events}, headers=world.device)
    assert assert_shape(answer, 413, "too_large")["where"] == "events"


def test_a_batch_answers_each_event(world: World) -> None:
    p = person(world)
    events = [scan(1, p), scan(2, "ghost"), scan(1, p)]
    answer = world.client.post(world.url("/events/batch"), json={"events": events}, headers=world.device)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["stored"], body["repeats"], body["rejected"]) == (1, 1, 1)
    assert [r["outcome"] for r in body["results"]] == ["stored", "rejected", "repeat"]
    assert body["results"][1]["where"] == "event scanner-1-2: payload.person_id"


def test_openapi_still_describes_both_endpoints(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    one = paths["/api/operations/{operation_id}/events"]["post"]
    assert one["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/SingleEventIn")
    assert {"200", "201", "422"} <= set(one["responses"])
    batch = paths["/api/operations/{operation_id}/events/batch"]["post"]
    assert batch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchIn")
    assert batch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchOut")


def test_stored_rows_chain_by_the_ledger_formula() -> None:
    """The writer hashes each payload once; the chain hash must be the one the ledger defines."""
    events = [
        ScanEvent("e-1", "scanner-1", 1, datetime(2016, 12, 15, 10, tzinfo=UTC), EventType.BOARDED,
                  {"person_id": "p-1", "point": "start", "note": "رنا", "weight": 61.5, "ok": True}),
        ScanEvent("e-2", "scanner-1", 2, datetime(2016, 12, 15, 10, 1, tzinfo=UTC), EventType.CHECKPOINT,
                  {"vehicle_id": "bus-1", "point": "cp1", "seats": None}),
    ]  # fmt: skip
    previous = "0" * 64
    for position, event in enumerate(events, start=1):
        row = _row(position, previous, "op", event)
        assert row["payload_sha256"] == event.payload_sha256
        assert row["entry_hash"] == entry_hash(previous, event, Filing.of(event, "op", row["received_at"]))
        previous = row["entry_hash"]
