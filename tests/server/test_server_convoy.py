"""Convoy plans through the API: publication verified against the scenario (a bad plan of each
kind refused with 422 and nothing stored), versions, trips laid out per vehicle, manifests per
trip, a bus's second trip scanned and reconciled, an overdue trip alerted."""

from __future__ import annotations

import copy
import io
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan, Trip
from corridor.problem.convoy import LiveState, compile_convoy
from corridor.scenario.load import load_scenario
from corridor.server.access.tables import AccessLogEntry
from corridor.server.convoys import service as convoys
from corridor.server.convoys.jobs import METHODS
from corridor.server.convoys.live import live_state
from corridor.server.convoys.planning import step_of
from corridor.server.convoys.scenario import load
from corridor.server.operations.tables import Operation
from corridor.server.runtime import Runtime
from corridor.solve.convoy import CONVOY_METHODS, solve_convoy
from server.conftest import PASSWORD, World

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


@cache
def example_plan() -> ConvoyPlan:
    """The example planned here, independently of the server (the greedy dispatcher)."""
    scenario = load_scenario(SCENARIO)
    problem, _ = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert problem is not None
    plan = solve_convoy(problem, method="greedy")
    assert plan.verify(problem) == []
    return plan


def publish(world: World, body: dict[str, Any], role: str = "planner") -> Any:
    return world.client.post(world.url("/convoy"), json=body, headers=world.as_role(role))


def test_a_verified_plan_is_published_as_trips_of_the_operations_vehicles(world: World) -> None:
    plan = example_plan()
    answer = publish(world, {"plan": plan.to_dict()})
    assert answer.status_code == 200, answer.text
    version = answer.json()
    assert (version["version"], version["plan_hash"]) == (1, plan.content_hash())
    assert (version["trips"], version["evacuated"]) == (len(plan.trips), plan.evacuated)
    vehicles = world.client.get(world.url("/vehicles"), headers=world.coordinator).json()
    assert {v["code"] for v in vehicles} == set(plan.vehicles)
    kinds = {v["code"]: (v["kind"], v["seats"], v["stretchers"]) for v in vehicles}
    assert kinds["bus-01"] == ("bus", 50, 0) and kinds["ambulance-01"] == ("ambulance", 0, 2)
    trips = world.client.get(world.url("/trips"), headers=world.coordinator).json()["trips"]
    by_key = {(t["vehicle"], t["number"]): t for t in trips}
    assert set(by_key) == {(t.vehicle, t.number) for t in plan.trips}
    for trip in plan.trips:
        row = by_key[(trip.vehicle, trip.number)]
        assert datetime.fromisoformat(row["planned_arrival"]) == plan.time_of(trip.haul.arrival)
        assert datetime.fromisoformat(row["planned_departure"]) == plan.time_of(trip.board_end)
        assert [tuple(x) for x in row["load"]] == [tuple(x) for x in trip.load]
        assert row["status"] == "planned" and row["current"]
    assert max(t.number for t in plan.trips_of("bus-01")) >= 2  # a bus makes many trips
    # The same plan again adds no version; the body reads back whole.
    again = publish(world, {"plan": plan.to_dict()})
    assert again.json()["version"] == 1
    listed = world.client.get(world.url("/convoys"), headers=world.as_role("observer")).json()
    assert [v["version"] for v in listed] == [1] and listed[0]["current"]
    body = world.client.get(world.url("/convoys/1"), headers=world.as_role("observer")).json()
    assert ConvoyPlan.from_dict(body["plan"]).content_hash() == plan.content_hash()
    assert world.client.get(world.url("/convoys/2"), headers=world.coordinator).status_code == 404


