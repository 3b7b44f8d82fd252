"""The discrete-event engine: one run at a time on SimPy, a process per actor.

Each actor is a SimPy process that does its activities in order; an inspection waits on the event of
the inspection planned before it at the same checkpoint. The rules and the draws are those of the
vectorised engine (:mod:`corridor.simulate.engine_numpy`), and the two give the same times run by run;
times are computed exactly and the environment's clock is moved to them.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from corridor.simulate.draws import Draws
from corridor.simulate.engine_numpy import Outcome
from corridor.simulate.timetable import INSPECT, ROAD, Timetable


class _Run:
    """One run: the draws of run ``r`` as plain numbers, and the SimPy environment."""

    def __init__(self, tt: Timetable, d: Draws, r: int, arrival: list[float]) -> None:
        self.env = simpy.Environment()
        self.arrival = arrival
        self.kinds, self.planned, self.duration = tt.kind.tolist(), tt.planned.tolist(), tt.duration.tolist()
        self.roads, self.checks, self.afters = tt.road.tolist(), tt.checkpoint.tolist(), tt.after.tolist()
        self.breaks, self.delivers = tt.breakdown.tolist(), tt.ends_delivery.tolist()
        self.done = {a: self.env.event() for a in np.flatnonzero(tt.kind == INSPECT).tolist()}
        self.inspected: dict[int, float] = {}
        self.hold: tuple[list[float], list[float]] | None = None
        if d.hold_start is not None and d.hold_end is not None:
            self.hold = (d.hold_start[:, r].tolist(), d.hold_end[:, r].tolist())
        self.closure: tuple[int, float, float] | None = None
        if d.closure_road is not None and d.closure_start is not None and d.closure_end is not None:
            self.closure = (int(d.closure_road[r]), float(d.closure_start[r]), float(d.closure_end[r]))
        self.factor: list[float] | None = None if d.factor is None else d.factor[:, r].tolist()
        self.rows: list[int] = d.factor_row.tolist()
        self.delay: list[float] | None = None if d.breakdown is None else d.breakdown[:, r].tolist()

    def start_of(self, a: int, start: float) -> float:
        """The start of ``a`` once holds and closures in force at ``start`` are over."""
        c = self.checks[a]
        if c >= 0 and self.hold is not None and self.hold[0][c] <= start < self.hold[1][c]:
            start = self.hold[1][c]
        cl = self.closure
        if self.kinds[a] == ROAD and cl is not None and cl[0] == self.roads[a] and cl[1] <= start < cl[2]:
            start = cl[2]
        return start

    def end_of(self, a: int, start: float) -> float:
        if self.kinds[a] != ROAD:
            return start + float(self.duration[a])
        factor = 1.0 if self.factor is None else self.factor[self.rows[a]]
        end: float = start + (self.duration[a] if self.factor is None else self.duration[a] * factor)
        if self.breaks[a] >= 0 and self.delay is not None:
            end = end + self.delay[self.breaks[a]]
        return end

    def actor(self, acts: list[int]) -> Generator[simpy.Event, Any, None]:
        env, ready = self.env, 0.0
        for a in acts:
            start = max(ready, float(self.planned[a]))
            if self.afters[a] >= 0:
                yield self.done[self.afters[a]]
                start = max(start, self.inspected[self.afters[a]])
            end = self.end_of(a, self.start_of(a, start))
            if end > env.now:
                yield env.timeout(end - env.now)
            if self.delivers[a] >= 0:
                self.arrival[self.delivers[a]] = end
            if self.kinds[a] == INSPECT:
                self.inspected[a] = end
                self.done[a].succeed()
            ready = end


def simulate_simpy(tt: Timetable, d: Draws) -> Outcome:
    """Simulate the runs of ``d`` one by one on SimPy."""
    arrival = np.repeat(tt.delivery_planned.astype(np.float64)[:, None], d.runs, axis=1)
    by_actor: list[list[int]] = [[] for _ in tt.actors]
    for a, v in enumerate(tt.actor.tolist()):
        by_actor[v].append(a)
    for r in range(d.runs):
        run = _Run(tt, d, r, arrival[:, r].tolist())
        for acts in by_actor:
            if acts:
                run.env.process(run.actor(acts))
        run.env.run()
        arrival[:, r] = run.arrival
    return Outcome(arrival)


__all__ = ["simulate_simpy"]
