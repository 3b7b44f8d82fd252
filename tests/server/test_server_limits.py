"""Bounded input: body caps, value ranges, batches answered event by event, device clocks,
closed operations, scoped ledger checks, no caching of names, errors in the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from corridor.server.app import create_app
from corridor.server.settings import Settings
from server.conftest import PASSWORD, ROUTE, World, bearer, make_world
from server.test_server_error_shape import assert_shape

SMALL = {"max_evidence_bytes": 4000, "max_body_bytes": 8192, "max_batch": 50, "max_batch_bytes": 64 * 1024}


@pytest.fixture
def small(settings: Settings) -> Iterator[World]:
    """A service with small limits (so that a test sends kilobytes, not megabytes)."""
    app = create_app(settings.model_copy(update=SMALL))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield make_world(client, app.state.runtime.settings)


def person(world: World, name: str = "Rana") -> str:
    household = world.household({"name": name, "age_band": "18-59", "sex": "female"})
    person_id: str = household["people"][0]["id"]
    return person_id


def scan(n: int, person_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "event_id": f"scanner-1-{n}",
        "device_id": "scanner-1",
        "seq": n,
        "device_time": "2016-12-15T10:00:00Z",
        "type": "boarded",
        "payload": {"person_id": person_id, "point": "start"},
        **changes,
    }


def ledger_types(world: World) -> list[str]:
    text = world.client.get(world.url("/exports/events.csv"), headers=world.coordinator).text
    return [line.split(",")[6] for line in text.splitlines()[1:]]


def chunks(data: bytes, size: int = 1000) -> Iterator[bytes]:
    """A body sent in pieces with no Content-Length (chunked), as a client that streams does."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


# Body caps -------------------------------------------------------------------------------------


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(world: World) -> None:
    big = json.dumps(scan(1, "x", payload={"note": "x" * 400, "person_id": "p"}) | {"pad": "y" * 20_000})
    headers = {**world.device, "Content-Type": "application/json"}
    error = assert_shape(
        world.client.post(world.url("/events"), content=big, headers=headers), 413, "too_large"
    )
    assert "16384" in error["message"] and error["where"] == "body" and error["hint"]
    # every route has a cap: 2 MB to a route with no limit of its own
    household = {"people": [{"name": "n" * 2_000_000, "age_band": "18-59", "sex": "male"}]}
    answer = world.client.post(world.url("/households"), json=household, headers=world.coordinator)
    assert "1048576" in assert_shape(answer, 413, "too_large")["message"]
    assert ledger_types(world) == []


def test_a_streamed_body_is_cut_at_the_limit(world: World) -> None:
    """The raw scan route (the lean handler) read its whole body with no cap."""
    body = json.dumps(scan(1, "x") | {"pad": "y" * 100_000}).encode()
    headers = {**world.device, "Content-Type": "application/json"}
    answer = world.client.post(world.url("/events"), content=chunks(body), headers=headers)
    assert "content-length" not in {k.lower() for k in answer.request.headers}
    assert_shape(answer, 413, "too_large")
    batch = json.dumps({"events": [scan(n, "x") for n in range(1, 4)], "pad": "z" * 5_000_000}).encode()
    answer = world.client.post(world.url("/events/batch"), content=chunks(batch, 65536), headers=headers)
    assert "4194304" in assert_shape(answer, 413, "too_large")["message"]


def test_a_ten_megabyte_string_never_reaches_the_ledger(world: World) -> None:
    person_id = person(world)
    huge = scan(1, person_id, payload={"person_id": person_id, "note": "x" * 10_000_000})
    assert_shape(world.client.post(world.url("/events"), json=huge, headers=world.device), 413, "too_large")
    # under the body cap, a field is still bounded by its schema
    long = scan(1, person_id, payload={"person_id": person_id, "note": "x" * 501})
    error = assert_shape(
        world.client.post(world.url("/events"), json=long, headers=world.device), 422, "invalid"
    )
    assert any(d["where"].startswith("body.payload.note") for d in error["details"])
    assert ledger_types(world) == ["registered"]