def test_the_server_plans_the_scenario_itself_as_a_job(world: World) -> None:
    """Without a plan the request starts a convoy plan job and answers 202 with it (it never waits
    for the planner); the job publishes the plan with the vehicle codes asked, in the access log
    as published by whoever asked. Asked again once it has ended, a new job plans again."""
    runtime: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    bus = example_plan().vehicles[0]
    answer = publish(world, {"vehicles": {bus: "BUS-A"}}, role="coordinator")
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["kind"], job["params"]["method"], job["params"]["vehicles"]) == (
        "convoy-plan",
        "greedy",
        {bus: "BUS-A"},
    )
    same = publish(world, {"vehicles": {bus: "BUS-A"}}, role="coordinator").json()
    if same["id"] != job["id"]:  # only once the first job has ended
        assert runtime.jobs.wait(job["id"], 0).final
    ended = runtime.jobs.wait(job["id"], 300)
    assert (ended.state, ended.error, (ended.result or {}).get("convoy_version")) == ("done", None, 1)
    runtime.jobs.wait(same["id"], 300)
    listed = world.client.get(world.url("/convoys"), headers=world.coordinator).json()
    # The same dispatcher on the same scenario: the same plan.
    assert [v["plan_hash"] for v in listed] == [example_plan().content_hash()]
    body = world.client.get(world.url("/convoys/1"), headers=world.coordinator).json()
    assert body["vehicles"][bus] == "BUS-A"
    with runtime.db.reading() as session:
        logged = list(
            session.scalars(
                select(AccessLogEntry).where(
                    AccessLogEntry.operation_id == world.operation_id,
                    AccessLogEntry.action == "convoy.published",
                )
            )
        )
        assert logged and {e.actor for e in logged} == {ended.created_by}
        assert all(e.decision == "allow" for e in logged) and any(job["id"] in e.path for e in logged)
    # Asked again after it ended: a new job (not the old one, which would publish nothing); the
    # same plan adds no version.
    again = publish(world, {"vehicles": {bus: "BUS-A"}}, role="coordinator")
    assert again.status_code == 202 and again.json()["id"] not in (job["id"], same["id"])
    redone = runtime.jobs.wait(again.json()["id"], 300)
    assert (redone.state, (redone.result or {}).get("convoy_version")) == ("done", 1)
    assert len(world.client.get(world.url("/convoys"), headers=world.coordinator).json()) == 1
    # The 202 and its job are in the API's description.
    described = world.client.get("/openapi.json").json()["paths"]
    responses = described["/api/operations/{operation_id}/convoy"]["post"]["responses"]
    assert responses["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/JobOut")


def test_a_plan_job_asked_wrongly_is_refused_before_it_starts(world: World) -> None:
    """An unknown or empty method, a vehicle the scenario's fleet lacks (named), a closed operation:
    refused at once, and no job started."""
    runtime: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    answer = publish(world, {"method": "no-such-method"}, role="coordinator")
    assert answer.status_code == 422 and answer.json()["error"]["where"] == "method", answer.text
    assert "no-such-method" in answer.json()["error"]["message"]
    answer = publish(world, {"method": ""}, role="coordinator")
    assert answer.status_code == 422 and "method" in answer.text
    answer = publish(world, {"vehicles": {"bus-99": "BUS-A"}}, role="coordinator")
    assert answer.status_code == 422 and answer.json()["error"]["where"] == "vehicles.bus-99", answer.text
    assert runtime.jobs.latest(world.operation_id, "convoy-plan") is None
    closed = world.client.patch(world.url(), json={"state": "closed"}, headers=world.coordinator)
    assert closed.status_code == 200, closed.text
    answer = publish(world, {}, role="coordinator")
    assert answer.status_code == 409 and "closed" in answer.json()["error"]["message"], answer.text
    assert runtime.jobs.latest(world.operation_id, "convoy-plan") is None


def test_the_service_names_the_methods_the_workers_know() -> None:
    assert set(METHODS) == set(CONVOY_METHODS)


def test_observers_and_registrars_cannot_publish(world: World) -> None:
    for role in ("observer", "registrar", "checkpoint_marshal"):
        assert publish(world, {"plan": example_plan().to_dict()}, role=role).status_code == 403


def _first(plan: dict[str, Any], vehicle: str = "bus-01", number: int = 1) -> dict[str, Any]:
    found: dict[str, Any] = next(
        t for t in plan["trips"] if t["vehicle"] == vehicle and t["number"] == number
    )
    return found


