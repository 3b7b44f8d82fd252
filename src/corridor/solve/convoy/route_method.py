"""The convoy method ``route``: start from the timed route programme, then search with restarts.

:func:`route_method` (``solve_convoy(problem, method="route")``) runs two things at once until the time
limit:

- **the programme**, in a child process: the timed route programme of :mod:`.bounds` made a plan by
  :func:`~.route_start.route_start` (its walks' trips, then the dispatcher), first in coarse buckets of
  steps (about :data:`~.bounds.ROUTE_COLUMNS` columns, seconds), then in the finest buckets (halving
  the steps, down to one step per bucket) whose programme is predicted to end within :data:`CHILD_SHARE`
  of the time left (:func:`predicted`, from the last one's time and columns), and so on. Each
  programme solved sends its plan and its optimum (a proved bound on the people out). A programme cannot
  be stopped from inside, so the child is stopped (killed) at the limit instead: the limit holds
  whatever the programme's size;
- **the search** (:func:`~.search.search`), from the dispatcher's plans, restarted from its best plan with
  the next seed whenever it stalls. When a programme's plan comes, the search goes on from it if it is
  better (:func:`~.schedule.objective_key`) than the search's best plan so far, and from that best
  plan otherwise, so the result is never worse than the search's own.

When to use it: on large instances where the fleet cannot bring everyone out by the deadline and there
are minutes to spend. The programme's walks carry which gathering point serves which reception point and
where each vehicle goes next, which the dispatcher, one trip at a time, does not see: on 50 gathering
points, 12 reception points and 50 vehicles with more people than the fleet can move (Anaheim), 2.4 %
below the bound in 300 s (the programme in one-step buckets took 208 s of it, at load 1-6 on 2 cores)
where ``search`` stops near 10 %. With seconds only (only coarse programmes fit, and their plans are
seldom better than the dispatcher's), it is ``search`` with restarts.

The child is forked (:class:`_Forked`): it shares the problem and its drive tables as they are and
answers at once. A daemonic process such as the service's Dask worker running a convoy plan job may not
start a ``multiprocessing`` child (and a many-threaded worker is not to be forked behind
``multiprocessing``'s back), so there, and where there is no fork, the child is a plain subprocess
(:class:`_Piped`, :mod:`.route_child`, as :mod:`corridor.solve.cpsat_process` does): the problem, its
drive tables, the sizes and the budget pickled on its standard input (1.8 MB, 6 ms to pickle, on 50
gathering points, 12 reception points and 50 vehicles on Anaheim; 0.5 MB on Helsinki), its messages
read by a thread into a queue, so that ``ready`` never waits; killed at the limit as the forked one
is, and ending when its parent does. Its price is the interpreter and its imports, about 1 s (load
0.4 on 2 cores; the first plan 0.4-2.3 s later than the forked child's at load 10), which is why the fork
is kept where it is allowed.

The plan's stats say what happened (``1.0`` for yes): ``route_rungs`` programmes solved,
``route_steps_per_bucket`` and ``route_columns`` of the finest, ``route_seconds`` (when its plan
came, from the method's start), ``route_start_people`` (its plan's people out), ``route_start_used``
(the search went on from it), ``search_runs``; and what was left out: ``skipped_route_programme``
(no programme solved within the limit; none is started when even the coarsest is predicted, from
:data:`QUIET`, to take more than half the time), ``skipped_route_finer`` (a finer programme
predicted past the limit or stopped by it), ``route_not_applicable`` (no programme for this
problem), ``route_failed`` (the child ended without a plan), ``route_no_process`` (no child process
at all could be started, neither forked nor a subprocess: then no programme runs).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol, cast

import corridor
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.bounds import MINOR_CLASS, ROUTE_COLUMNS, Bounds
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.outcome import MethodOutcome
from corridor.solve.convoy.route_start import route_start
from corridor.solve.convoy.schedule import Schedule, Timed, objective_key
from corridor.solve.convoy.search import Progress, SearchSettings, search
from corridor.solve.cpsat_process import read_exactly

# the programme's time is taken to grow as its columns to this power (on 50 gathering points, 12
# reception points and 50 vehicles: 2.5 / 5.9 / 25 / 114 s at 30,000 / 60,000 / 120,000 / 250,000)
EXPONENT = 1.8
# (columns, seconds) of that programme in one-step buckets on a quiet machine: the first programme is
# not started at all unless it is predicted from this to take at most half the time left (with seconds
# only, the child would take the cores from the search for a plan that comes too late or is coarse)
QUIET = (250_000, 114.0)
CHILD_SHARE = 0.9  # a programme is started only if it is predicted to end within this share of the time left
RESERVE = 0.03  # the share of the limit (at most RESERVE_MAX s) kept for the last step and the child's end
RESERVE_MAX = 1.0


LENGTH = struct.Struct("<Q")  # before each pickle between the route child and its parent


@dataclass(frozen=True)
class Rung:
    """One size of the programme: buckets of ``steps`` steps, sized by ``columns``."""

    steps: int
    columns: int


@dataclass(frozen=True)
class Solved:
    """A programme's plan (its trips, timed, in the order booked) and optimum, sent by the child."""

    rung: Rung
    timed: list[Timed]
    bound: int
    seconds: float


