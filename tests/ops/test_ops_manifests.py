"""Manifests: capacity respected, wounded to ambulances first, households kept together."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from corridor.ops.manifests import Passenger, Space, assign


def test_stretcher_cases_go_to_ambulances_and_households_stay_together() -> None:
    people = [
        Passenger("a1", "h1", frozenset({"stretcher", "wounded"})),
        Passenger("a2", "h1"),
        Passenger("b1", "h2"),
        Passenger("b2", "h2"),
        Passenger("b3", "h2"),
    ]
    spaces = [Space("bus-1", seats=10), Space("amb-1", seats=2, stretchers=1, ambulance=True)]
    manifest = assign(people, spaces)
    where = {s.person_id: (s.vehicle, s.place) for s in manifest.seats}
    assert where["a1"] == ("amb-1", "stretcher") and where["a2"] == ("amb-1", "seat")
    assert {where[p][0] for p in ("b1", "b2", "b3")} == {"bus-1"}
    assert manifest.split_households == [] and manifest.unplaced == []


def test_a_household_too_big_for_any_vehicle_is_split_and_reported() -> None:
    people = [Passenger(f"p{i}", "big") for i in range(5)]
    manifest = assign(people, [Space("bus-1", seats=3), Space("bus-2", seats=3)])
    assert manifest.split_households == ["big"]
    assert Counter(s.vehicle for s in manifest.seats) == {"bus-1": 3, "bus-2": 2}


def test_nobody_is_dropped_silently() -> None:
    people = [Passenger("s1", "h1", frozenset({"stretcher"})), Passenger("x", "h2")]
    manifest = assign(people, [Space("bus-1", seats=1)])
    assert manifest.unplaced == ["s1"]
    assert [s.person_id for s in manifest.seats] == ["x"]


passengers = st.lists(
    st.builds(
        Passenger,
        person_id=st.uuids().map(str),
        household_id=st.sampled_from(["h1", "h2", "h3", "h4", "h5"]),
        vulnerabilities=st.frozensets(st.sampled_from(["stretcher", "wounded", "elderly"])),
    ),
    max_size=40,
    unique_by=lambda p: p.person_id,
)
spaces = st.lists(
    st.builds(
        Space,
        code=st.uuids().map(str),
        seats=st.integers(0, 12),
        stretchers=st.integers(0, 2),
        ambulance=st.booleans(),
    ),
    max_size=5,
    unique_by=lambda s: s.code,
)


@settings(max_examples=150, deadline=None)
@given(people=passengers, vehicles=spaces)
def test_every_person_once_and_no_vehicle_over_capacity(
    people: list[Passenger], vehicles: list[Space]
) -> None:
    capacity = {v.code: (v.seats, v.stretchers) for v in vehicles}
    manifest = assign(people, vehicles)
    placed = [s.person_id for s in manifest.seats] + manifest.unplaced
    assert sorted(placed) == sorted(p.person_id for p in people)
    for code, seats in manifest.by_vehicle().items():
        used = Counter(s.place for s in seats)
        assert used["seat"] <= capacity[code][0] and used["stretcher"] <= capacity[code][1]
    stretcher_ids = {p.person_id for p in people if p.stretcher}
    assert all(s.place == "stretcher" for s in manifest.seats if s.person_id in stretcher_ids)
