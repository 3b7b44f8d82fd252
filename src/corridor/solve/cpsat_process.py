"""CP-SAT solves in a child process, so that a fault of the solver cannot take the caller with it.

OR-Tools' CP-SAT aborts the whole process on some internal faults (seen once with 9.15 on the
Helsinki convoy model: "Unsatisfied linear constraint with no free enforcement literal"); Python
cannot catch an abort. :func:`solve` sends the model and the parameters (protocol buffers in text
format) to a long-lived worker process, which solves and sends back the response. A worker that dies
(or does not answer within the time limit and a generous grace) is replaced by a new one at the next
solve, and the solve that was running raises :class:`SolverCrashError` saying how it ended.

The worker is a plain interpreter running this file (``python -P cpsat_process.py``): it imports only
the standard library and OR-Tools, reads requests on its standard input and answers on a private copy
of its standard output, whose descriptor then points at the parent's standard error so that the
solver's own log (``log_search_progress``) is shown as before. Idle workers are kept for the next
solve (one per thread solving at once); starting one takes some 0.4 s (the OR-Tools import), paid
once. Being a plain subprocess, not a ``multiprocessing`` child, it may be started from a daemonic
process such as a Dask worker, and it ends when its parent does (its standard input closes).
Solution callbacks, log callbacks and ``stop_search`` do not cross the process boundary; the caller
gets the final response only.

``CORRIDOR_CPSAT_IN_PROCESS=1`` in the environment solves in the calling process instead (as before).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ortools.sat.python import cp_model
from ortools.sat.python import cp_model_helper as cmh

GRACE_SECONDS = 30.0  # beyond the time limit (and a quarter of it) before a silent worker is killed
KEEP_IDLE = 2  # idle workers kept for the next solves
_HEADER = struct.Struct("<QQB")  # parameters' length, model's length, a test-only fault
_LENGTH = struct.Struct("<Q")
_FAULT_NONE, _FAULT_ABORT = 0, 1


class SolverCrashError(Exception):
    """The worker process died (or was killed after going silent) before it answered."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


class Solved:
    """A CP-SAT response with the accessors of a :class:`cp_model.CpSolver` after its solve."""

    def __init__(self, response: cmh.CpSolverResponse) -> None:
        self._response = response

    @property
    def status(self) -> Any:
        return self._response.status

    def status_name(self, status: Any = None) -> str:
        return str((self._response.status if status is None else status).name)

    def value(self, expression: cp_model.LinearExprT) -> int:
        return int(cmh.ResponseHelper.value(self._response, expression))

    def boolean_value(self, literal: cp_model.LiteralT) -> bool:
        return bool(cmh.ResponseHelper.boolean_value(self._response, literal))

    @property
    def objective_value(self) -> float:
        return float(self._response.objective_value)

    @property
    def best_objective_bound(self) -> float:
        return float(self._response.best_objective_bound)

    @property
    def wall_time(self) -> float:
        return float(self._response.wall_time)

    @property
    def response_proto(self) -> cmh.CpSolverResponse:
        return self._response


def solve(model: cp_model.CpModel, parameters: cmh.SatParameters) -> Solved:
    """Solve ``model`` with ``parameters`` (``max_time_in_seconds`` included) in a worker process.

    Raises :class:`SolverCrashError` if the worker dies or stays silent past the time limit plus
    :data:`GRACE_SECONDS` and a quarter of the limit; the next call starts a new worker."""
    if os.environ.get("CORRIDOR_CPSAT_IN_PROCESS") == "1":
        solver = cp_model.CpSolver()
        solver.parameters.copy_from(parameters)
        solver.solve(model)
        return Solved(solver.response_proto)
    limit = float(parameters.max_time_in_seconds)
    wait = 1.25 * limit + GRACE_SECONDS if math.isfinite(limit) else None
    return _solve_text(str(model.proto), str(parameters), wait, _FAULT_NONE)


def prestart() -> None:
    """Start a worker now (without waiting for it), so that its import overlaps the caller's work."""
    if os.environ.get("CORRIDOR_CPSAT_IN_PROCESS") == "1":
        return
    with _lock:
        if _idle:
            return
    worker = _Worker()
    _give(worker)


def worker_pids() -> list[int]:
    """The process ids of the idle workers (for tests and diagnostics)."""
    with _lock:
        return [w.proc.pid for w in _idle]


