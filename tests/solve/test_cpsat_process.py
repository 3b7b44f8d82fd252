"""CP-SAT in a worker process: the same answers as in the calling process, and a worker that dies (killed,
aborted or stopped) raises SolverCrashError naming how it ended; the next solve starts a new worker."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ortools.sat.python import cp_model
from ortools.sat.python import cp_model_helper as cmh

from corridor.solve import cpsat_process
from corridor.solve.cpsat_process import SolverCrashError

WEIGHTS = [4, 7, 3, 5, 6, 2]
VALUES = [5, 9, 4, 7, 8, 1]
CAPACITY = 14


def _knapsack() -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    m = cp_model.CpModel()
    take = [m.new_bool_var(f"take{i}") for i in range(len(WEIGHTS))]
    m.add(cp_model.LinearExpr.weighted_sum(take, WEIGHTS) <= CAPACITY)
    m.maximize(cp_model.LinearExpr.weighted_sum(take, VALUES))
    return m, take


def _best_by_enumeration() -> int:
    return max(
        sum(v for v, t in zip(VALUES, pick, strict=True) if t)
        for pick in itertools.product((0, 1), repeat=len(WEIGHTS))
        if sum(w for w, t in zip(WEIGHTS, pick, strict=True) if t) <= CAPACITY
    )


def _parameters(seconds: float = 10.0) -> cmh.SatParameters:
    parameters = cp_model.CpSolver().parameters
    parameters.max_time_in_seconds = seconds
    parameters.num_workers = 1
    return parameters


@pytest.fixture(autouse=True)
def _no_hook() -> Iterator[None]:
    yield
    cpsat_process.on_send = None


def test_the_worker_solves_to_the_optimum_of_the_enumeration_and_is_reused() -> None:
    m, take = _knapsack()
    first = cpsat_process.solve(m, _parameters())
    assert first.status == cp_model.OPTIMAL
    assert first.status_name() == "OPTIMAL"
    assert round(first.objective_value) == _best_by_enumeration()
    assert first.best_objective_bound == first.objective_value
    chosen = [first.boolean_value(t) for t in take]
    assert sum(w for w, c in zip(WEIGHTS, chosen, strict=True) if c) <= CAPACITY
    assert first.value(cp_model.LinearExpr.weighted_sum(take, VALUES)) == _best_by_enumeration()
    assert first.boolean_value(~take[0]) == (not chosen[0])
    pids = cpsat_process.worker_pids()
    assert pids and os.getpid() not in pids
    second = cpsat_process.solve(m, _parameters())
    assert round(second.objective_value) == _best_by_enumeration()
    assert set(cpsat_process.worker_pids()) & set(pids)  # the same worker answered again


def test_an_infeasible_model_is_answered_not_crashed() -> None:
    m, take = _knapsack()
    m.add(sum(take) >= 6)  # all six weigh 27 > 14
    assert cpsat_process.solve(m, _parameters()).status == cp_model.INFEASIBLE


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV])
def test_a_worker_killed_mid_solve_raises_and_the_next_solve_works(sig: signal.Signals) -> None:
    m, _ = _knapsack()
    killed: list[int] = []

    def kill(pid: int) -> None:
        killed.append(pid)
        os.kill(pid, sig)

    cpsat_process.on_send = kill
    with pytest.raises(SolverCrashError) as crash:
        cpsat_process.solve(m, _parameters())
    assert sig.name in crash.value.note
    cpsat_process.on_send = None
    again = cpsat_process.solve(m, _parameters())
    assert round(again.objective_value) == _best_by_enumeration()
    assert killed[0] not in cpsat_process.worker_pids()


def _golomb(marks: int) -> cp_model.CpModel:
    """The shortest Golomb ruler of ``marks`` marks: not proved by one CP-SAT worker in seconds."""
    m = cp_model.CpModel()
    x = [m.new_int_var(0, marks * marks, f"x{i}") for i in range(marks)]
    m.add(x[0] == 0)
    for i in range(marks - 1):
        m.add(x[i + 1] >= x[i] + 1)
    m.add_all_different([x[j] - x[i] for i in range(marks) for j in range(i + 1, marks)])
    m.minimize(x[-1])
    return m


def test_a_worker_killed_while_it_searches_raises_soon_and_the_next_solve_works() -> None:
    timers: list[threading.Timer] = []

    def kill_soon(pid: int) -> None:
        timers.append(threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)))
        timers[-1].start()

    cpsat_process.on_send = kill_soon
    began = time.perf_counter()
    with pytest.raises(SolverCrashError, match="SIGKILL"):
        cpsat_process.solve(_golomb(11), _parameters(20.0))
    assert time.perf_counter() - began < 10.0  # not the solve's 20 s
    cpsat_process.on_send = None
    m, _ = _knapsack()
    assert round(cpsat_process.solve(m, _parameters()).objective_value) == _best_by_enumeration()


def test_the_solvers_own_abort_in_the_worker_is_a_crash_not_the_end_of_the_caller() -> None:
    m, _ = _knapsack()
    with pytest.raises(SolverCrashError, match="SIGABRT"):
        cpsat_process._solve_aborting(m, _parameters())
    assert round(cpsat_process.solve(m, _parameters()).objective_value) == _best_by_enumeration()


def test_a_silent_worker_is_stopped_after_the_limit_and_its_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    m, _ = _knapsack()
    monkeypatch.setattr(cpsat_process, "GRACE_SECONDS", 0.5)
    stopped: list[int] = []

    def freeze(pid: int) -> None:
        stopped.append(pid)
        os.kill(pid, signal.SIGSTOP)  # alive, never answering

    cpsat_process.on_send = freeze
    with pytest.raises(SolverCrashError, match="did not answer"):
        cpsat_process.solve(m, _parameters(0.1))
    cpsat_process.on_send = None
    with pytest.raises(ProcessLookupError):
        os.kill(stopped[0], 0)  # killed and reaped
    assert round(cpsat_process.solve(m, _parameters()).objective_value) == _best_by_enumeration()


def test_a_caller_interrupted_mid_solve_does_not_reuse_the_busy_worker() -> None:
    m, _ = _knapsack()
    seen: list[int] = []

    def interrupt(pid: int) -> None:
        seen.append(pid)
        raise KeyboardInterrupt

    cpsat_process.on_send = interrupt
    with pytest.raises(KeyboardInterrupt):
        cpsat_process.solve(m, _parameters())
    cpsat_process.on_send = None
    assert seen[0] not in cpsat_process.worker_pids()
    assert round(cpsat_process.solve(m, _parameters()).objective_value) == _best_by_enumeration()


def test_in_process_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    m, _ = _knapsack()
    monkeypatch.setenv("CORRIDOR_CPSAT_IN_PROCESS", "1")
    cpsat_process.on_send = lambda pid: pytest.fail("no worker should be asked")
    assert round(cpsat_process.solve(m, _parameters()).objective_value) == _best_by_enumeration()


def test_a_forked_process_starts_its_own_worker_and_leaves_the_parents_alone() -> None:
    m, _ = _knapsack()
    cpsat_process.solve(m, _parameters())
    parents = cpsat_process.worker_pids()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the forked child)
        try:
            value = round(cpsat_process.solve(m, _parameters()).objective_value)
            mine = cpsat_process.worker_pids()
            ok = value == _best_by_enumeration() and bool(mine) and not set(mine) & set(parents)
            cpsat_process._close_all()
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(child, 0)
    assert answer == b"1"
    assert set(parents) <= set(cpsat_process.worker_pids())  # still there, still the parent's
    assert round(cpsat_process.solve(m, _parameters()).objective_value) == _best_by_enumeration()


def _solve_in_daemon(answers: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    m, _ = _knapsack()
    solved = cpsat_process.solve(m, _parameters())
    answers.put((multiprocessing.current_process().daemon, round(solved.objective_value)))


def test_a_daemonic_process_such_as_a_dask_worker_may_solve_in_a_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """multiprocessing forbids children to daemonic processes; the worker is a plain subprocess."""
    # The spawned process imports this module by its name (tests.solve...), from the parent's path.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    process = context.Process(target=_solve_in_daemon, args=(answers,), daemon=True)
    process.start()
    try:
        assert answers.get(timeout=120) == (True, _best_by_enumeration())
    finally:
        process.join(timeout=30)
    assert process.exitcode == 0