@dataclass(frozen=True)
class Skipped:
    """The child's last word when it leaves the finer programmes out (predicted past its time)."""

    rung: Rung


@dataclass(frozen=True)
class Done:
    """The child's last word when every size was solved."""


@dataclass(frozen=True)
class Failed:
    """The child's last word when the programme raised (``error`` names it)."""

    error: str


Message = Solved | Skipped | Done | Failed | None  # None (the last word): the programme does not apply


def rungs(problem: ConvoyProblem) -> list[Rung]:
    """The programme's sizes, coarse to fine: buckets of ``q`` steps where about ``ROUTE_COLUMNS``
    columns allow, then ``q`` halved down to one step. The columns per step are counted as the
    programme counts them (per timed vehicle class, :data:`~.bounds.MINOR_CLASS`), so that ``columns``
    gives buckets of at most ``steps`` steps."""
    places = problem.type_seats + problem.type_stretchers
    share: dict[tuple[int, int, int], int] = {}
    for v in range(problem.n_vehicles):
        kind = int(problem.vehicle_type[v])
        key = (kind, int(problem.vehicle_node[v]), int(problem.vehicle_ready[v]))
        share[key] = share.get(key, 0) + int(places[kind])
    total = sum(share.values())
    timed = max(1, sum(1 for n in share.values() if n >= MINOR_CLASS * total))
    g, r = len(problem.gathering_nodes), len(problem.flow.dest_ids)
    size = timed * (2 * g * r + g + r) * (problem.horizon + 1)
    q = max(1, math.ceil(size / ROUTE_COLUMNS))
    out: list[Rung] = []
    while True:
        out.append(Rung(q, max(1, math.ceil(size / q))))
        if q == 1:
            return out
        q = math.ceil(q / 2)


def predicted(rung: Rung, measured: tuple[int, float]) -> float:
    """Seconds the programme of ``rung`` is taken to need, from one of ``measured`` (columns, seconds)."""
    columns, seconds = measured
    return float(seconds * (rung.columns / columns) ** EXPONENT)


class Channel(Protocol):
    """Where the child sends its messages: a :class:`multiprocessing.connection.Connection` (forked) or
    :class:`.route_child.Sender` (a plain subprocess)."""

    def send(self, obj: Any) -> None: ...

    def close(self) -> None: ...


def programme(problem: ConvoyProblem, legs: Legs, sizes: list[Rung], budget: float, channel: Channel) -> None:
    """The child's work: the first (coarsest) size of ``sizes``, then the finest of the others that is
    :func:`predicted` to end within ``budget`` seconds of the start, and so on; each plan sent on
    ``channel``, then the last word (:class:`Done`, :class:`Skipped`, :class:`Failed` or None)."""
    began = time.perf_counter()
    todo = list(sizes)
    measured: tuple[int, float] | None = None
    try:
        while todo:
            rung = todo[0]
            if measured is not None:
                left = budget - (time.perf_counter() - began)
                fits = [r for r in todo if predicted(r, measured) <= left]
                if not fits:
                    channel.send(Skipped(rung))
                    return
                rung = fits[-1]
            todo = [r for r in todo if r.steps < rung.steps]
            t = time.perf_counter()
            found = route_start(problem, legs, columns=rung.columns)
            measured = (rung.columns, time.perf_counter() - t)
            if found is None:
                channel.send(None)
                return
            schedule, bound = found
            channel.send(Solved(rung, schedule.timed, bound, measured[1]))
        channel.send(Done())
    except Exception as exc:  # the parent searches on without the programme
        channel.send(Failed(repr(exc)))
    finally:
        channel.close()


