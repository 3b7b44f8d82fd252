"""The convoy method ``route``: the timed route programme's plan (in a child process) as the start, then
search with restarts until the limit. Its plans verify, are never worse than the dispatcher's nor than
the programme's own start plan (computed here directly), it keeps a short limit, and it falls back to
the search when the programme does not apply, fails, or no child process can be started. Where the
test must see the child's answer before the search ends, the search is replaced by one that waits for
that answer (nothing here depends on how fast the machine is)."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from convoy_cases import buses, convoy_problems, example
from corridor.plan.convoy_verify import verify_convoy
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import CONVOY_METHODS, solve_convoy
from corridor.solve.convoy.bounds import Bounds, convoy_bounds
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.outcome import MethodOutcome
from corridor.solve.convoy.route_method import (
    EXPONENT,
    Done,
    Failed,
    Rung,
    Skipped,
    Solved,
    predicted,
    programme,
    rungs,
)
from corridor.solve.convoy.route_start import route_start, route_walks
from corridor.solve.convoy.schedule import Schedule, greedy, objective_key
from corridor.solve.convoy.search import SearchResult, SearchSettings
from factories import problem

method_module = importlib.import_module("corridor.solve.convoy.route_method")


def _waiting_search(
    problem: ConvoyProblem,
    legs: Legs,
    *,
    time_limit: float,
    settings: SearchSettings,
    bound: int | None,
    start: Schedule | None,
    progress: object,
    stop: Callable[[], bool] | None,
) -> SearchResult:
    """No search: the start (or the dispatcher's plan), returned once the child has answered."""
    del time_limit, settings, bound, progress
    plan = start if start is not None else greedy(problem, legs)
    if stop is not None:
        began = time.monotonic()
        while not stop() and time.monotonic() - began < 60:
            time.sleep(0.005)
        return SearchResult(plan, 0, 0, 0.0, "asked")
    return SearchResult(plan, 0, 0, 0.0, "bound")


@pytest.fixture
def waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(method_module, "search", _waiting_search)


def _far_and_near() -> ConvoyProblem:
    """One bus of 4 seats at the reception point (node 1), 4 people 1 step away, 12 people 4 steps away."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 4), (2, 1, 5, 4)]
    flow = problem(3, arcs, sources=[(0, 4), (2, 12)], destinations=[1], horizon=17)
    return buses(flow, depots=[1])


def test_route_is_a_registered_method() -> None:
    assert "route" in CONVOY_METHODS


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems())
def test_route_plans_verify_and_lose_neither_to_the_dispatcher_nor_to_the_programme(
    p: ConvoyProblem,
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(method_module, "search", _waiting_search)
        plan = solve_convoy(p, method="route", time_limit=60.0, flow_bound=False)
    assert verify_convoy(plan, p) == []
    key = objective_key(p, plan.trips)
    legs = Legs(p)
    assert key <= objective_key(p, greedy(p, legs).trips)
    found = route_start(p, legs, columns=rungs(p)[-1].columns)
    if found is None:
        assert plan.stats["route_not_applicable"] == 1.0
        return
    start, bound = found
    assert plan.stats["route_rungs"] >= 1
    assert key <= objective_key(p, start.trips)
    # the programme's plan was the start exactly where it beat the dispatcher's (the search here
    # returns its start as it is)
    assert (plan.stats["route_start_used"] == 1.0) == (key < objective_key(p, greedy(p, legs).trips))
    assert plan.evacuated <= bound
    assert plan.bound <= min(bound, convoy_bounds(p, legs, flow=False).best[0])


def test_a_short_limit_still_gives_a_verified_plan() -> None:
    _, p = example()
    for limit in (0.0, 0.3):
        plan = solve_convoy(p, method="route", time_limit=limit)
        assert plan.verify(p) == []
        # the programme (about a second here) is predicted not to fit: not started
        assert plan.stats["skipped_route_programme"] == 1.0
        assert plan.trips
        assert objective_key(p, plan.trips) <= objective_key(p, greedy(p, Legs(p)).trips)
        assert "fallback_violations" not in plan.stats


def test_without_a_programme_it_is_the_search(waiting: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(method_module, "route_start", lambda *a, **k: None)
    p = _far_and_near()
    plan = solve_convoy(p, method="route", time_limit=30.0)
    assert plan.verify(p) == []
    assert plan.stats["route_not_applicable"] == 1.0
    assert plan.stats["route_rungs"] == 0.0
    assert "skipped_route_programme" not in plan.stats
    assert list(plan.trips) == greedy(p, Legs(p)).trips  # the (waiting) search's plan


def test_a_programme_that_fails_leaves_the_search(waiting: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no programme today")

    monkeypatch.setattr(method_module, "route_start", fails)
    p = _far_and_near()
    plan = solve_convoy(p, method="route", time_limit=30.0)
    assert plan.verify(p) == []
    assert plan.stats["route_failed"] == 1.0
    assert plan.stats["skipped_route_programme"] == 1.0


def test_without_any_process_it_is_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoFork:
        def __init__(self, *args: object) -> None:
            raise AssertionError("daemonic processes are not allowed to have children")

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(method_module, "_Forked", NoFork)
    monkeypatch.setattr(method_module.subprocess, "Popen", no_subprocess)
    p = _far_and_near()
    plan = solve_convoy(p, method="route", time_limit=1.0)
    assert plan.verify(p) == []
    assert plan.stats["route_no_process"] == 1.0
    assert plan.stats["skipped_route_programme"] == 1.0
    assert objective_key(p, plan.trips) <= objective_key(p, greedy(p, Legs(p)).trips)


def test_where_no_fork_may_start_the_programme_runs_in_a_subprocess(
    waiting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoFork:
        def __init__(self, *args: object) -> None:
            raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(method_module, "_Forked", NoFork)
    p = _far_and_near()
    plan = solve_convoy(p, method="route", time_limit=60.0, flow_bound=False)
    assert plan.verify(p) == []
    assert plan.stats["route_rungs"] >= 1 and "route_no_process" not in plan.stats
    found = route_start(p, Legs(p), columns=rungs(p)[-1].columns)
    assert found is not None
    assert plan.stats["route_start_people"] == sum(t.people for t in found[0].trips)


def _route_in_daemon(answers: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """In a daemonic process (as a Dask worker is): the route method with the waiting search, whose
    child runs the real programme."""
    module = importlib.import_module("corridor.solve.convoy.route_method")
    module.search = _waiting_search  # type: ignore[attr-defined]
    plan = solve_convoy(_far_and_near(), method="route", time_limit=60.0, flow_bound=False)
    answers.put((multiprocessing.current_process().daemon, plan))


def test_in_a_daemonic_process_such_as_a_dask_worker_the_programme_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """multiprocessing forbids children to daemonic processes; the programme's child is a subprocess."""
    # The spawned process imports this module by its name (tests.solve...), from the parent's path.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    process = context.Process(target=_route_in_daemon, args=(answers,), daemon=True)
    process.start()
    try:
        daemonic, plan = answers.get(timeout=120)
    finally:
        process.join(timeout=30)
    assert process.exitcode == 0
    assert daemonic is True
    p = _far_and_near()
    assert plan.verify(p) == []
    assert plan.stats["route_rungs"] >= 1
    assert "route_no_process" not in plan.stats and "route_failed" not in plan.stats
    # the programme's own plan, made here: the method's is no worse, and within its optimum
    legs = Legs(p)
    found = route_start(p, legs, columns=rungs(p)[-1].columns)
    assert found is not None
    start, bound = found
    assert plan.stats["route_start_people"] == sum(t.people for t in start.trips)
    assert objective_key(p, plan.trips) <= objective_key(p, start.trips)
    assert plan.evacuated <= bound


class _StuckLegs(Legs):
    """Drives as :class:`Legs`, except in another process (the programme's child): there the first
    drive asked for writes the process's id to ``mark`` and waits for ever."""

    def __init__(self, problem: ConvoyProblem, mark: Path) -> None:
        super().__init__(problem)
        self.mark = mark
        self.home = os.getpid()

    def _stuck(self) -> None:
        if os.getpid() != self.home:
            self.mark.with_suffix(".tmp").write_text(str(os.getpid()))
            self.mark.with_suffix(".tmp").rename(self.mark)
            while True:
                time.sleep(1)

    def static_steps(self, kind: int, origin: int, target: int, avoid: frozenset[int] = frozenset()) -> int:
        self._stuck()
        return super().static_steps(kind, origin, target, avoid)

    def drive(self, *args: Any, **kwargs: Any) -> Any:
        self._stuck()
        return super().drive(*args, **kwargs)


@pytest.mark.parametrize("kind", ["_Forked", "_Piped"])
def test_a_child_killed_in_its_programme_leaves_the_search(
    kind: str, waiting: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The child (forked, or the subprocess a daemonic process starts) is killed (SIGKILL) while it
    solves: the method says ``route_failed`` and its plan is the search's."""
    # The subprocess unpickles _StuckLegs: it imports this module by its name, from the parent's path.
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), str(root / "tests")]))
    made = getattr(method_module, kind)
    monkeypatch.setattr(method_module, "_start", made)
    p = _far_and_near()
    mark = tmp_path / "child"
    legs = _StuckLegs(p, mark)
    killed: list[int] = []

    def kill() -> None:
        began = time.monotonic()
        while not mark.exists() and time.monotonic() - began < 60:
            time.sleep(0.01)
        pid = int(mark.read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    bounds = convoy_bounds(p, Legs(p), flow=False)
    killer = threading.Thread(target=kill)
    killer.start()
    try:
        outcome = method_module.route_method(p, legs, bounds, 60.0, None)
    finally:
        killer.join()
    assert killed and killed[0] != os.getpid()
    stats = outcome.stats
    assert stats["route_failed"] == 1.0
    assert stats["route_rungs"] == 0.0 and "route_no_process" not in stats
    assert outcome.bound is None
    bound, kind = bounds.best
    plan = outcome.schedule.plan(method="route", status="feasible", bound=bound, bound_kind=kind, stats={})
    assert plan.verify(p) == []
    assert list(plan.trips) == greedy(p, Legs(p)).trips  # the (waiting) search's plan


def _orphan(mark: Path) -> None:
    """Start the programme's subprocess on a drive that never ends, and wait to be killed."""
    p = _far_and_near()
    child = method_module._Piped(p, _StuckLegs(p, mark), 1_000.0)
    del child
    time.sleep(600)


def _ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie no one has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_programmes_subprocess_ends_when_its_parent_is_killed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = Path(__file__).resolve().parents[2]
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), str(root / "tests")]))
    mark = tmp_path / "child"
    process = multiprocessing.get_context("spawn").Process(target=_orphan, args=(mark,), daemon=True)
    process.start()
    try:
        began = time.monotonic()
        while not mark.exists() and process.is_alive() and time.monotonic() - began < 120:
            time.sleep(0.01)
        assert mark.exists()
        pid = int(mark.read_text())  # the subprocess, in its programme
        assert not _ended(pid)
    finally:
        process.kill()
        process.join()
    began = time.monotonic()
    while not _ended(pid) and time.monotonic() - began < 60:
        time.sleep(0.01)
    assert _ended(pid)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems())
