"""Warm starts of the quickest-time search: a max flow for ``T`` steps, from one for fewer.

The time-expanded network of ``h`` steps is contained in that of ``T > h`` steps (its windows only
grow with the horizon), so a flow for ``h`` is a flow for ``T`` once its arcs are found in the larger
network (:func:`carry`). The max flow for ``T`` is then that flow plus a max flow in its residual
network (:func:`max_flow_from`), which OR-Tools solves as a plain network: every arc with its
capacity left, and an arc back for each one that carries people. Near the quickest time most people
are out already, and that second max flow is about half the cost of one from nothing; far below it
the two cost about the same, so the search only starts warm from a flow that is close.

The source side of the residual max flow's minimum cut is that of the whole flow: an arc and its
way back in the residual network together leave the same room as the flow's own residual arc.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import max_flow

from corridor.core.errors import SolverError
from corridor.problem.model import IntArray
from corridor.solve.expand import ExpandedNetwork

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class ExpandedFlow:
    """A flow on an expanded network: people per arc and people out (into the sink)."""

    exp: ExpandedNetwork
    flows: IntArray
    value: int


def _keys(exp: ExpandedNetwork, block: str, width: int) -> IntArray:
    """One key per arc of ``block``, the same for the same arc in any horizon's network, sorted
    as the arcs are (each block is built in that order)."""
    part = exp.blocks[block]
    if block == "road":
        return exp.road_arc * width + exp.road_step
    if block in ("wait", "pass"):
        layer, step = exp.node_step(exp.tail[part].astype(np.int64))
        return layer * width + step
    if block == "entry":
        return exp.entry_source.astype(np.int64)
    if block == "arrive":
        return exp.arrive_dest * width + exp.arrive_step
    return np.arange(part.stop - part.start, dtype=np.int64)  # level, out: one per level, destination


def carry(flow: ExpandedFlow, exp: ExpandedNetwork) -> IntArray:
    """``flow``'s people per arc of ``exp``, a network of the same problem for at least as many
    steps (0 on the arcs ``flow``'s network lacks)."""
    small = flow.exp
    if exp.horizon < small.horizon:
        raise SolverError(
            f"a flow for {small.horizon} steps cannot start the max flow for {exp.horizon} steps",
            hint="a warm start carries a flow to a longer horizon only",
        )
    if list(small.blocks) != list(exp.blocks) or len(small.level_nodes) != len(exp.level_nodes):
        raise SolverError("the two expanded networks are not of the same problem")
    width = exp.horizon + 2
    out = np.zeros(exp.n_arcs, dtype=np.int64)
    for block, part in small.blocks.items():
        mine = _keys(small, block, width)
        theirs = _keys(exp, block, width)
        at = np.searchsorted(theirs, mine)
        if len(mine) and (at.max() >= len(theirs) or (theirs[at] != mine).any()):
            raise SolverError(
                f"an arc of the {block!r} block for {small.horizon} steps is missing for {exp.horizon} steps",
                hint="the two expanded networks are not of the same problem",
            )
        big = exp.blocks[block]
        out[big.start + at] = flow.flows[part]
    if (out > exp.capacity).any():
        raise SolverError("the carried flow is above a capacity of the longer horizon's network")
    return out


def max_flow_from(exp: ExpandedNetwork, start: IntArray, value: int) -> tuple[ExpandedFlow, BoolArray]:
    """The max flow of ``exp`` grown from ``start`` (a flow on ``exp`` of ``value`` people), and
    the source side of its minimum cut (per node of ``exp``)."""
    if len(start) != exp.n_arcs or (start < 0).any() or (start > exp.capacity).any():
        raise SolverError("a warm start needs a flow within the capacities of every arc of its network")
    back = np.flatnonzero(start > 0)
    solver = max_flow.SimpleMaxFlow()
    arcs = solver.add_arcs_with_capacity(
        np.concatenate([exp.tail, exp.head[back]]),
        np.concatenate([exp.head, exp.tail[back]]),
        np.concatenate([exp.capacity - start, start[back]]),
    )
    status = solver.solve(exp.source, exp.sink)
    if status != solver.OPTIMAL:
        raise SolverError(f"max flow ended with status {status}")
    more = np.asarray(solver.flows(arcs), dtype=np.int64)
    flows = start + more[: exp.n_arcs]
    flows[back] -= more[exp.n_arcs :]
    side = np.zeros(exp.n_nodes, dtype=bool)
    side[np.asarray(solver.get_source_side_min_cut(), dtype=np.int64)] = True
    return ExpandedFlow(exp, flows, value + int(solver.optimal_flow())), side


@dataclass
class WarmStarts:
    """The longest-horizon max flow kept so far: where a longer horizon's max flow starts."""

    flow: ExpandedFlow | None = None

    def start_for(self, horizon: int) -> ExpandedFlow | None:
        """The kept flow if it is for fewer steps than ``horizon``."""
        return self.flow if self.flow is not None and self.flow.exp.horizon < horizon else None

    def offer(self, flow: ExpandedFlow | None) -> None:
        """Keep ``flow`` if it is for more steps than the one kept."""
        if flow is not None and (self.flow is None or flow.exp.horizon > self.flow.exp.horizon):
            self.flow = flow
