"""The exact convoy method survives a CP-SAT crash: its solves run in a worker process
(corridor.solve.cpsat_process); a worker killed during any of them (the floor plan, the walk programme,
the hint, the ceiling, the floor, the solves) leaves the method with the best plan it had, verified,
at least the dispatcher's, ``feasible``, the crash named; and the next call solves to the optimum again."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator

import pytest

from convoy_cases import buses
from corridor.problem.convoy import ConvoyProblem
from corridor.solve import cpsat_process
from corridor.solve.convoy import solve_convoy
from corridor.solve.convoy.exact import ExactResult, solve_exact
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import greedy, objective_key
from factories import problem

PHASES = {"floor-plan", "walks", "hint", "ceiling", "floor", "solve"}


def _small(people: int = 9) -> ConvoyProblem:
    """Two buses of 4 seats at the reception point (node 1); 5 people 1 step away (node 0), ``people``
    4 steps away (node 2); with 9 more than the buses can bring out in 14 steps, with 3 not."""
    arcs = [(0, 1, 5, 1), (1, 0, 5, 1), (1, 2, 5, 4), (2, 1, 5, 4)]
    flow = problem(3, arcs, sources=[(0, 5), (2, people)], destinations=[1], horizon=14)
    return buses(flow, depots=[1, 1])


@pytest.fixture(autouse=True)
def _no_hook() -> Iterator[None]:
    yield
    cpsat_process.on_send = None


def _count_solves(problem: ConvoyProblem) -> tuple[int, ExactResult]:
    calls: list[int] = []
    cpsat_process.on_send = calls.append
    result = solve_exact(problem, Legs(problem), time_limit=30, workers=1)
    cpsat_process.on_send = None
    return len(calls), result


def _kill_call(number: int, sig: signal.Signals = signal.SIGKILL) -> None:
    """Kill the worker as the ``number``-th solve (from 1) is sent to it."""
    calls: list[int] = []

    def hook(pid: int) -> None:
        calls.append(pid)
        if len(calls) == number:
            os.kill(pid, sig)

    cpsat_process.on_send = hook


def _verifies(problem: ConvoyProblem, result: ExactResult) -> None:
    plan = result.schedule.plan(method="exact", status=result.status, bound=10**6, bound_kind="t", stats={})
    assert plan.verify(problem) == []


def _honest(problem: ConvoyProblem, legs: Legs, result: ExactResult) -> None:
    _verifies(problem, result)
    assert objective_key(problem, result.schedule.trips) <= objective_key(
        problem, greedy(problem, legs).trips
    )
    assert result.status == "feasible"


@pytest.mark.parametrize("people", [9, 3])  # the dispatcher leaves people behind / brings everyone out
def test_a_crash_in_any_solve_gives_a_verified_feasible_plan_and_the_next_call_is_optimal(
    people: int,
) -> None:
    problem = _small(people)
    legs = Legs(problem)
    solves, reference = _count_solves(problem)
    assert reference.status == "optimal"
    best = objective_key(problem, reference.schedule.trips)
    crashed_phases = set()
    again_after: set[str] = set()
    for number in range(1, solves + 1):
        _kill_call(number)
        result = solve_exact(problem, legs, time_limit=30, workers=1)
        cpsat_process.on_send = None
        crashed = [s for s in result.skipped if s.endswith(":crashed")]
        assert len(crashed) == 1, (number, result.skipped)
        phase = crashed[0].removesuffix(":crashed")
        assert phase in PHASES
        crashed_phases.add(phase)
        assert any(f"{phase}:CRASHED:" in note and "SIGKILL" in note for note in result.levels)
        if phase == "solve":
            _honest(problem, legs, result)
        else:  # a bound, the hint or the start plan lost: the solves still run, maybe to the proof
            _verifies(problem, result)
            assert objective_key(problem, result.schedule.trips) >= best
            if result.status == "optimal":
                assert objective_key(problem, result.schedule.trips) == best
        if phase not in again_after:  # the next call, once after a crash in each phase
            again_after.add(phase)
            again = solve_exact(problem, legs, time_limit=30, workers=1)
            assert again.status == "optimal" and objective_key(problem, again.schedule.trips) == best
    if "OPTIMAL:walk-floor" in reference.levels:  # proved by the walk relaxation: no model solved
        assert people == 3 and crashed_phases == {"floor-plan", "walks"}
    else:
        assert {"hint", "solve", "floor"} <= crashed_phases
    assert ("floor-plan" in crashed_phases) == (people == 3)
    assert "walks" in crashed_phases  # with 9, the walk relaxation's solve that finds not everyone out
    assert ("ceiling" in crashed_phases) == (people == 9)


def test_the_solvers_abort_in_the_main_solve_is_a_feasible_plan_from_solve_convoy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SIGABRT, the signal of the solver's own abort, on every solve: the convoy plan is the
    dispatcher's, verified, feasible, and the log says why."""
    problem = _small()

    def abort(pid: int) -> None:
        os.kill(pid, signal.SIGABRT)

    cpsat_process.on_send = abort
    with caplog.at_level(logging.WARNING):
        plan = solve_convoy(problem, method="exact", time_limit=30)
    cpsat_process.on_send = None
    assert plan.verify(problem) == []
    assert plan.status == "feasible"
    assert objective_key(problem, plan.trips) == objective_key(problem, greedy(problem, Legs(problem)).trips)
    assert "SIGABRT" in caplog.text and "CP-SAT crashed" in caplog.text
    assert solve_convoy(problem, method="exact", time_limit=30).status == "optimal"


def test_a_crash_of_the_walks_after_the_first_solve_leaves_the_solves_going() -> None:
    """The dispatcher leaves two people behind; the first solve proves everyone can get out, then the
    walk programme runs (and is killed here): the second solve goes on without its floor or its plan."""
    arcs = [(0, 1, 5, 3), (1, 0, 5, 3), (1, 2, 5, 6), (2, 1, 5, 6), (2, 3, 5, 2), (3, 2, 5, 2)]
    arcs += [(3, 4, 5, 4), (4, 3, 5, 4)]
    shuttle = buses(problem(5, arcs, sources=[(1, 4), (3, 2)], destinations=[0], horizon=30), depots=[3])
    legs = Legs(shuttle)
    solves, reference = _count_solves(shuttle)
    assert any(note.startswith("walks:") for note in reference.levels)
    killed = None
    for number in range(1, solves + 1):
        _kill_call(number)
        result = solve_exact(shuttle, legs, time_limit=30, workers=1)
        cpsat_process.on_send = None
        if "walks:crashed" in result.skipped:
            killed = result
            break
    assert killed is not None
    _verifies(shuttle, killed)
    assert objective_key(shuttle, killed.schedule.trips) == objective_key(shuttle, reference.schedule.trips)