def _overfull(plan: dict[str, Any]) -> None:
    trip = _first(plan)
    trip["load"] = [[trip["load"][0][0], 51]]


def _stretchers_exceeded(plan: dict[str, Any]) -> None:
    trip = _first(plan, vehicle="ambulance-01")
    trip["load"] = [[trip["load"][0][0], 3]]


def _two_places(plan: dict[str, Any]) -> None:
    # Trip 2 starts boarding while trip 1 is still on the road.
    second, first = _first(plan, number=2), _first(plan)
    shift = second["board_start"] - first["board_start"]
    for key in ("board_start", "board_end", "unload_end"):
        second[key] -= shift
    second["approach"]["arrival"] = second["board_start"]


def _closed_checkpoint(plan: dict[str, Any]) -> None:
    # An inspection at Ramouseh during the hold of 16 Dec 04:00-06:00 (+02:00), 14 to 16 h after the start.
    trip = _first(plan)
    hold = 14 * 60 + 30
    trip["inspections"][0]["start"], trip["inspections"][0]["end"] = hold, hold + 5


def _too_fast(plan: dict[str, Any]) -> None:
    trip = _first(plan)
    trip["haul"]["arrival"] = trip["haul"]["departures"][-1]  # the last road in no time


def _after_deadline(plan: dict[str, Any]) -> None:
    trip = _first(plan)
    late = plan["horizon"] + 50
    shift = late - trip["haul"]["arrival"]
    trip["haul"]["arrival"] += shift
    trip["unload_end"] += shift


def _unknown_vehicle(plan: dict[str, Any]) -> None:
    _first(plan)["vehicle"] = "tank-01"


def _wrong_gathering_point(plan: dict[str, Any]) -> None:
    trip = _first(plan)
    trip["load"] = (
        [["wounded-sukkari", 1]] if "mashhad" not in trip["gathering"] else [["general-amiriyah", 1]]
    )


def _miscounted(plan: dict[str, Any]) -> None:
    plan["evacuated"] += 7