def test_the_rungs_go_from_coarse_to_one_step_buckets(p: ConvoyProblem) -> None:
    """Each rung's columns give the programme buckets of at most its steps (the programme says)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(method_module, "ROUTE_COLUMNS", 20)
        sizes = rungs(p)
    assert sizes[-1].steps == 1
    assert [r.steps for r in sizes] == sorted((r.steps for r in sizes), reverse=True)
    legs = Legs(p)
    for rung in sizes:
        walks = route_walks(p, legs, columns=rung.columns)
        assert walks is None or walks.steps <= rung.steps


def _messages(p: ConvoyProblem, budget: float) -> list[object]:
    mine, theirs = multiprocessing.Pipe(duplex=False)
    programme(p, Legs(p), rungs(p), budget, theirs)
    out: list[object] = []
    while True:
        try:
            out.append(mine.recv())
        except EOFError:  # the child's end is closed after its last word
            return out


def test_the_programme_sends_each_plan_then_its_last_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(method_module, "ROUTE_COLUMNS", 20)
    p = _far_and_near()
    sizes = rungs(p)
    assert len(sizes) >= 3
    told = _messages(p, 10_000.0)
    assert isinstance(told[-1], Done)
    solved = told[:-1]
    # the coarsest first (to time it), then straight to one step per bucket (predicted in time)
    assert [m.rung for m in solved if isinstance(m, Solved)] == [sizes[0], sizes[-1]]
    for message in solved:
        assert isinstance(message, Solved)
        plan = (
            Schedule(p, Legs(p))
            .rebuilt(message.timed)
            .plan(method="t", status="feasible", bound=message.bound, bound_kind="route", stats={})
        )
        assert plan.verify(p) == []
        assert plan.evacuated <= message.bound
    # no time: the first (coarsest) programme, then the word that the finer ones are left out
    told = _messages(p, 0.0)
    assert [type(m) for m in told] == [Solved, Skipped]


def test_the_finest_programme_predicted_in_time_is_the_next() -> None:
    sizes = [Rung(8, 1_000), Rung(4, 2_000), Rung(2, 4_000), Rung(1, 8_000)]
    measured = (1_000, 1.0)
    assert [predicted(r, measured) for r in sizes] == pytest.approx([c**EXPONENT for c in (1, 2, 4, 8)])
    # 10 s left: 2,000 columns take 2 ** EXPONENT s, 4,000 take 4 ** EXPONENT (about 12 s at 1.8)
    assert [r.steps for r in sizes if predicted(r, measured) <= 10.0] == [8, 4]


def test_a_failing_programme_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no programme today")

    monkeypatch.setattr(method_module, "route_start", fails)
    told = _messages(_far_and_near(), 100.0)
    assert len(told) == 1 and isinstance(told[0], Failed) and "no programme today" in told[0].error


def test_a_bound_of_the_method_counts_only_where_it_is_tighter(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _far_and_near()
    best, _ = convoy_bounds(p, Legs(p)).best
    for own, expected in ((best - 1, (best - 1, "own")), (best + 1, (best, None))):

        def method(
            problem: ConvoyProblem,
            legs: Legs,
            bounds: Bounds,
            time_limit: float,
            progress: object,
            own: int = own,
        ) -> MethodOutcome:
            return MethodOutcome(greedy(problem, legs), "feasible", {"mine": 2.0}, own, "own")

        monkeypatch.setitem(CONVOY_METHODS, "own", method)
        plan = solve_convoy(p, method="own", time_limit=5.0)
        assert plan.stats["mine"] == 2.0
        assert plan.bound == expected[0]
        assert expected[1] is None or plan.bound_kind == expected[1]
