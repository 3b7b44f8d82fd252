"""The fold of events into current status: order-free, repeat-free, alarms never cleared late."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from corridor.ops.ledger import EventType, ScanEvent
from corridor.ops.route import PointKind, Route, RoutePoint
from corridor.ops.status import Status, fold

T0 = datetime(2016, 12, 15, 10, 0, tzinfo=UTC)
ROUTE = Route(
    (
        RoutePoint("start", "Salah al-Din", PointKind.DEPARTURE, 0),
        RoutePoint("cp1", "Ramouseh", PointKind.CHECKPOINT, 20),
        RoutePoint("cp2", "Rashideen", PointKind.CHECKPOINT, 50),
        RoutePoint("end", "Khan al-Asal", PointKind.ARRIVAL, 90),
    )
)
PEOPLE = ["p1", "p2", "p3"]
TYPES = [
    EventType.BOARDED,
    EventType.CHECKPOINT,
    EventType.ARRIVED,
    EventType.MISSING,
    EventType.DETAINED,
    EventType.FOUND,
    EventType.RELEASED,
    EventType.RETURNED,
]
POINTS = ["start", "cp1", "cp2", "end"]


def scan(device: str, seq: int, minute: int, kind: EventType, person: str, point: str) -> ScanEvent:
    return ScanEvent(
        event_id=f"{device}-{seq}",
        device_id=device,
        seq=seq,
        device_time=T0 + timedelta(minutes=minute),
        type=kind,
        payload={"person_id": person, "point": point},
    )


def status_of(events: list[ScanEvent], person: str = "p1") -> Status:
    return fold(events, ROUTE)[("person", person)].status


def test_progress_moves_forward_along_the_route() -> None:
    events = [
        scan("d1", 1, 0, EventType.BOARDED, "p1", "start"),
        scan("d2", 1, 25, EventType.CHECKPOINT, "p1", "cp1"),
    ]
    state = fold(events, ROUTE)[("person", "p1")]
    assert state.status is Status.CHECKPOINT and state.progress_point == "cp1"
    assert state.progress_at == T0 + timedelta(minutes=25)


def test_a_late_boarding_never_clears_missing_or_detained() -> None:
    missing = scan("d2", 1, 30, EventType.MISSING, "p1", "cp1")
    detained = scan("d2", 2, 30, EventType.DETAINED, "p1", "cp1")
    late_before = scan("d1", 1, 0, EventType.BOARDED, "p1", "start")
    late_after = scan("d1", 2, 40, EventType.CHECKPOINT, "p1", "cp1")
    assert status_of([missing, late_before, late_after]) is Status.MISSING
    assert status_of([late_after, detained, late_before]) is Status.DETAINED


def test_detained_is_worse_than_missing_whatever_comes_later() -> None:
    events = [
        scan("d1", 1, 10, EventType.DETAINED, "p1", "cp1"),
        scan("d2", 1, 20, EventType.MISSING, "p1", "cp1"),
    ]
    assert status_of(events) is Status.DETAINED


def test_release_found_and_arrival_clear_alarms_only_when_later() -> None:
    detained = scan("d1", 1, 10, EventType.DETAINED, "p1", "cp1")
    assert status_of([detained, scan("d1", 2, 20, EventType.RELEASED, "p1", "cp1")]) is Status.CHECKPOINT
    assert status_of([detained, scan("d1", 2, 20, EventType.FOUND, "p1", "cp1")]) is Status.DETAINED
    assert status_of([detained, scan("d3", 1, 5, EventType.ARRIVED, "p1", "end")]) is Status.DETAINED
    assert status_of([detained, scan("d3", 1, 95, EventType.ARRIVED, "p1", "end")]) is Status.ARRIVED


def test_a_boarding_at_the_same_minute_as_an_alarm_does_not_hide_it() -> None:
    events = [
        scan("d9", 1, 10, EventType.MISSING, "p1", "cp1"),
        scan("d1", 1, 10, EventType.BOARDED, "p1", "start"),
    ]
    assert status_of(events) is Status.MISSING


@st.composite
def device_histories(draw: st.DrawFn) -> list[ScanEvent]:
    events: list[ScanEvent] = []
    for device in draw(st.lists(st.sampled_from(["d1", "d2", "d3", "d4"]), min_size=1, unique=True)):
        count = draw(st.integers(min_value=0, max_value=12))
        for seq in range(1, count + 1):
            events.append(
                scan(
                    device,
                    seq,
                    draw(st.integers(min_value=0, max_value=120)),
                    draw(st.sampled_from(TYPES)),
                    draw(st.sampled_from(PEOPLE)),
                    draw(st.sampled_from(POINTS)),
                )
            )
    return events


@settings(max_examples=150, deadline=None)
@given(events=device_histories(), seed=st.integers(), repeats=st.integers(0, 30))
def test_shuffled_and_repeated_events_give_the_same_state(
    events: list[ScanEvent], seed: int, repeats: int
) -> None:
    rng = random.Random(seed)
    replayed = events + [rng.choice(events) for _ in range(repeats if events else 0)]
    rng.shuffle(replayed)
    assert fold(replayed, ROUTE) == fold(events, ROUTE)


@settings(max_examples=100, deadline=None)
@given(events=device_histories(), minute=st.integers(0, 120), point=st.sampled_from(POINTS))
def test_a_sighting_never_clears_an_alarm(events: list[ScanEvent], minute: int, point: str) -> None:
    before = fold(events, ROUTE)
    late = scan("late", 1, minute, EventType.CHECKPOINT, "p1", point)
    after = fold([*events, late], ROUTE)
    old = before.get(("person", "p1"))
    if old is not None and old.alarm is not None:
        assert after[("person", "p1")].alarm is old.alarm
    if old is not None:
        assert after[("person", "p1")].progress >= old.progress