class _Child(Protocol):
    """The programme's child process, read without waiting; stopped at the end."""

    open: bool  # its last word not read yet

    def ready(self) -> bool:
        """A message (or the end) is waiting."""
        ...

    def read(self) -> Message:
        """The message waiting; a child that ended without its last word has :class:`Failed`."""
        ...

    def stop(self) -> bool:
        """End the child; whether it had not said its last word (it was stopped at work; a plan it
        sent too late is dropped)."""
        ...


class _Forked:
    """The programme in a forked ``multiprocessing`` child, which shares the problem and its drive
    tables as they are (nothing to send, nothing to import)."""

    def __init__(self, problem: ConvoyProblem, legs: Legs, budget: float) -> None:
        context = multiprocessing.get_context("fork")
        self.channel, theirs = context.Pipe(duplex=False)
        self.process: BaseProcess = context.Process(
            target=programme, args=(problem, legs, rungs(problem), budget, theirs), daemon=True
        )
        try:
            self.process.start()
        except BaseException:
            self.channel.close()
            raise
        finally:
            theirs.close()
        self.open = True

    def ready(self) -> bool:
        return self.open and self.channel.poll()

    def read(self) -> Message:
        try:
            message: Message = self.channel.recv()
        except (EOFError, OSError) as exc:
            message = Failed(f"the programme's process ended without its plan ({exc!r})")
        if not isinstance(message, Solved):
            self.open = False
        return message

    def stop(self) -> bool:
        while self.ready():
            self.read()
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1.0)
            if self.process.is_alive():
                self.process.kill()
        self.process.join()
        self.channel.close()
        return self.open


_ENDED = object()  # the reader's word that the child's standard output closed