def test_evidence_over_the_limit_is_refused_while_it_streams_and_nothing_is_kept(small: World) -> None:
    small.vehicle("bus-1")
    made = small.client.post(
        small.url("/incidents"),
        json={"kind": "shelling", "occurred_at": "2016-12-15T10:25:00Z", "description": "x"},
        headers=small.coordinator,
    )
    assert made.status_code == 201, made.text
    url = small.url(f"/incidents/{made.json()['id']}/evidence")
    over = b"\x89PNG" + b"\x00" * 80_000  # past the file limit and past the route's cap
    answer = small.client.post(url, files={"file": ("p.png", over, "image/png")}, headers=small.coordinator)
    assert_shape(answer, 413, "too_large")
    # streamed without a Content-Length: cut as it comes, before the whole file is received
    boundary = "b0undary"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + over
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {**small.coordinator, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    assert_shape(small.client.post(url, content=chunks(form), headers=headers), 413, "too_large")
    # just past the file limit (within the route's room for the form): refused all the same
    near = small.client.post(
        url, files={"file": ("p.png", b"x" * 4001, "image/png")}, headers=small.coordinator
    )
    assert "4000" in assert_shape(near, 413, "too_large")["message"]
    evidence = Path(small.settings.data_dir) / "evidence"
    assert not evidence.exists() or not any(p.is_file() for p in evidence.rglob("*"))
    assert "evidence_received" not in ledger_types(small)
    fits = small.client.post(
        url, files={"file": ("p.png", b"x" * 4000, "image/png")}, headers=small.coordinator
    )
    assert fits.status_code == 201, fits.text


def test_evidence_is_counted_as_it_streams_and_the_rest_is_never_read(small: World) -> None:
    """Driven as the server drives the app: body pieces are pulled one by one; past the limit no
    more is pulled, and the answer is a 413 with nothing stored."""
    made = small.client.post(
        small.url("/incidents"),
        json={"kind": "shelling", "occurred_at": "2016-12-15T10:25:00Z", "description": "x"},
        headers=small.coordinator,
    )
    path = small.url(f"/incidents/{made.json()['id']}/evidence")
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    pieces = [head] + [b"\x00" * 4096] * 1000  # 4 MB offered, no Content-Length
    pulled: list[int] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if len(pulled) < len(pieces):
            pulled.append(len(pieces[len(pulled)]))
            return {"type": "http.request", "body": pieces[len(pulled) - 1], "more_body": True}
        return {"type": "http.request", "body": f"\r\n--{boundary}--\r\n".encode(), "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    token = small.coordinator["Authorization"].encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", token),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(small.client.app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    limit = small.settings.max_evidence_bytes + 64 * 1024
    assert sum(pulled) <= limit + 4096 and len(pulled) < len(pieces)
    assert json.loads(b"".join(m.get("body", b"") for m in sent[1:]))["error"]["code"] == "too_large"
    evidence = Path(small.settings.data_dir) / "evidence"
    assert not evidence.exists() or not any(p.is_file() for p in evidence.rglob("*"))


# Values ----------------------------------------------------------------------------------------


def test_out_of_range_values_are_a_422_naming_the_field(world: World) -> None:
    person_id = person(world)
    cases = {
        "body.seq": scan(1, person_id, seq=2**63),
        "body.device_time": scan(1, person_id, device_time="0001-01-01T00:00:00Z"),
        "body.event_id": scan(1, person_id, event_id="a\x00b"),
        "body.payload.count": scan(1, person_id, payload={"person_id": person_id, "count": 2**64}),
    }
    for where, event in cases.items():
        answer = world.client.post(world.url("/events"), json=event, headers=world.device)
        error = assert_shape(answer, 422, "invalid")
        assert any(d["where"].startswith(where) for d in error["details"]), (where, error)
    nan = json.dumps(scan(1, person_id)).replace('"point": "start"', '"point": "start", "x": NaN')
    headers = {**world.device, "Content-Type": "application/json"}
    answer = world.client.post(world.url("/events"), content=nan, headers=headers)
    assert any(
        d["where"].startswith("body.payload.x") for d in assert_shape(answer, 422, "invalid")["details"]
    )
    far = {"kind": "shelling", "occurred_at": "9999-12-31T23:59:59-14:00", "description": "x"}
    answer = world.client.post(world.url("/incidents"), json=far, headers=world.coordinator)
    assert assert_shape(answer, 422, "invalid")["where"] == "body.occurred_at"
    answer = world.client.get(world.url(f"/plans/{2**70}"), headers=world.coordinator)
    assert_shape(answer, 422, "invalid")
    # a parameter no schema bounds above: the database's refusal is a 422, never a 500
    answer = world.client.get("/api/access-log", params={"before_id": 2**70}, headers=world.coordinator)
    assert_shape(answer, 422, "invalid")
    answer = world.client.get(
        world.url("/counts"), params={"at": "0001-01-01T00:00:00Z"}, headers=world.coordinator
    )
    assert_shape(answer, 422, "invalid")
    assert ledger_types(world) == ["registered"]


def test_nul_characters_are_refused_everywhere(world: World) -> None:
    """PostgreSQL refuses NUL in text: the schemas refuse it first, with the field's name."""
    household = {"people": [{"name": "Ra\x00na", "age_band": "18-59", "sex": "female"}]}
    answer = world.client.post(world.url("/households"), json=household, headers=world.coordinator)
    assert assert_shape(answer, 422, "invalid")["where"] == "body.people.0.name"
    incident = {"kind": "shelling", "occurred_at": "2016-12-15T10:25:00Z", "description": "a\x00b"}
    answer = world.client.post(world.url("/incidents"), json=incident, headers=world.coordinator)
    assert assert_shape(answer, 422, "invalid")["where"] == "body.description"
    # a parameter no schema bounds: the database's refusal is a 422 too, never a 500
    answer = world.client.get(world.url("/people/a%00b"), headers=world.coordinator)
    assert answer.status_code in (404, 422), answer.text
    assert_shape(answer, answer.status_code, "not_found" if answer.status_code == 404 else "invalid")


# Batches ---------------------------------------------------------------------------------------


def test_each_event_of_a_batch_is_answered_on_its_own(world: World) -> None:
    person_id = person(world)
    good = [
        scan(1, person_id),
        scan(7, person_id, type="checkpoint", payload={"person_id": person_id, "point": "cp1"}),
    ]
    bad = [
        scan(2, person_id, seq=2**63),
        scan(3, person_id, device_time="2016-13-45T10:00:00Z"),
        scan(4, person_id, event_id="x\x00y"),
        scan(5, person_id, device_time="9999-12-31T23:59:59-14:00"),
        {"event_id": 12},
    ]
    events = [good[0], *bad, good[1]]
    text = json.dumps({"events": events})
    nan = scan(6, person_id)
    text = text.replace(
        "]}", ", " + json.dumps(nan).replace('"point": "start"', '"point": "start", "x": NaN') + "]}"
    )
    headers = {**world.device, "Content-Type": "application/json"}
    answer = world.client.post(world.url("/events/batch"), content=text, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(8))
    assert [r["outcome"] for r in results] == ["stored", *["rejected"] * 5, "stored", "rejected"]
    assert (body["stored"], body["rejected"]) == (2, 6)
    wheres = [r["where"] for r in results if r["outcome"] == "rejected"]
    assert wheres[:4] == ["event.seq", "event.device_time", "event.event_id", "event.device_time"]
    assert wheres[5].startswith("event.payload.x")
    assert results[1]["event_id"] == "scanner-1-2" and results[3]["event_id"] is None
    assert results[5]["event_id"] is None and all(r["message"] for r in results if r["outcome"] == "rejected")
    assert ledger_types(world) == ["registered", "boarded", "checkpoint"]


def test_a_huge_batch_is_refused_at_once(small: World) -> None:
    """200,000 empty events: refused by the list's length, not answered event by event."""
    text = '{"events": [' + ",".join(["{}"] * 200_000) + "]}"
    headers = {**small.device, "Content-Type": "application/json"}
    answer = small.client.post(small.url("/events/batch"), content=text, headers=headers)
    assert answer.status_code in (413, 422), answer.text
    assert len(answer.content) < 5_000  # one error, not one per event
    empty = '{"events": [' + ",".join(["{}"] * 60) + "]}"  # too many, and each invalid: one 413
    answer = small.client.post(small.url("/events/batch"), content=empty, headers=headers)
    assert "60 events in one batch; at most 50" in assert_shape(answer, 413, "too_large")["message"]
    too_many = {"events": [scan(n, "x") for n in range(1, 52)]}  # max_batch is 50 here
    answer = small.client.post(small.url("/events/batch"), json=too_many, headers=small.device)
    assert "at most 50" in assert_shape(answer, 413, "too_large")["message"]


# Device clocks ---------------------------------------------------------------------------------


def test_a_device_time_far_ahead_never_hides_a_later_detention(world: World) -> None:
    """Stored and flagged, never refused: the arrival dated 2099 cannot clear the detention
    reported after it (corridor.ops.clock; more in test_server_clock)."""
    person_id = person(world)
    marshal = world.as_role("checkpoint_marshal")
    device = "user:checkpoint_marshal-user"
    boarded = scan(1, person_id, device_id=device, event_id="m-1")
    assert world.client.post(world.url("/events"), json=boarded, headers=marshal).status_code == 201
    arrived = scan(
        2, person_id, device_id=device, event_id="m-2", type="arrived",
        device_time="2099-01-01T00:00:00Z", payload={"person_id": person_id, "point": "end"},
    )  # fmt: skip
    assert world.client.post(world.url("/events"), json=arrived, headers=marshal).status_code == 201
    in_batch = world.client.post(world.url("/events/batch"), json={"events": [arrived]}, headers=marshal)
    assert in_batch.json()["results"][0]["outcome"] == "repeat"
    detained = scan(
        3, person_id, device_id=device, event_id="m-3", type="detained",
        device_time="2016-12-15T11:00:00Z", payload={"person_id": person_id, "point": "cp1"},
    )  # fmt: skip
    assert world.client.post(world.url("/events"), json=detained, headers=marshal).status_code == 201
    reconciliation = world.client.get(world.url("/reconciliation"), headers=world.coordinator).json()
    assert [(a["subject_id"], a["status"]) for a in reconciliation["alarms"]] == [(person_id, "detained")]
    assert reconciliation["people"].get("detained") == 1 and not reconciliation["people"].get("arrived")
    status = world.client.get(world.url(f"/status/person/{person_id}"), headers=world.coordinator).json()
    assert status["status"] == "detained"
    clocks = world.client.get(world.url("/clocks"), headers=world.coordinator).json()
    assert [(c["device_id"], c["flagged"]) for c in clocks] == [(device, 1)]


def test_an_event_dated_ahead_of_the_server_is_flagged_and_clears_no_alarm(world: World) -> None:
    """A clock an hour fast (no clock reading sent): its events are stored and flagged; its
    "arrived" cannot clear a detention reported within that hour."""
    person_id = person(world)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    boarded = scan(1, person_id, device_time=soon)
    assert world.client.post(world.url("/events"), json=boarded, headers=world.device).status_code == 201
    detained = scan(
        2,
        person_id,
        type="detained",
        device_time=datetime.now(UTC).isoformat(),
        payload={"person_id": person_id, "point": "cp1"},
    )
    assert world.client.post(world.url("/events"), json=detained, headers=world.device).status_code == 201
    arrived = scan(3, person_id, device_time=soon, type="arrived", payload={"person_id": person_id})
    assert world.client.post(world.url("/events"), json=arrived, headers=world.device).status_code == 201
    status = world.client.get(world.url(f"/status/person/{person_id}"), headers=world.coordinator).json()
    assert status["status"] == "detained"
    clocks = world.client.get(world.url("/clocks"), headers=world.coordinator).json()
    assert [(c["device_id"], c["flagged"]) for c in clocks] == [("scanner-1", 2)]


def test_a_device_time_before_the_operation_is_flagged(world: World) -> None:
    person_id = person(world)
    early = scan(1, person_id, device_time="2016-12-14T05:59:00Z")  # window opens 2016-12-15 06:00
    assert world.client.post(world.url("/events"), json=early, headers=world.device).status_code == 201
    on_time = scan(2, person_id, device_time="2016-12-14T06:01:00Z")  # within the day of tolerance
    assert world.client.post(world.url("/events"), json=on_time, headers=world.device).status_code == 201
    clocks = world.client.get(world.url("/clocks"), headers=world.coordinator).json()
    assert [(c["device_id"], c["flagged"]) for c in clocks] == [("scanner-1", 1)]


# Closed operations -----------------------------------------------------------------------------


def test_a_closed_operation_refuses_every_write(world: World) -> None:
    person_id = person(world)
    world.vehicle("bus-1")
    closed = world.client.patch(world.url(), json={"state": "closed"}, headers=world.coordinator)
    assert closed.status_code == 200, closed.text
    c = world.coordinator
    household = {"people": [{"name": "Amal", "age_band": "18-59", "sex": "female"}]}
    incident = {"kind": "shelling", "occurred_at": "2016-12-15T10:25:00Z", "description": "x"}
    csv = b"household_id,name,age_band,sex\nh1,Amal,18-59,female\n"
    writes = {
        "scan (scanner)": world.client.post(
            world.url("/events"), json=scan(1, person_id), headers=world.device
        ),
        "batch": world.client.post(
            world.url("/events/batch"), json={"events": [scan(1, person_id)]}, headers=c
        ),
        "registration": world.client.post(world.url("/households"), json=household, headers=c),
        "import": world.client.post(
            world.url("/imports/registrations"), files={"file": ("r.csv", csv, "text/csv")}, headers=c
        ),
        "incident": world.client.post(world.url("/incidents"), json=incident, headers=c),
        "vehicle": world.client.post(
            world.url("/vehicles"), json={"code": "bus-2", "kind": "bus", "seats": 40}, headers=c
        ),
    }
    for what, answer in writes.items():
        error = assert_shape(answer, 409, "conflict")
        assert "closed" in error["message"] and error["where"] == "operation_id", what
    assert ledger_types(world) == ["registered"]
    assert world.client.get(world.url("/counts"), headers=c).status_code == 200  # reads go on
    revoked = world.client.post(world.url("/devices/scanner-1/revoke"), headers=c)
    assert revoked.status_code < 300, revoked.text  # and a closed operation's scanners may be revoked


# Scoping, caching, documentation ---------------------------------------------------------------


def test_the_ledger_check_is_for_a_role_in_every_operation(world: World) -> None:
    person(world)
    other = world.client.post(
        "/api/operations",
        json={"name": "B", "scenario_name": "b", "route": ROUTE, "windows": []},
        headers=world.coordinator,
    ).json()["id"]
    made = world.client.post(
        "/api/users", json={"username": "coord-b", "password": PASSWORD}, headers=world.coordinator
    )
    assert made.status_code == 201
    granted = world.client.post(
        f"/api/operations/{other}/members",
        json={"username": "coord-b", "role": "coordinator"},
        headers=world.coordinator,
    )
    assert granted.status_code == 204
    answer = world.client.get("/api/ledger/verify", headers=bearer(world.login("coord-b")))
    error = assert_shape(answer, 403, "forbidden")
    assert "entries" not in answer.text and "every operation" in error["hint"]
    assert world.client.get("/api/ledger/verify", headers=world.coordinator).json()["entries"] == 1


def test_answers_are_not_cached(world: World) -> None:
    person(world)
    for path in ("/people", "/reconciliation", "/counts"):
        answer = world.client.get(world.url(path), headers=world.coordinator)
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store", path
    registered = world.client.post(
        world.url("/households"),
        json={"people": [{"name": "Amal", "age_band": "18-59", "sex": "female"}]},
        headers=world.coordinator,
    )
    assert registered.headers["cache-control"] == "no-store"


def test_every_operation_documents_its_error_answers(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    shape = document["components"]["schemas"]["ErrorInfo"]
    assert set(shape["properties"]) == {"status", "code", "message", "where", "hint", "details"}
    missing = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status in ("401", "403", "404", "409", "413", "422"):
                content = operation["responses"].get(status, {}).get("content", {})
                reference = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                if not reference.endswith("/ErrorOut"):
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == []
