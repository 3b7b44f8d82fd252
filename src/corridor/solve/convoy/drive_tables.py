"""Earliest arrivals per departure step, for the timed route programme of :mod:`.bounds`.

For each move of a vehicle type between two points (an empty drive, or a loaded haul around every
checkpoint or through one with the shortest inspection outside the checkpoint's closures) the table
gives, for every departure step from 0 to ``last``, the earliest arrival around the closures in force
then (:meth:`~corridor.solve.convoy.legs.Legs.drive`). Each table is made non-decreasing from the
right (the least arrival of any departure at that step or later), so that the entry of the first step
of a range bounds every departure in it even where a drive were not first-in first-out. The hauls
follow :meth:`~corridor.solve.convoy.schedule.Schedule._haul` with no inspection booked: a queue at
the checkpoint and more people on board only delay them. ``NEVER`` marks no drive (in a haul, also
one that would leave its checkpoint after ``last``: it arrives after ``last``).
"""

from __future__ import annotations

import numpy as np

from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy.legs import NEVER, Legs


def _later_least(values: np.ndarray) -> np.ndarray:
    """``out[s]`` = the least of ``values[s:]`` (a bound on every departure at ``s`` or later)."""
    return np.minimum.accumulate(values[::-1])[::-1].copy()


class DriveTables:
    """Arrival tables per vehicle type for departures at steps ``0..last`` (see the module)."""

    def __init__(self, problem: ConvoyProblem, legs: Legs, last: int) -> None:
        self.problem, self.legs, self.last = problem, legs, last
        flow = problem.flow
        self._cps = [int(c) for c in flow.checkpoint_node.tolist()]
        self._cp_set = frozenset(self._cps)
        nc = flow.node_closed
        self._closed = [
            [
                (int(a), int(b))
                for it, a, b in zip(nc.item.tolist(), nc.begin.tolist(), nc.end.tolist(), strict=True)
                if it == node
            ]
            for node in self._cps
        ]
        self._drives: dict[tuple[int, int, int, frozenset[int]], np.ndarray] = {}
        self._hauls: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._open: dict[int, np.ndarray] = {}

    def drive(self, kind: int, origin: int, target: int, avoid: frozenset[int] = frozenset()) -> np.ndarray:
        """Earliest arrival at ``target`` leaving ``origin`` at each step ``0..last`` (NEVER if none)."""
        avoid = avoid - {origin, target}
        key = (kind, origin, target, avoid)
        hit = self._drives.get(key)
        if hit is not None:
            return hit
        steps = np.arange(self.last + 1, dtype=np.int64)
        static = self.legs.static_steps(kind, origin, target, avoid)
        if origin == target:
            out = steps.copy()
        elif static >= NEVER:
            out = np.full(self.last + 1, NEVER, dtype=np.int64)
        else:
            arrivals = []
            for s in range(self.last + 1):
                path = self.legs.drive(kind, origin, target, s, avoid)
                arrivals.append(NEVER if path is None else min(path.arrival, NEVER))
            out = _later_least(np.asarray(arrivals, dtype=np.int64))
        self._drives[key] = out
        return out

    def open_from(self, c: int) -> np.ndarray:
        """For each step ``0..last``, the first step from then on (possibly after ``last``) at which
        checkpoint ``c``'s shortest inspection lies outside its closures (NEVER if never)."""
        hit = self._open.get(c)
        if hit is not None:
            return hit
        need = self.problem.inspection_steps(c, 1)
        out = np.empty(self.last + 1, dtype=np.int64)
        for t in range(self.last + 1):
            s, moved = t, True
            while moved and s < NEVER:
                moved = False
                for a, b in self._closed[c]:
                    if s < b and a < s + need:
                        s, moved = min(b, NEVER), True
            out[t] = s
        self._open[c] = out
        return out

    def _at(self, table: np.ndarray, when: np.ndarray) -> np.ndarray:
        """``table`` looked up at steps ``when`` (NEVER beyond ``last``)."""
        inside = when <= self.last
        out = np.full(len(when), NEVER, dtype=np.int64)
        out[inside] = table[when[inside]]
        return out

    def haul(self, kind: int, origin: int, dest: int, unload: int) -> tuple[np.ndarray, np.ndarray]:
        """For a haul leaving ``origin`` (boarded) at each step ``0..last`` for reception node ``dest``:
        the earliest arrival there, and the earliest step at which the vehicle may leave it less
        ``unload`` (later than the arrival where ``dest`` is a checkpoint whose inspection, on
        arrival, outlasts the unloading). Both NEVER where no haul is possible."""
        key = (kind, origin, dest)
        hit = self._hauls.get(key)
        if hit is not None:
            return hit
        n = self.last + 1
        arrive = np.full(n, NEVER, dtype=np.int64)
        free = np.full(n, NEVER, dtype=np.int64)
        ends = {origin, dest} & self._cp_set
        if len(ends) <= 1:
            if not ends:
                direct = self.drive(kind, origin, dest, self._cp_set)
                arrive, free = np.minimum(arrive, direct), np.minimum(free, direct)
            for c, node in enumerate(self._cps):
                if ends and node not in ends:
                    continue
                others = self._cp_set - {node}
                first = self.drive(kind, origin, node, others)
                start = self._at(self.open_from(c), np.minimum(first, self.last + 1))
                done = np.minimum(start + self.problem.inspection_steps(c, 1), NEVER)
                if node == dest:  # inspected on arrival, before the vehicle leaves
                    arrive = np.minimum(arrive, first)
                    free = np.minimum(free, np.maximum(first, np.minimum(done - unload, NEVER)))
                    continue
                second = self._at(self.drive(kind, node, dest, others), np.minimum(done, self.last + 1))
                arrive, free = np.minimum(arrive, second), np.minimum(free, second)
        out = (_later_least(arrive), _later_least(free))
        self._hauls[key] = out
        return out


__all__ = ["DriveTables"]
