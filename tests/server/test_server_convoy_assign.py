"""The shipped example with its 9,000 people: with one manifest per vehicle, "Assign everyone"
could place 1,026 of them (20 buses of 50 seats, 13 ambulances of 2 stretcher places); with the
trips of the convoy plan as places, it places exactly the people the plan's trips carry, each on a
trip that loads their gathering point and group, the wounded on stretcher places.

The assignment here is the one the service runs (:func:`corridor.ops.manifests.assign`, with the
trips as :func:`corridor.server.manifests.service` lays them out), on the example's 9,000 people
(registering 9,000 people through the API is left to the import tests)."""

from __future__ import annotations

from collections import Counter

from corridor.ops.manifests import Passenger, Space, assign
from corridor.scenario.load import load_scenario
from corridor.server.manifests.service import source_of
from server.test_server_convoy import SCENARIO, example_plan


def _everyone() -> tuple[list[Passenger], set[str]]:
    scenario = load_scenario(SCENARIO)
    stretcher = {g.name for g in scenario.groups if g.stretcher}
    sources = [
        {"id": s.id, "node": s.node, "group": s.group, "stretcher": s.group in stretcher}
        for s in scenario.sources
    ]
    people = []
    for s in scenario.sources:
        needs = frozenset({"wounded", "stretcher"}) if s.group in stretcher else frozenset()
        for i in range(s.people):
            # Registered at the point the source names; its source found as the service finds it.
            people.append(
                Passenger(f"{s.id}-{i}", f"{s.id}-{i // 4}", needs, source_of(s.id, sorted(needs), sources))
            )
    return people, {s.id for s in scenario.sources if s.group in stretcher}


def test_assign_everyone_fills_every_trip_of_the_plan() -> None:
    plan = example_plan()
    people, wounded_sources = _everyone()
    assert len(people) == 9000
    assert all(p.source == p.person_id.rsplit("-", 1)[0] for p in people)
    old = assign(
        people,
        [
            Space(v, 50 if v.startswith("bus") else 0, 0 if v.startswith("bus") else 2, v.startswith("amb"))
            for v in plan.vehicles
        ],
    )
    assert len(old.seats) == 20 * 50 + 13 * 2 and len(old.unplaced) == 9000 - 1026
    spaces = [
        Space(
            t.vehicle,
            50 if t.vehicle.startswith("bus") else 0,
            0 if t.vehicle.startswith("bus") else 2,
            t.vehicle.startswith("amb"),
            0,
            t.number,
            dict(t.load),
            float(t.board_start),
        )
        for t in plan.trips
    ]
    manifest = assign(people, spaces)
    # Independent answer: the plan's loads, trip by trip.
    assert len(manifest.seats) == plan.evacuated == sum(t.people for t in plan.trips)
    assert len(manifest.unplaced) == 9000 - plan.evacuated
    got = {key: len(seats) for key, seats in manifest.by_trip().items()}
    assert got == {(t.vehicle, t.number): t.people for t in plan.trips}
    loads = {(t.vehicle, t.number): dict(t.load) for t in plan.trips}
    for seat in manifest.seats:
        source = seat.person_id.rsplit("-", 1)[0]
        assert loads[(seat.vehicle, seat.trip)].get(source, 0) > 0
        assert (seat.place == "stretcher") == (source in wounded_sources)
    trips_per_bus = Counter(v for v, _ in got if v.startswith("bus"))
    assert max(trips_per_bus.values()) >= 2  # a bus carries people on several trips
