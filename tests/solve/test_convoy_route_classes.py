"""The timed route bound with some vehicle classes kept aggregated over time (those with a small share
of the fleet's places, so that the others get finer buckets): never below the enumeration of every
plan, whichever classes are timed, and still seeing the deadline cut of the class that is timed."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoy_cases import brute_force, convoy_problems
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import bounds
from corridor.solve.convoy.bounds import _minor_classes, _route_bound, _RouteLP, convoy_bounds
from corridor.solve.convoy.legs import Legs
from factories import problem


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems(vehicles=2, horizon=(4, 10)), st.sampled_from([0.0, 0.5, 1.01]))
def test_no_mix_of_timed_and_aggregated_classes_is_below_the_enumeration(
    p: ConvoyProblem, minor: float
) -> None:
    """0: every class timed; 0.5: the classes with less than half the places aggregated; 1.01: all."""
    legs = Legs(p)
    best = -sum(brute_force(p, legs)[:-2])  # people out of the best plan of every sequence of trips
    checkpoint = convoy_bounds(p, legs, flow=False).checkpoint
    with mock.patch.object(bounds, "MINOR_CLASS", minor):
        for columns in (40, 100_000):
            bound = _route_bound(p, legs, checkpoint, timed=True, columns=columns)
            assert bound is None or best <= bound, (minor, columns, best, bound)


def _fleet(counts: list[int], seats: list[int], stretchers: list[int]) -> ConvoyProblem:
    """Vehicles of len(counts) types at node 1 of a two-node road; 30 people at node 0."""
    flow = problem(2, [(0, 1, 5, 2), (1, 0, 5, 2)], sources=[(0, 30)], destinations=[1], horizon=20)
    kinds = len(counts)
    types = [k for k, n in enumerate(counts) for _ in range(n)]
    return ConvoyProblem(
        flow=flow,
        type_ids=tuple(f"t{k}" for k in range(kinds)),
        type_seats=np.asarray(seats, dtype=np.int64),
        type_stretchers=np.asarray(stretchers, dtype=np.int64),
        type_speed=np.ones(kinds),
        load_steps=np.ones(kinds, dtype=np.int64),
        unload_steps=np.ones(kinds, dtype=np.int64),
        vehicle_ids=tuple(f"v{i}" for i in range(len(types))),
        vehicle_type=np.asarray(types, dtype=np.int64),
        vehicle_node=np.ones(len(types), dtype=np.int64),
        vehicle_ready=np.zeros(len(types), dtype=np.int64),
        vehicle_on_board=((),) * len(types),
        group_stretcher=np.asarray([False]),
        checkpoint_inspection=np.zeros(0, dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(0),
        checkpoint_people_rate=np.zeros(0),
    )


def _classes(p: ConvoyProblem) -> set[int]:
    gathering = [int(g) for g in p.gathering_nodes.tolist()]
    dests = [int(d) for d in p.flow.dest_node.tolist()]
    return _minor_classes(p, _RouteLP(p, Legs(p), gathering, dests, timed=True))


def test_the_minor_classes_are_those_with_under_a_twentieth_of_the_places() -> None:
    # 40 buses of 40 seats and 10 ambulances of 2 + 2 places: the ambulances hold 2.4 % of the places
    assert _classes(_fleet([40, 10], [40, 2], [0, 2])) == {1}
    # 10 ambulances beside 4 buses: 40 of 200 places, timed too
    assert _classes(_fleet([4, 10], [40, 2], [0, 2])) == set()
    assert _classes(_fleet([3], [4], [0])) == set()  # a fleet of one type is always timed


@pytest.mark.parametrize(("minor", "bound"), [(bounds.MINOR_CLASS, 8), (1.01, 9)])
def test_the_one_class_timed_keeps_the_deadline_cut_and_aggregated_loses_it(minor: float, bound: int) -> None:
    """One bus of 4 seats at the reception point (node 1), 4 people 1 step away and 12 people 4 steps
    away, 17 steps: the bus brings out 8 (the timed walks see that it cannot make part of a third
    trip); the class kept aggregated only (never so by the rule: it holds every place) lets it."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 4), (2, 1, 5, 4)]
    flow = problem(3, arcs, sources=[(0, 4), (2, 12)], destinations=[1], horizon=17)
    p = _fleet([1], [4], [0])
    p = ConvoyProblem(**{**p.__dict__, "flow": flow})
    with mock.patch.object(bounds, "MINOR_CLASS", minor):
        assert _route_bound(p, Legs(p), None, timed=True) == bound
