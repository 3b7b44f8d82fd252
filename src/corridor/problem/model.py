"""A scenario on a network, compiled into integer arrays on the time axis.

Units: steps of ``axis.dt`` minutes and people. ``arc_cap[a]`` people may *depart* on arc ``a`` in each
step; the arc takes ``tau[a]`` steps. ``node_cap[v]`` people may pass node ``v`` per step (checkpoints;
``-1`` = unlimited). Closures are half-open step windows ``[begin, end)``: a closed arc admits no
departures in those steps; a closed node admits no departures from it and no arrivals into it.
Everyone at a source is there at step 0; reaching a destination by step ``axis.horizon`` counts as out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from corridor.core.timeaxis import TimeAxis
from corridor.network.model import Network

IntArray = NDArray[np.int64]
UNLIMITED = -1


@dataclass(frozen=True)
class Windows:
    """Closed step windows ``[begin, end)`` of arcs or nodes (``item[i]`` is the arc or node)."""

    item: IntArray
    begin: IntArray
    end: IntArray

    @staticmethod
    def empty() -> Windows:
        z = np.zeros(0, dtype=np.int64)
        return Windows(z, z.copy(), z.copy())

    def closed(self, item: IntArray, step: IntArray) -> NDArray[np.bool_]:
        """For each pair (item[i], step[i]): is it inside a closed window?"""
        out = np.zeros(len(item), dtype=bool)
        for it, a, b in zip(self.item.tolist(), self.begin.tolist(), self.end.tolist(), strict=True):
            out |= (item == it) & (step >= a) & (step < b)
        return out

    def __len__(self) -> int:
        return len(self.item)


@dataclass(frozen=True, eq=False)
class Problem:
    """Scenario + network as arrays: what every method solves and ``Plan.verify`` checks."""

    name: str
    network: Network
    axis: TimeAxis
    tau: IntArray  # steps per arc
    arc_cap: IntArray  # people per step per arc
    node_cap: IntArray  # people per step through node; UNLIMITED = -1
    arc_closed: Windows
    node_closed: Windows
    source_ids: tuple[str, ...]
    source_node: IntArray
    source_people: IntArray
    source_group: IntArray  # index into groups
    group_names: tuple[str, ...]
    group_priority: IntArray  # 1 = first
    dest_ids: tuple[str, ...]
    dest_node: IntArray
    dest_cap: IntArray  # UNLIMITED = -1
    checkpoint_ids: tuple[str, ...] = ()
    checkpoint_node: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def horizon(self) -> int:
        return self.axis.horizon

    @property
    def people(self) -> int:
        return int(self.source_people.sum())

    @property
    def n_nodes(self) -> int:
        return self.network.n_nodes

    @property
    def n_arcs(self) -> int:
        return self.network.n_arcs

    @cached_property
    def is_destination(self) -> NDArray[np.bool_]:
        mask = np.zeros(self.n_nodes, dtype=bool)
        mask[self.dest_node] = True
        return mask
