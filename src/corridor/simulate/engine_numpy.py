"""The vectorised engine: every run of a batch at once, one activity at a time (numpy over runs).

The activities are taken in the timetable's processing order; each is a few array operations over the
runs. The rules are those of :mod:`corridor.simulate.timetable`: an activity starts at the latest of
its planned start, its actor's readiness and (an inspection) the end of the inspection before it at its
checkpoint; a checkpoint hold or a road closure in force at that moment pushes the start to its end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corridor.simulate.draws import Draws
from corridor.simulate.timetable import INSPECT, ROAD, FloatArray, Timetable


@dataclass(frozen=True, eq=False)
class Outcome:
    """Arrival step of every delivery in every run (deliveries, runs); starts too when traced."""

    arrival: FloatArray
    start: FloatArray | None = None
    end: FloatArray | None = None


def simulate_numpy(tt: Timetable, d: Draws, *, trace: bool = False) -> Outcome:
    """Simulate the runs of ``d``; with ``trace``, keep every activity's start and end."""
    runs = d.runs
    ready = np.zeros((len(tt.actors), runs))
    arrival = np.repeat(tt.delivery_planned.astype(np.float64)[:, None], runs, axis=1)
    inspected: dict[int, FloatArray] = {}
    starts = np.empty((tt.n_activities, runs)) if trace else None
    ends = np.empty((tt.n_activities, runs)) if trace else None
    kinds, actors, planned = tt.kind.tolist(), tt.actor.tolist(), tt.planned.tolist()
    duration, roads, checks = tt.duration.tolist(), tt.road.tolist(), tt.checkpoint.tolist()
    afters, breaks, delivers = tt.after.tolist(), tt.breakdown.tolist(), tt.ends_delivery.tolist()
    rows = d.factor_row.tolist()
    for a in range(tt.n_activities):
        v = actors[a]
        start = np.maximum(ready[v], float(planned[a]))
        if afters[a] >= 0:
            np.maximum(start, inspected[afters[a]], out=start)
        c = checks[a]
        if c >= 0 and d.hold_start is not None and d.hold_end is not None:
            held = (start >= d.hold_start[c]) & (start < d.hold_end[c])
            start = np.where(held, d.hold_end[c], start)
        if kinds[a] == ROAD:
            if d.closure_road is not None and d.closure_start is not None and d.closure_end is not None:
                shut = (d.closure_road == roads[a]) & (start >= d.closure_start) & (start < d.closure_end)
                start = np.where(shut, d.closure_end, start)
            end = start + (duration[a] if d.factor is None else duration[a] * d.factor[rows[a]])
            if breaks[a] >= 0 and d.breakdown is not None:
                end = end + d.breakdown[breaks[a]]
            if delivers[a] >= 0:
                arrival[delivers[a]] = end
        else:
            end = start + float(duration[a])
            if kinds[a] == INSPECT:
                inspected[a] = end
        ready[v] = end
        if starts is not None and ends is not None:
            starts[a], ends[a] = start, end
    return Outcome(arrival, starts, ends)


__all__ = ["Outcome", "simulate_numpy"]
