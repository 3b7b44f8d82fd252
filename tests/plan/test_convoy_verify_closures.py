"""The verifier looks closures up per road and node: the same answer as scanning every window."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from convoy_cases import example
from corridor.plan.convoy_verify import _Closures
from corridor.problem.convoy import ConvoyProblem
from factories import problem

_, BASE = example()


def _scan(p: ConvoyProblem, arc: int, dep: int, arrive: int) -> bool:
    flow = p.flow
    one = np.asarray([arc], dtype=np.int64)
    return bool(
        flow.arc_closed.closed(one, np.asarray([dep]))[0]
        or flow.node_closed.closed(flow.network.tail[one], np.asarray([dep]))[0]
        or flow.node_closed.closed(flow.network.head[one], np.asarray([arrive]))[0]
    )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_closures_per_item_agree_with_a_scan_of_every_window(seed: int) -> None:
    rng = random.Random(seed)
    arcs = [(i, (i + 1) % 5, 10, rng.randint(1, 3)) for i in range(5)] + [(0, 2, 10, 2), (0, 2, 10, 4)]
    arc_closed = [(rng.randrange(len(arcs)), a, a + rng.randint(0, 4)) for a in rng.sample(range(20), 4)]
    node_closed = [(rng.randrange(5), a, a + rng.randint(0, 4)) for a in rng.sample(range(20), 3)]
    flow = problem(
        5,
        arcs,
        sources=[(1, 3)],
        destinations=[3],
        horizon=24,
        arc_closed=arc_closed,
        node_closed=node_closed,
    )
    p = replace(BASE, flow=flow)  # only the flow's closures are read
    closures = _Closures(p)
    for arc in range(len(arcs)):
        for dep in range(0, 25):
            for arrive in (dep, dep + 1, dep + 3):
                assert closures.arc(arc, dep, arrive) == _scan(p, arc, dep, arrive)
