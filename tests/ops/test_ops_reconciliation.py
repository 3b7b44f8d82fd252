"""Reconciliation: counts, not seen at the next point, data pending, ceasefire time left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from corridor.core.errors import InputError
from corridor.ops.ledger import EventType, ScanEvent
from corridor.ops.reconciliation import DeviceLog, PersonRecord, Window, reconcile
from corridor.ops.route import PointKind, Route, RoutePoint
from corridor.ops.status import fold

T0 = datetime(2016, 12, 15, 10, 0, tzinfo=UTC)
ROUTE = Route(
    (
        RoutePoint("start", "Salah al-Din", PointKind.DEPARTURE, 0),
        RoutePoint("cp1", "Ramouseh", PointKind.CHECKPOINT, 20, "SY020100", 3),
        RoutePoint("end", "Khan al-Asal", PointKind.ARRIVAL, 60),
    )
)
PEOPLE = [
    PersonRecord("p1", "h1", "gp-a", ("wounded",)),
    PersonRecord("p2", "h1", "gp-a"),
    PersonRecord("p3", "h2", "gp-b", ("elderly",)),
    PersonRecord("p4", "h3", "gp-b"),
]


def scan(device: str, seq: int, minute: int, kind: EventType, **payload: str) -> ScanEvent:
    return ScanEvent(f"{device}-{seq}", device, seq, T0 + timedelta(minutes=minute), kind, payload)


EVENTS = [
    scan("gate", 1, 0, EventType.BOARDED, person_id="p1", vehicle_id="bus-1", point="start"),
    scan("gate", 2, 0, EventType.BOARDED, person_id="p2", vehicle_id="bus-1", point="start"),
    scan("gate", 3, 0, EventType.BOARDED, person_id="p3", vehicle_id="bus-1", point="start"),
    scan("gate", 4, 0, EventType.DEPARTED, vehicle_id="bus-1", point="start"),
    scan("cp1-a", 1, 21, EventType.CHECKPOINT, person_id="p1", point="cp1"),
    scan("cp1-a", 3, 22, EventType.DETAINED, person_id="p2", point="cp1"),
    scan("cp1-a", 4, 22, EventType.CHECKPOINT, vehicle_id="bus-1", point="cp1"),
    scan("gate", 5, 1, EventType.BOARDED, person_id="ghost", point="start"),
]


def run(now_minute: int, devices: list[DeviceLog] | None = None) -> object:
    return reconcile(
        states=fold(EVENTS, ROUTE),
        people=PEOPLE,
        vehicle_ids=["bus-1", "bus-2"],
        route=ROUTE,
        devices=devices or [],
        windows=[Window(T0 - timedelta(hours=1), T0 + timedelta(hours=3))],
        now=T0 + timedelta(minutes=now_minute),
        grace_minutes=10,
    )


def test_counts_by_status_group_and_gathering_point() -> None:
    result = run(25)
    assert result.counts == {  # type: ignore[attr-defined]
        "registered": 1,
        "boarded": 1,
        "passed_checkpoint": 1,
        "arrived": 0,
        "returned": 0,
        "missing": 0,
        "detained": 1,
    }
    assert result.by_group["wounded"]["passed_checkpoint"] == 1  # type: ignore[attr-defined]
    assert result.by_gathering_point["gp-a"]["detained"] == 1  # type: ignore[attr-defined]
    assert result.vehicle_counts["registered"] == 1  # type: ignore[attr-defined]
    assert result.unknown_subjects == [("person", "ghost")]  # type: ignore[attr-defined]
    assert result.ceasefire.people_inside == 4  # type: ignore[attr-defined]
    assert result.ceasefire.minutes_left == pytest.approx(155)  # type: ignore[attr-defined]


def test_boarded_and_not_seen_at_the_next_point_after_the_planned_time() -> None:
    assert run(29).not_seen == []  # type: ignore[attr-defined]
    late = run(31).not_seen  # type: ignore[attr-defined]
    assert [(o.subject_id, o.expected_point, o.data_pending) for o in late] == [("p3", "cp1", False)]
    overdue = run(73).overdue_vehicles  # type: ignore[attr-defined]
    assert [(o.subject_id, o.expected_point) for o in overdue] == [("bus-1", "end")]


def test_a_gap_in_a_device_sequence_shows_as_data_pending() -> None:
    devices = [
        DeviceLog("cp1-a", [1, 3, 4], frozenset({"cp1"})),
        DeviceLog("gate", [1, 2, 3, 4, 5]),
    ]
    result = run(31, devices)
    assert result.data_pending == {"cp1-a": [(2, 2)]}  # type: ignore[attr-defined]
    assert [o.data_pending for o in result.not_seen] == [True]  # type: ignore[attr-defined]


def test_a_route_lists_every_problem() -> None:
    with pytest.raises(InputError) as info:
        Route(
            (
                RoutePoint("a", "A", PointKind.CHECKPOINT, 10),
                RoutePoint("a", "B", PointKind.CHECKPOINT, 5),
            )
        )
    text = str(info.value)
    assert "repeat" in text and "departure" in text and "arrival" in text and "falls" in text
