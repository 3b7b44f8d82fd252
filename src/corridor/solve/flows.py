"""The flow engines: OR-Tools' max-flow and min-cost-flow solvers on integer arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import max_flow, min_cost_flow

from corridor.core.errors import InfeasibleError, SolverError

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class FlowResult:
    value: int  # flow value (max flow) or total cost (min-cost flow)
    flows: IntArray


def maximum_flow(
    tail: NDArray[np.integer], head: NDArray[np.integer], cap: IntArray, source: int, sink: int
) -> FlowResult:
    """Maximum flow from ``source`` to ``sink``."""
    solver = max_flow.SimpleMaxFlow()
    arcs = solver.add_arcs_with_capacity(
        np.asarray(tail, dtype=np.int32), np.asarray(head, dtype=np.int32), cap
    )
    status = solver.solve(source, sink)
    if status != solver.OPTIMAL:
        raise SolverError(f"max flow ended with status {status}")
    return FlowResult(int(solver.optimal_flow()), np.asarray(solver.flows(arcs), dtype=np.int64))


def minimum_cost_flow(
    tail: NDArray[np.integer],
    head: NDArray[np.integer],
    cap: IntArray,
    cost: IntArray,
    supply: dict[int, int],
    *,
    low: IntArray | None = None,
) -> FlowResult:
    """A flow meeting every node's ``supply`` (negative = demand; nodes not named have none) with
    bounds ``[low, cap]`` per arc, of least total cost. Lower bounds are removed by the usual
    shift: send ``low`` first, then solve for the rest."""
    shifted = dict(supply)
    if low is not None and low.any():
        for a in np.flatnonzero(low).tolist():
            shifted[int(tail[a])] = shifted.get(int(tail[a]), 0) - int(low[a])
            shifted[int(head[a])] = shifted.get(int(head[a]), 0) + int(low[a])
        cap = cap - low
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tail, dtype=np.int32), np.asarray(head, dtype=np.int32), cap, cost
    )
    nodes = np.fromiter(shifted.keys(), dtype=np.int32, count=len(shifted))
    solver.set_nodes_supplies(nodes, np.fromiter(shifted.values(), dtype=np.int64, count=len(nodes)))
    status = solver.solve()
    if status == solver.INFEASIBLE or status == solver.UNBALANCED:
        raise InfeasibleError("no flow meets every supply and demand within the capacities")
    if status != solver.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    flows = np.asarray(solver.flows(arcs), dtype=np.int64)
    if low is None:
        return FlowResult(int(solver.optimal_cost()), flows)
    return FlowResult(int(solver.optimal_cost()) + int((low * cost).sum()), flows + low)
