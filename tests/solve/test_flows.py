"""The flow engine against every instance whose optimum others computed (flow-reference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corridor.core.errors import InfeasibleError
from corridor.io.dimacs import DimacsTable, read_dimacs
from corridor.solve.flows import maximum_flow, minimum_cost_flow

MAX_FLOW = {
    "boost-max_flow.dat": 4,
    "igraph-simple.max": 15,
    "igraph-ak-4102.max": 8207,
    "networkx-gl1.max": 156545,
    "networkx-gw1.max": 1202018,
    "networkx-wlm3.max": 11875108,
    "zetool-harris-ross.max": 163,
}
MIN_COST = {
    "networkx-netgen-2.min": 6749969302,
    "lemon-mcf-1.min": 5240,
    "lemon-mcf-2.min": 7620,
    "lemon-mcf-3.min": 5970,
    "lemon-mcf-4.min": 8010,
    "lemon-mcf-5.min": 74,
    "lemon-mcf-6.min": 94,
}


def _conserved(n: int, tail: np.ndarray, head: np.ndarray, flows: np.ndarray) -> np.ndarray:
    net = np.zeros(n, dtype=np.int64)
    np.add.at(net, tail, flows)
    np.subtract.at(net, head, flows)
    return net


@pytest.mark.parametrize(("name", "expected"), sorted(MAX_FLOW.items()))
def test_max_flow_matches_reference(shared_data: Path, name: str, expected: int) -> None:
    t = read_dimacs(shared_data / "flow-reference" / name)
    result = maximum_flow(t.tail, t.head, t.cap, t.source, t.sink)
    assert result.value == expected
    assert (result.flows >= 0).all() and (result.flows <= t.cap).all()
    balance = _conserved(t.n_nodes, t.tail, t.head, result.flows)
    assert balance[t.source] == expected and balance[t.sink] == -expected
    assert np.count_nonzero(np.delete(balance, [t.source, t.sink])) == 0


def _supply(t: DimacsTable) -> dict[int, int]:
    return {int(v): int(t.supply[v]) for v in np.flatnonzero(t.supply)}


@pytest.mark.parametrize(("name", "expected"), sorted(MIN_COST.items()))
def test_min_cost_flow_matches_reference(shared_data: Path, name: str, expected: int) -> None:
    t = read_dimacs(shared_data / "flow-reference" / name)
    result = minimum_cost_flow(t.tail, t.head, t.cap, t.cost, _supply(t), low=t.low)
    assert result.value == expected
    assert int((result.flows * t.cost).sum()) == expected
    assert (result.flows >= t.low).all() and (result.flows <= t.cap).all()
    assert (_conserved(t.n_nodes, t.tail, t.head, result.flows) == t.supply).all()


def test_infeasible_min_cost_instance_is_reported(shared_data: Path) -> None:
    t = read_dimacs(shared_data / "flow-reference" / "lemon-mcf-8.min")
    with pytest.raises(InfeasibleError):
        minimum_cost_flow(t.tail, t.head, t.cap, t.cost, _supply(t), low=t.low)