BAD = {
    "seats exceeded": (_overfull, "seated people > 50 seats"),
    "stretcher places exceeded": (_stretchers_exceeded, "on stretchers > 2 stretcher places"),
    "a vehicle in two places": (_two_places, "bus-01"),
    "inspected while the checkpoint is closed": (_closed_checkpoint, "closed"),
    "a road driven faster than it can be": (_too_fast, "bus-01 trip 1"),
    "arrival after the deadline": (_after_deadline, "after the deadline"),
    "a vehicle not in the fleet": (_unknown_vehicle, "tank-01"),
    "people boarded where they do not wait": (_wrong_gathering_point, "wait elsewhere"),
    "figures that do not add up": (_miscounted, "out but its trips carry"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_plan_is_refused_naming_the_violation(world: World, kind: str) -> None:
    change, expected = BAD[kind]
    plan = copy.deepcopy(example_plan().to_dict())
    change(plan)
    answer = publish(world, {"plan": plan})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["where"] == "plan"
    messages = [d["message"] for d in error["details"]]
    assert any(expected in m for m in messages), messages
    assert expected in error["message"] or any(expected in m for m in messages)
    # Nothing was stored: no version, no vehicle, no trip.
    assert world.client.get(world.url("/convoys"), headers=world.coordinator).json() == []
    assert world.client.get(world.url("/vehicles"), headers=world.coordinator).json() == []


def test_malformed_plans_and_mappings_are_refused_with_the_field_named(world: World) -> None:
    plan = example_plan().to_dict()
    missing = {k: v for k, v in plan.items() if k != "trips"}
    answer = publish(world, {"plan": missing})
    assert answer.status_code == 422 and answer.json()["error"]["where"] == "plan.trips"
    other = {**plan, "scenario": "somewhere-else"}
    answer = publish(world, {"plan": other})
    assert answer.status_code == 422 and answer.json()["error"]["where"] == "plan.scenario"
    broken = copy.deepcopy(plan)
    broken["trips"][0]["load"] = "fifty"
    assert publish(world, {"plan": broken}).status_code == 422
    broken = copy.deepcopy(plan)
    del broken["trips"][0]["haul"]
    answer = publish(world, {"plan": broken})
    assert answer.status_code == 422 and answer.json()["error"]["where"] == "plan.trips"
    stranger = {**plan, "vehicles": [*plan["vehicles"], "tank-02"]}
    answer = publish(world, {"plan": stranger})
    assert answer.status_code == 422 and answer.json()["error"]["where"] in ("plan", "plan.vehicles")
    assert publish(world, {"plan": [1, 2]}).status_code == 422
    world.vehicle("small", seats=10)
    answer = publish(world, {"plan": plan, "vehicles": {"bus-01": "small"}})
    assert answer.status_code == 422 and answer.json()["error"]["where"] == "vehicles.bus-01"
    answer = publish(world, {"plan": plan, "vehicles": {"bus-99": "small"}})
    assert answer.status_code == 422 and answer.json()["error"]["where"] == "vehicles"
    assert world.client.get(world.url("/convoys"), headers=world.coordinator).json() == []


def _import(world: World, rows: list[tuple[str, str, str]]) -> None:
    """Register single-person households: (gathering point, vulnerabilities, name)."""
    text = io.StringIO()
    text.write("name,sex,age_band,gathering_point,vulnerabilities\n")
    for point, needs, name in rows:
        text.write(f"{name},f,18-59,{point},{needs}\n")
    answer = world.client.post(
        world.url("/imports/registrations"),
        files={"file": ("people.csv", text.getvalue().encode())},
        headers=world.as_role("registrar"),
    )
    assert answer.status_code in (200, 201), answer.text


def _expected_fill(plan: ConvoyPlan, source: str, people: int) -> dict[tuple[str, int], int]:
    """Independent answer: the plan's trips loading ``source``, earliest boarding first, filled in turn."""
    trips = sorted(
        (t for t in plan.trips if dict(t.load).get(source)),
        key=lambda t: (t.board_start, t.vehicle, t.number),
    )
    left, fill = people, {}
    for t in trips:
        n = min(left, dict(t.load)[source])
        if n:
            fill[(t.vehicle, t.number)] = n
        left -= n
    return fill


def test_assignment_fills_the_trips_of_the_plan(world: World) -> None:
    plan = example_plan()
    assert publish(world, {"plan": plan.to_dict()}).status_code == 200
    general = 180
    wounded = 9
    _import(
        world,
        [("general-amiriyah", "", f"A{i}") for i in range(general)]
        + [("wounded-mashhad", "wounded stretcher", f"W{i}") for i in range(wounded)]
        + [("nowhere", "", "Lost")],
    )
    run = world.client.post(world.url("/manifests"), headers=world.as_role("planner")).json()
    expected = _expected_fill(plan, "general-amiriyah", general)
    expected |= _expected_fill(plan, "wounded-mashhad", wounded)
    got = {(k.split("/")[0], int(k.split("/")[1])): n for k, n in run["by_trip"].items()}
    assert got == expected
    assert run["assigned"] == general + wounded and len(run["unplaced"]) == 1
    # The wounded lie on stretcher places.
    for (code, number), n in expected.items():
        if code.startswith("ambulance"):
            lines = world.client.get(
                world.url(f"/vehicles/{code}/manifest?trip={number}"), headers=world.coordinator
            ).json()["people"]
            assert len(lines) == n and {p["place"] for p in lines} == {"stretcher"}
            assert {p["trip"] for p in lines} == {number}


# --- scanning, reconciliation and overdue alerts per trip -----------------------------------


def _scan(n: int, kind: str, at: datetime, **payload: Any) -> dict[str, Any]:
    return {
        "event_id": f"scanner-1-{n}",
        "device_id": "scanner-1",
        "seq": n,
        "device_time": at.isoformat(),
        "type": kind,
        "payload": payload,
    }


def _send(world: World, events: list[dict[str, Any]]) -> None:
    answer = world.client.post(world.url("/events/batch"), json={"events": events}, headers=world.device)
    assert answer.status_code == 200, answer.text
    assert {r["outcome"] for r in answer.json()["results"]} == {"stored"}, answer.text


def _second_trip(plan: ConvoyPlan) -> tuple[Trip, Trip, str, int]:
    """A bus's first and second trips, the source its second trip loads, and how many people of
    that source must be registered for the assignment to reach it (the fewest of all buses)."""
    best = None
    for vehicle in plan.vehicles:
        trips = plan.trips_of(vehicle)
        if not vehicle.startswith("bus") or len(trips) < 2:
            continue
        source = trips[1].load[0][0]
        before = sorted(
            (t for t in plan.trips if dict(t.load).get(source)),
            key=lambda t: (t.board_start, t.vehicle, t.number),
        )
        need = 0
        for t in before:
            need += dict(t.load)[source]
            if (t.vehicle, t.number) == (vehicle, 2):
                break
        if best is None or need < best[3]:
            best = (trips[0], trips[1], source, need)
    assert best is not None
    return best


def test_a_second_trip_of_a_bus_is_scanned_and_reconciled(world: World) -> None:
    plan = example_plan()
    assert publish(world, {"plan": plan.to_dict()}).status_code == 200
    first, second, source, need = _second_trip(plan)
    bus = first.vehicle
    _import(world, [(source, "", f"P{i}") for i in range(need)])
    assert world.client.post(world.url("/manifests"), headers=world.coordinator).json()["assigned"] == need
    on_first = world.client.get(world.url(f"/vehicles/{bus}/manifest?trip=1"), headers=world.coordinator)
    on_second = world.client.get(world.url(f"/vehicles/{bus}/manifest?trip=2"), headers=world.coordinator)
    riders1 = [p["person_id"] for p in on_first.json()["people"]]
    riders2 = [p["person_id"] for p in on_second.json()["people"]]
    assert len(riders2) == dict(second.load)[source] and not set(riders1) & set(riders2)
    t = plan.time_of
    events = [_scan(1, "departed", t(first.board_end), vehicle_id=bus, point="start", trip=1)]
    events += [
        _scan(2 + i, "boarded", t(first.board_start), person_id=p, vehicle_id=bus, point="start")
        for i, p in enumerate(riders1)
    ]
    n = 2 + len(riders1)
    events.append(_scan(n, "arrived", t(first.haul.arrival), vehicle_id=bus, point="end", trip=1))
    events += [
        _scan(n + 1 + i, "arrived", t(first.haul.arrival), person_id=p, point="end")
        for i, p in enumerate(riders1)
    ]
    n += 1 + len(riders1)
    # Trip 2: the scanner names no trip; boardings follow the manifest, the vehicle its next trip.
    events += [
        _scan(n + i, "boarded", t(second.board_start), person_id=p, vehicle_id=bus, point="start")
        for i, p in enumerate(riders2)
    ]
    n += len(riders2)
    events.append(_scan(n, "departed", t(second.board_end), vehicle_id=bus, point="start"))
    events.append(_scan(n + 1, "arrived", t(second.haul.arrival), vehicle_id=bus, point="end"))
    missing = riders2[-1]
    events += [
        _scan(n + 2 + i, "arrived", t(second.haul.arrival), person_id=p, point="end")
        for i, p in enumerate(riders2[:-1])
    ]
    _send(world, events)
    at = t(second.haul.arrival) + timedelta(minutes=1)
    report = world.client.get(
        world.url("/trips"), params={"at": at.isoformat()}, headers=world.as_role("monitor")
    ).json()
    trips = {(x["vehicle"], x["number"]): x for x in report["trips"]}
    one, two = trips[(bus, 1)], trips[(bus, 2)]
    assert (one["status"], one["boarded"], one["arrived"], one["not_seen"]) == (
        "arrived",
        len(riders1),
        len(riders1),
        [],
    )
    assert (two["status"], two["boarded"], two["arrived"]) == ("arrived", len(riders2), len(riders2) - 1)
    assert two["not_seen"] == [missing] and report["not_seen"] == [missing]
    assert two["point"] == "end" and report["overdue"] == []
    # A re-plan from these scans takes the people arrived off their reception point's room.
    state = _live_state(world, at)
    assert state is not None
    expected: dict[str, int] = {}
    for trip, arrived in ((first, len(riders1)), (second, len(riders2) - 1)):
        expected[trip.reception] = expected.get(trip.reception, 0) + arrived
    assert dict(state.received) == expected


def _live_state(world: World, when: datetime) -> LiveState | None:
    runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.db.reading() as session:
        operation = session.get(Operation, world.operation_id)
        version = convoys.current(session, world.operation_id)
        assert operation is not None and version is not None
        plan = convoys.whole_plan(session, version)
        return live_state(
            session,
            runtime,
            operation=operation,
            version=version,
            plan=plan,
            loaded=load(runtime.settings.scenarios_dir, operation.scenario_name),
            when=when,
            step=step_of(plan, when),
        )


def test_a_trip_not_arrived_by_its_planned_arrival_plus_the_margin_is_overdue(world: World) -> None:
    plan = example_plan()
    assert publish(world, {"plan": plan.to_dict()}).status_code == 200
    first = plan.trips_of("bus-02")[0]
    other = plan.trips_of("bus-03")[0]
    t = plan.time_of
    _send(
        world,
        [
            _scan(1, "departed", t(first.board_end), vehicle_id="bus-02", point="start", trip=1),
            _scan(
                2, "checkpoint", t(first.board_end) + timedelta(minutes=10), vehicle_id="bus-02", point="cp1"
            ),
        ],
    )
    grace = world.settings.grace_minutes
    due = t(first.haul.arrival) + timedelta(minutes=grace)

    def report(at: datetime) -> dict[tuple[str, int], Any]:
        body = world.client.get(
            world.url("/trips"), params={"at": at.isoformat()}, headers=world.coordinator
        ).json()
        return {(x["vehicle"], x["number"]): x for x in body["trips"]} | {("overdue", 0): body["overdue"]}

    before = report(due - timedelta(minutes=1))
    assert before[("bus-02", 1)]["status"] == "under_way" and before[("overdue", 0)] == []
    assert before[("bus-02", 1)]["point"] == "cp1"
    after = report(due + timedelta(minutes=1))
    assert after[("bus-02", 1)]["status"] == "overdue" and after[("overdue", 0)] == ["bus-02/1"]
    assert datetime.fromisoformat(after[("bus-02", 1)]["expected_by"]) == due
    # A trip that never started is not overdue; the same bus's next trip neither.
    assert after[("bus-03", 1)]["status"] == "planned"
    assert other.haul.arrival <= first.haul.arrival + 10_000
    assert after[("bus-02", 2)]["status"] == "planned"
    # Once it arrives, it is no longer overdue.
    _send(world, [_scan(3, "arrived", due + timedelta(minutes=5), vehicle_id="bus-02", point="end")])
    late = report(due + timedelta(minutes=10))
    assert late[("bus-02", 1)]["status"] == "arrived" and late[("overdue", 0)] == []


def test_the_dashboard_alerts_an_overdue_trip(world: World) -> None:
    plan = example_plan()
    assert publish(world, {"plan": plan.to_dict()}).status_code == 200
    first = plan.trips_of("bus-04")[0]
    _send(world, [_scan(1, "departed", plan.time_of(first.board_end), vehicle_id="bus-04", point="start")])
    client = world.client
    client.cookies.clear()
    answer = client.post(
        "/login", data={"username": "coordinator", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    live = client.get(f"/operations/{world.operation_id}/live")
    assert live.status_code == 200
    # The plan's times are in 2016: by now the trip is long overdue; the trip that never left is not.
    assert "Trip bus-04/1 is overdue" in live.text
    assert "Trip bus-05/1" not in live.text
    arabic = client.get(f"/operations/{world.operation_id}/live?lang=ar")
    assert "الرحلة bus-04/1 متأخرة" in arabic.text
