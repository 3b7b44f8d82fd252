"""Expected times from the published plan: the plan's minutes per route segment, and
reconciliation that uses them (falling back to the route's written times where there are none)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from corridor.core.errors import InputError
from corridor.core.timeaxis import TimeAxis
from corridor.ops.reconciliation import reconcile
from corridor.ops.route import PointKind, Route, RoutePoint, planned_segments
from corridor.ops.status import Status, SubjectState
from corridor.plan.model import Plan
from corridor.plan.model import Route as PlanRoute
from corridor.solve import solve
from factories import START, problem

# The route as written when the operation was set up: 20 minutes to the checkpoint, 60 to arrive.
POINTS = (
    RoutePoint("start", "Gate", PointKind.DEPARTURE, 0),
    RoutePoint("cp1", "Checkpoint", PointKind.CHECKPOINT, 20),
    RoutePoint("end", "Reception", PointKind.ARRIVAL, 60),
)
NODES = {"start": "0", "cp1": "1", "end": "3"}
T0 = datetime(2016, 12, 15, 10, 0, tzinfo=UTC)


def tiny_plan(dt: float = 1.0) -> Plan:
    """Five people on 0 -> 1 -> 2 -> 3 (5, 7 and 3 steps, room for ten a step): no waiting, so
    they leave 0 at step 0, 1 at step 5, 2 at step 12 and arrive at 3 at step 15."""
    tiny = problem(
        4, [(0, 1, 10, 5), (1, 2, 10, 7), (2, 3, 10, 3)], sources=[(0, 5)], destinations=[3], horizon=30
    )
    tiny = replace(tiny, axis=TimeAxis(START, dt, 30))
    plan = solve(tiny, quickest=False)
    assert plan.verify(tiny) == []
    return plan


def test_a_solved_plan_gives_the_minutes_of_each_segment() -> None:
    assert planned_segments(tiny_plan(), POINTS, NODES) == (5.0, 10.0)


def test_steps_become_minutes_on_the_plans_time_axis() -> None:
    assert planned_segments(tiny_plan(dt=2.0), POINTS, NODES) == (10.0, 20.0)


def test_points_the_plan_does_not_pass_get_no_plan_time() -> None:
    assert planned_segments(tiny_plan(), POINTS, {"start": "0", "cp1": "2", "end": "9"}) == (12.0, None)
    assert planned_segments(tiny_plan(), POINTS) == (None, None)  # point ids are not node ids here


def _route(
    source: str, nodes: tuple[str, ...], departures: tuple[int, ...], arrival: int, people: int = 10
) -> PlanRoute:
    return PlanRoute(
        source, "general", people, "d0", nodes, tuple(range(len(departures))), departures, arrival
    )


def test_the_longest_planned_passage_counts_with_the_waiting_the_plan_schedules() -> None:
    """Two waves: the second waits 4 steps in the checkpoint queue at node 1. A route that loops
    back through the departure counts from when it last leaves it; a route that never passes the
    checkpoint and an empty route say nothing about the segments."""
    plan = replace(
        tiny_plan(),
        routes=(
            _route("s0", ("0", "1", "3"), (0, 5), 15),
            _route("s0", ("0", "1", "3"), (1, 10), 20),
            _route("s1", ("7", "3"), (0,), 4),
            _route("s2", ("0", "2", "0", "1", "3"), (0, 7, 14, 19), 22),  # loops back through 0
            _route("s0", ("0", "1", "3"), (0, 30), 60, people=0),
        ),
    )
    assert planned_segments(plan, POINTS, NODES) == (9.0, 10.0)


def state(progress: int, point: str, at: datetime) -> SubjectState:
    subject = SubjectState(
        kind="vehicle",
        subject_id="bus-1",
        progress=progress,
        progress_point=point,
        progress_at=at,
        last_seen_at=at,
    )
    assert subject.status is (Status.BOARDED if progress == 0 else Status.CHECKPOINT)
    return subject


def overdue_at(route: Route, subject: SubjectState, minutes: float) -> list[tuple[str, str, datetime]]:
    result = reconcile(
        states={("vehicle", "bus-1"): subject},
        people=[],
        vehicle_ids=["bus-1"],
        route=route,
        devices=[],
        windows=[],
        now=T0 + timedelta(minutes=minutes),
        grace_minutes=5,
    )
    return [(o.expected_point, o.expected_from, o.expected_by) for o in result.overdue_vehicles]


def test_reconciliation_expects_vehicles_when_the_plan_does() -> None:
    planned = Route(POINTS, planned=planned_segments(tiny_plan(), POINTS, NODES))
    departed = state(0, "start", T0)
    # Plan: 5 minutes to cp1, + 5 of grace: overdue after 10 minutes, long before the written 20.
    assert overdue_at(planned, departed, 10) == []
    assert overdue_at(planned, departed, 11) == [("cp1", "plan", T0 + timedelta(minutes=10))]
    # Without a plan the written times hold, as before: 20 minutes + 5 of grace.
    unplanned = Route(POINTS)
    assert overdue_at(unplanned, departed, 11) == []
    assert overdue_at(unplanned, departed, 26) == [("cp1", "route", T0 + timedelta(minutes=25))]
    # Past the checkpoint: the plan's 10 minutes to arrive, not the written 40.
    passed = state(1, "cp1", T0)
    assert overdue_at(planned, passed, 16) == [("end", "plan", T0 + timedelta(minutes=15))]
    assert overdue_at(unplanned, passed, 16) == []


def test_a_segment_without_a_plan_time_keeps_the_written_time() -> None:
    route = Route(POINTS, planned=(None, 10.0))
    assert route.minutes_between(0, 1) == 20.0 and route.segment_source(0) == "route"
    assert route.minutes_between(0, 2) == 30.0 and route.segment_source(1) == "plan"


def test_planned_times_must_fit_the_route() -> None:
    with pytest.raises(InputError, match="planned segment times"):
        Route(POINTS, planned=(5.0,))
    with pytest.raises(InputError, match="not negative"):
        Route(POINTS, planned=(5.0, -1.0))
