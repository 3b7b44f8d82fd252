"""Departures per gathering point on the East Aleppo example, binned for a timeline, and the
comparison with a re-plan for a shorter window."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from corridor.plan.model import Plan
from corridor.problem.build import build_problem
from corridor.reports import departures
from corridor.solve import solve
from corridor.solve.pipeline import Planned, plan_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


@pytest.fixture(scope="module")
def aleppo() -> Planned:
    return plan_file(EXAMPLE)


@pytest.fixture(scope="module")
def shorter(aleppo: Planned) -> Plan:
    """The same scenario with the window closing at 02:00 instead of 07:00."""
    scenario = aleppo.scenario.model_copy(
        update={"deadline": datetime.fromisoformat("2016-12-16T02:00+02:00")}
    )
    return solve(build_problem(scenario, aleppo.problem.network), quickest=False)


def test_every_gathering_point_with_its_people_and_departures(aleppo: Planned) -> None:
    points = departures.by_point(aleppo.plan, aleppo.problem)
    assert [p.node for p in points] == list(dict.fromkeys(s.node for s in aleppo.scenario.sources))
    assert sum(p.waiting for p in points) == aleppo.plan.evacuees == 9000
    assert sum(p.out for p in points) == aleppo.plan.evacuated
    for point in points:
        assert point.out <= point.waiting
        assert sum(sum(g.values()) for g in point.steps.values()) == point.out
        assert point.first is not None and point.last is not None
        assert 0 <= point.first <= point.last < aleppo.plan.horizon
    mashhad = next(p for p in points if p.node == "mashhad")
    assert list(mashhad.by_group) == ["wounded", "general"]  # the most urgent first
    assert mashhad.by_group["wounded"] == 120


def test_bins_keep_every_person_and_count_vehicles(aleppo: Planned) -> None:
    assert departures.bin_size(aleppo.plan.horizon) == 30  # 990 one-minute steps -> 33 bins
    assert departures.bin_size(10) == 1
    groups = departures.groups_in_order(aleppo.problem)
    assert groups == ["wounded", "general"]
    for point in departures.by_point(aleppo.plan, aleppo.problem):
        binned = departures.bins(point, 30, groups, occupancy=50)
        assert sum(b.total for b in binned) == point.out
        assert all(b.start % 30 == 0 for b in binned)
        # Each bar's people fill vehicles of 50: at most one part-filled vehicle per bar.
        assert all(b.vehicles == -(-b.total // 50) for b in binned)
        assert point.out / 50 <= sum(b.vehicles for b in binned) < point.out / 50 + len(binned)


def test_a_plan_compared_with_itself_changes_nothing(aleppo: Planned) -> None:
    points = departures.by_point(aleppo.plan, aleppo.problem)
    for change in departures.compare(points, points):
        assert change.difference == 0 and not change.route_changed
        assert (change.first_a, change.last_a) == (change.first_b, change.last_b)


def test_a_shorter_window_gets_fewer_people_out(aleppo: Planned, shorter: Plan) -> None:
    a = departures.by_point(aleppo.plan, aleppo.problem)
    b = departures.by_point(shorter, aleppo.problem)
    changes = departures.compare(a, b)
    assert [c.node for c in changes] == [p.node for p in a]
    assert sum(c.out_a for c in changes) == aleppo.plan.evacuated
    assert sum(c.out_b for c in changes) == shorter.evacuated < aleppo.plan.evacuated
    assert all(c.last_b is None or c.last_b < shorter.horizon for c in changes)
