"""``search`` and ``solve_convoy`` keep their time limit in every phase: the bounds' time is taken from
the method's, the greedy variants the search starts from are made only while there is time (the first
always), and what the limit left out is named in ``SearchResult.skipped``. The clock is faked: nothing
here depends on how fast the machine is."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator

import pytest

from convoy_cases import example
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import CONVOY_METHODS, solve_convoy
from corridor.solve.convoy.bounds import Bounds, convoy_bounds
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Chooser, Schedule, dispatch, greedy, objective_key
from corridor.solve.convoy.search import SearchResult, SearchSettings, search

# the modules themselves (the package's names ``search`` and ``convoy_bounds`` are functions)
convoy_module = importlib.import_module("corridor.solve.convoy")
search_module = importlib.import_module("corridor.solve.convoy.search")


class _Clock:
    """A ``time.perf_counter`` that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Clock]:
    fake = _Clock()
    monkeypatch.setattr(convoy_module.time, "perf_counter", fake)
    yield fake


def test_a_search_with_no_time_left_is_the_first_greedy_plan_and_says_what_it_skipped(clock: _Clock) -> None:
    _, problem = example()
    legs = Legs(problem)
    result = search(problem, legs, time_limit=0.0)
    assert result.skipped == ["portfolio", "steps"]
    assert result.stopped == "time"
    assert result.moves == {}
    first = dispatch(Schedule(problem, Legs(problem)), Chooser(problem, cycle=True), lookahead=0)
    assert result.schedule.trips == first.trips
    plan = result.schedule.plan(method="search", status="feasible", bound=10**6, bound_kind="t", stats={})
    assert plan.verify(problem) == []


def test_a_search_with_time_skips_nothing(clock: _Clock) -> None:
    _, problem = example()
    legs = Legs(problem)
    result = search(problem, legs, time_limit=60.0, settings=SearchSettings(iterations=5, stall=5))
    assert result.skipped == []
    assert result.stopped in ("iterations", "stall", "bound")
    assert sum(tried for tried, _ in result.moves.values()) >= 1
    assert objective_key(problem, result.schedule.trips) <= objective_key(
        problem, greedy(problem, legs).trips
    )


def _slow_bounds(clock: _Clock, seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bounds of ``solve_convoy`` take ``seconds`` on the fake clock."""

    def slow(problem: ConvoyProblem, legs: Legs, *, flow: bool = True) -> Bounds:
        bounds = convoy_bounds(problem, legs, flow=flow)
        clock.now += seconds
        return bounds

    monkeypatch.setattr(convoy_module, "convoy_bounds", slow)


def test_the_method_gets_what_the_bounds_left_of_the_limit(
    clock: _Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, problem = example()
    _slow_bounds(clock, 7.0, monkeypatch)
    given: list[float] = []

    def method(
        problem: ConvoyProblem, legs: Legs, bounds: Bounds, time_limit: float, progress: object
    ) -> tuple[Schedule, str]:
        given.append(time_limit)
        return greedy(problem, legs), "feasible"

    monkeypatch.setitem(CONVOY_METHODS, "recorded", method)
    plan = solve_convoy(problem, method="recorded", time_limit=10.0)
    assert given == [3.0]
    assert plan.stats["method_limit"] == 3.0
    assert plan.stats["bound_seconds"] == 7.0


def test_bounds_past_the_limit_leave_search_the_first_greedy_plan(
    clock: _Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, problem = example()
    _slow_bounds(clock, 12.0, monkeypatch)
    results: list[SearchResult] = []
    real = search_module.search

    def recorded(*args: object, **kwargs: object) -> SearchResult:
        result: SearchResult = real(*args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(search_module, "search", recorded)
    plan = solve_convoy(problem, method="search", time_limit=10.0)
    assert [r.skipped for r in results] == [["portfolio", "steps"]]
    assert plan.stats["method_limit"] == 0.0
    assert plan.verify(problem) == []
    assert len(plan.trips) == len(results[0].schedule.trips)


def test_every_greedy_variant_is_tried_when_there_is_time(clock: _Clock) -> None:
    _, problem = example()
    legs = Legs(problem)
    best, short = search_module._portfolio(problem, legs, clock.now + 1.0)
    assert not short
    keys = [
        objective_key(
            problem, dispatch(Schedule(problem, legs), Chooser(problem, cycle=c), lookahead=k).trips
        )
        for c, k in itertools.product((True, False), (0, None))
    ]
    assert objective_key(problem, best.trips) == min(keys)