# -- tests ------------------------------------------------------------------------------------------
# Called with the worker's pid just before a request is sent (tests kill the worker from here).
on_send: Callable[[int], None] | None = None


def _solve_aborting(model: cp_model.CpModel, parameters: cmh.SatParameters) -> Solved:
    """Test only: the worker calls ``os.abort()`` instead of solving (a solver's own abort)."""
    return _solve_text(str(model.proto), str(parameters), 60.0, _FAULT_ABORT)


# -- the parent's side --------------------------------------------------------------------------------
class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-P", str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        self.used = 0
        self.owner = os.getpid()  # a forked copy of this process must not use (nor end) it

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def ended(self) -> str:
        """How the worker ended, in words."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the CP-SAT worker stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the CP-SAT worker died ({name})"
        return f"the CP-SAT worker exited with code {code}"


_lock = threading.Lock()
_idle: list[_Worker] = []


def _take() -> _Worker:
    with _lock:
        if any(w.owner != os.getpid() for w in _idle):  # forked: those are the parent's
            _idle[:] = [w for w in _idle if w.owner == os.getpid()]
        while _idle:
            worker = _idle.pop()
            if worker.alive():
                return worker
            worker.close()
    return _Worker()


def _give(worker: _Worker) -> None:
    with _lock:
        if worker.alive() and len(_idle) < KEEP_IDLE:
            _idle.append(worker)
            return
    worker.close()


@atexit.register
def _close_all() -> None:
    with _lock:
        workers = [w for w in _idle if w.owner == os.getpid()]
        _idle.clear()
    for worker in workers:
        worker.close()


def read_exactly(stream: IO[bytes], n: int) -> bytes:
    """``n`` bytes of ``stream``; :class:`EOFError` if it ends first."""
    chunks: list[bytes] = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _solve_text(model: str, parameters: str, wait: float | None, fault: int) -> Solved:
    worker = _take()
    silent = threading.Event()
    timer: threading.Timer | None = None
    if wait is not None:

        def _silence() -> None:
            silent.set()
            worker.proc.kill()

        timer = threading.Timer(wait, _silence)
        timer.daemon = True
        timer.start()
    began = time.perf_counter()
    done = False
    try:
        assert worker.proc.stdin is not None and worker.proc.stdout is not None
        params_bytes, model_bytes = parameters.encode(), model.encode()
        try:
            if on_send is not None:
                on_send(worker.proc.pid)
            worker.proc.stdin.write(_HEADER.pack(len(params_bytes), len(model_bytes), fault))
            worker.proc.stdin.write(params_bytes)
            worker.proc.stdin.write(model_bytes)
            worker.proc.stdin.flush()
            (length,) = _LENGTH.unpack(read_exactly(worker.proc.stdout, _LENGTH.size))
            text = read_exactly(worker.proc.stdout, length).decode()
        except (OSError, EOFError, struct.error):
            worker.close()
            if silent.is_set():
                raise SolverCrashError(
                    f"the CP-SAT worker did not answer within {wait:.0f} s and was stopped"
                ) from None
            note = worker.ended()
            raise SolverCrashError(f"{note} after {time.perf_counter() - began:.1f} s") from None
        response = cmh.CpSolverResponse()
        response.parse_text_format(text)
        done = True
        worker.used += 1
        return Solved(response)
    finally:
        if timer is not None:
            timer.cancel()
        if done:
            _give(worker)
        elif worker.alive():  # interrupted (KeyboardInterrupt) mid-solve: do not reuse it
            worker.close()


# -- the worker's side --------------------------------------------------------------------------------
def _serve() -> None:
    """Answer requests on standard input until it is closed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; a Ctrl-C reaches both
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the solver's log (to stdout) goes to the parent's standard error
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    while True:
        try:
            head = read_exactly(requests, _HEADER.size)
        except EOFError:
            return
        params_len, model_len, fault = _HEADER.unpack(head)
        parameters = cmh.SatParameters()
        parameters.parse_text_format(read_exactly(requests, params_len).decode())
        model = cp_model.CpModel()
        model.proto.parse_text_format(read_exactly(requests, model_len).decode())
        if fault == _FAULT_ABORT:
            os.abort()
        solver = cp_model.CpSolver()
        solver.parameters.copy_from(parameters)
        solver.solve(model)
        text = str(solver.response_proto).encode()
        answers.write(_LENGTH.pack(len(text)))
        answers.write(text)
        answers.flush()


if __name__ == "__main__":
    _serve()