class _Piped:
    """The programme in a plain subprocess (:mod:`.route_child`), which a daemonic process may start:
    the request written by a thread (the child reads it once imported), the answers read by another
    into a queue, so that neither the search nor the limit ever waits on the child."""

    def __init__(self, problem: ConvoyProblem, legs: Legs, budget: float) -> None:
        request = pickle.dumps((problem, legs, rungs(problem), budget), protocol=pickle.HIGHEST_PROTOCOL)
        # the child imports this very package, wherever the parent found it
        source = str(Path(corridor.__file__).resolve().parents[1])
        path = os.environ.get("PYTHONPATH")
        env = {
            **os.environ,
            "PYTHONPATH": source if not path else source + os.pathsep + path,
            "CORRIDOR_ROUTE_PARENT": str(os.getpid()),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "corridor.solve.convoy.route_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            env=env,
        )
        self.messages: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.writer = threading.Thread(target=self._write, args=(request,), daemon=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.writer.start()
        self.reader.start()
        self.open = True

    def _write(self, request: bytes) -> None:
        stream = self.process.stdin
        assert stream is not None
        try:
            stream.write(LENGTH.pack(len(request)))
            stream.write(request)
            stream.flush()
        except (OSError, ValueError):  # the child ended (or was stopped) before it read it all
            pass

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        try:
            while True:
                (length,) = LENGTH.unpack(read_exactly(stream, LENGTH.size))
                self.messages.put(pickle.loads(read_exactly(stream, length)))
        except (EOFError, OSError, ValueError, pickle.UnpicklingError, struct.error):
            pass
        finally:
            self.messages.put(_ENDED)

    def ready(self) -> bool:
        return self.open and not self.messages.empty()

    def read(self) -> Message:
        item = self.messages.get()
        if item is _ENDED:
            message: Message = Failed(f"the programme's process ended without its plan ({self._ended()})")
        else:
            message = cast(Message, item)
        if not isinstance(message, Solved):
            self.open = False
        return message

    def _ended(self) -> str:
        try:
            code = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "its answers ended"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def stop(self) -> bool:
        while self.ready():
            self.read()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(1.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()
        assert self.process.stdin is not None and self.process.stdout is not None
        self.writer.join()
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        self.reader.join()
        self.process.stdout.close()
        return self.open


def _start(problem: ConvoyProblem, legs: Legs, budget: float) -> _Child:
    """The programme's child: forked where ``multiprocessing`` may fork (not from a daemonic process),
    a plain subprocess otherwise. Raises :class:`OSError` if neither can be started."""
    if not multiprocessing.current_process().daemon and "fork" in multiprocessing.get_all_start_methods():
        try:
            return _Forked(problem, legs, budget)
        except (AssertionError, OSError, ValueError):
            pass
    return _Piped(problem, legs, budget)


def _news(
    child: _Child, problem: ConvoyProblem, legs: Legs, best: Schedule, stats: dict[str, float], began: float
) -> tuple[Schedule, int | None]:
    """The child's messages waiting, read: the best of ``best`` and the programmes' plans, and the
    tightest of their optima (None without one); ``stats`` say what came."""
    own: int | None = None
    while child.ready():
        message = child.read()
        if isinstance(message, Solved):
            stats["route_rungs"] += 1
            stats["route_steps_per_bucket"] = float(message.rung.steps)
            stats["route_columns"] = float(message.rung.columns)
            stats["route_seconds"] = time.perf_counter() - began
            own = message.bound if own is None else min(own, message.bound)
            start = Schedule(problem, legs).rebuilt(message.timed)
            stats["route_start_people"] = float(sum(t.people for t in start.trips))
            if objective_key(problem, start.trips) < objective_key(problem, best.trips):
                best = start
                stats["route_start_used"] = 1.0
        elif isinstance(message, Skipped):
            stats["skipped_route_finer"] = 1.0
        elif message is None:
            stats["route_not_applicable"] = 1.0
        elif isinstance(message, Failed):
            stats["route_failed"] = 1.0
    return best, own


def route_method(
    problem: ConvoyProblem, legs: Legs, bounds: Bounds, time_limit: float, progress: Progress | None
) -> MethodOutcome:
    """``solve_convoy``'s method "route" (see the module): at most ``time_limit`` seconds."""
    began = time.perf_counter()
    end = began + time_limit - min(RESERVE_MAX, RESERVE * time_limit)
    stats: dict[str, float] = {"route_rungs": 0.0, "route_start_used": 0.0}
    bound, _ = bounds.best
    own: int | None = None
    child: _Child | None = None
    budget = CHILD_SHARE * max(0.0, end - time.perf_counter())
    if predicted(rungs(problem)[0], QUIET) <= budget / 2:
        try:
            child = _start(problem, legs, budget)
        except (AssertionError, OSError, ValueError):  # no process could be started at all
            stats["route_no_process"] = 1.0
    best: Schedule | None = None
    seed = 0
    try:
        while best is None or end - time.perf_counter() > 0:
            # the first search makes the dispatcher's plans (what a programme's plan must beat)
            watched = child
            result = search(
                problem,
                legs,
                time_limit=max(0.0, end - time.perf_counter()),
                settings=SearchSettings(seed=seed),
                bound=bound,
                start=best,
                progress=progress,
                stop=None if watched is None or not watched.open else watched.ready,
            )
            best = result.schedule
            seed += 1
            if result.stopped == "bound":
                break
            if child is not None:
                before = best
                best, found = _news(child, problem, legs, best, stats, began)
                if found is not None:
                    own = found if own is None else min(own, found)
                    bound = min(bound, own)
                if progress is not None and best is not before:
                    progress(len(best.trips), problem.people - best.waiting_people())
    finally:
        if child is not None and child.stop():
            stats["skipped_route_finer"] = 1.0
    if not stats["route_rungs"] and not stats.get("route_not_applicable"):
        stats["skipped_route_programme"] = 1.0
    stats["search_runs"] = float(seed)
    assert best is not None  # the first search always makes a plan
    return MethodOutcome(best, "feasible", stats, own, "route")


__all__ = [
    "EXPONENT",
    "QUIET",
    "Done",
    "Failed",
    "Rung",
    "Skipped",
    "Solved",
    "predicted",
    "programme",
    "route_method",
    "rungs",
]
