"""Batches of seeded runs and what each run yields: people out, people left per gathering point, and
people out against time.

A batch is the unit of work sent to a worker: ``runs`` runs of one timetable under one set of
disruptions, drawn from ``(seed, batch)``; it returns only counts, never the draws: people out of
every run, and, unless the batch asks for people out alone (``full=False``: the runs of a
sensitivity, of which only the mean out is read), people left per gathering point and the
people-out curve of every run (uint16 when every person's count fits in it, else int32: 0.2 MB
for 1,000 runs of 97 points, against 0.8 MB as int64; the workers and the client share the cores of
a small machine, and every byte is copied through it).

A task on a cluster is several batches (:func:`run_batches`): a batch stays the unit of the draws, so
the runs are the same however the batches are grouped into tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from corridor.scenario.model import RiskSettings
from corridor.simulate.draws import Draws, draw
from corridor.simulate.engine_numpy import Outcome, simulate_numpy
from corridor.simulate.engine_simpy import simulate_simpy
from corridor.simulate.timetable import FloatArray, IntArray, Timetable

Engine = Literal["numpy", "simpy"]
Int32Array = npt.NDArray[np.int32]
CountArray = npt.NDArray[np.int32] | npt.NDArray[np.uint16]
GRID_POINTS = 97  # times of the people-out curve, evenly from the start to the deadline


@dataclass(frozen=True)
class BatchSpec:
    """Batch ``batch`` of job ``job``: ``runs`` runs under ``risk``, seeded ``seed``."""

    job: int
    batch: int
    runs: int
    seed: int
    risk: RiskSettings
    engine: Engine = "numpy"
    full: bool = True  # False: people out only (left and curve are sent empty)


@dataclass(frozen=True, eq=False)
class Batch:
    """What the runs of one batch yield (arrays over its runs)."""

    job: int
    batch: int
    runs: int
    out: IntArray  # (runs,) people out by the end of the window
    left: Int32Array  # (runs, points) people left inside per gathering point; (runs, 0) if not full
    curve: CountArray  # (runs, GRID_POINTS) people out by each grid time; (runs, 0) if not full


def grid(tt: Timetable) -> FloatArray:
    """Steps of the people-out curve."""
    return np.linspace(0.0, float(tt.horizon), GRID_POINTS)


def outcomes(
    tt: Timetable, d: Draws, o: Outcome, job: int = 0, batch: int = 0, *, full: bool = True
) -> Batch:
    """Count what the runs of ``d`` yield from their simulated ``o`` (people out alone unless
    ``full``)."""
    arrival = o.arrival[tt.entry_delivery]  # (entries, runs)
    got = np.where(arrival <= d.window_end[None, :], d.shown, 0)
    out = got.sum(axis=0).astype(np.int64)
    if not full:
        none = np.zeros((d.runs, 0), dtype=np.int32)
        return Batch(job, batch, d.runs, out, none, none)
    points = tt.points
    point_of_source = np.asarray([points.index(p) for p in tt.source_point], dtype=np.int64)
    waiting = np.zeros(len(points), dtype=np.int64)
    np.add.at(waiting, point_of_source, tt.source_people)
    taken = np.zeros((len(points), d.runs), dtype=np.int64)
    if len(tt.entry_source):
        np.add.at(taken, point_of_source[tt.entry_source], got)
    left = (waiting[:, None] - taken).T
    times = grid(tt)
    # people out by each grid time: count arrivals into the first grid time at or after them
    slot = np.searchsorted(times, arrival, side="left")  # (entries, runs); GRID_POINTS = too late
    flat = (np.arange(d.runs)[None, :] * (len(times) + 1) + slot).ravel()
    counts = np.bincount(flat, weights=got.ravel(), minlength=d.runs * (len(times) + 1))
    curve = np.cumsum(counts.reshape(d.runs, len(times) + 1)[:, :-1], axis=1)
    return Batch(job, batch, d.runs, out, np.ascontiguousarray(left, dtype=np.int32), narrow(tt, curve))


def narrow(tt: Timetable, counts: npt.NDArray[Any]) -> CountArray:
    """Counts of people out of ``tt`` in the narrowest type that holds them all (at most everyone
    its deliveries carry): uint16, else int32."""
    if int(tt.entry_people.sum()) <= np.iinfo(np.uint16).max:
        return counts.astype(np.uint16)
    return counts.astype(np.int32)


def run_batch(tt: Timetable, spec: BatchSpec) -> Batch:
    """Draw and simulate one batch (what a worker does)."""
    d = draw(tt, spec.risk, spec.runs, spec.seed, spec.batch)
    o = simulate_numpy(tt, d) if spec.engine == "numpy" else simulate_simpy(tt, d)
    return outcomes(tt, d, o, spec.job, spec.batch, full=spec.full)


def run_batches(tt: Timetable, specs: Sequence[BatchSpec]) -> list[Batch]:
    """Several batches, one after another (one task on a cluster)."""
    return [run_batch(tt, spec) for spec in specs]


def specs_for(
    job: int, runs: int, seed: int, risk: RiskSettings, batch_size: int, *, full: bool = True
) -> list[BatchSpec]:
    """``runs`` runs of one job cut into batches of at most ``batch_size``."""
    sizes = [batch_size] * (runs // batch_size) + ([runs % batch_size] if runs % batch_size else [])
    return [BatchSpec(job, b, n, seed, risk, full=full) for b, n in enumerate(sizes)]


__all__ = [
    "GRID_POINTS",
    "Batch",
    "BatchSpec",
    "CountArray",
    "Engine",
    "grid",
    "narrow",
    "outcomes",
    "run_batch",
    "run_batches",
    "specs_for",
]
