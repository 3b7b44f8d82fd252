"""The compiled planner loops against their plain-Python reference (``corridor.solve.reference``).

Differential properties on the planner's own inputs: the planner runs on random small problems with
its compiled loops, every call is recorded (a copy of its arguments before, and of its results and
changed arrays after), and each call is replayed on the reference from the same arguments: the
results and every array changed in place must be equal. Two loops also get random inputs of their
own (paths with loops, tries of paths).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.problem.model import Problem
from corridor.solve import reference
from corridor.solve.exact import solve_exact
from kernel_calls import USERS, recorded, replay, same
from strategies import Sizes, problems

compiled = pytest.importorskip("corridor.solve._kernels", reason="the compiled loops are not built")

BIGGER = Sizes(nodes=(3, 9), roads=(2, 18), people=40, horizon=(1, 14), place_closures=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=problems(BIGGER), objective=st.sampled_from(["earliest", "max-flow"]))
def test_compiled_and_reference_agree_on_the_planners_calls(p: Problem, objective: str) -> None:
    with recorded(compiled) as calls:
        solve_exact(p, objective=objective)
    replay(calls)


def test_the_replay_covers_every_loop() -> None:
    """On a problem where people wait, take several roads and meet loops, all four loops run."""
    from factories import problem

    p = problem(
        4,
        [(0, 1, 2, 1), (1, 2, 2, 1), (2, 1, 2, 1), (1, 3, 1, 2), (2, 3, 3, 1), (0, 2, 1, 3)],
        sources=[(0, 20)],
        destinations=[3],
        horizon=12,
        node_cap={1: 2},
    )
    with recorded(compiled) as calls:
        plan = solve_exact(p)
    assert plan.evacuated > 0
    assert replay(calls) == set(USERS)


@st.composite
def _paths(draw: st.DrawFn) -> tuple[Any, ...]:
    """Random visit lists (with repeats: loops) and their destinations."""
    n_nodes = draw(st.integers(1, 6))
    paths = draw(st.lists(st.lists(st.integers(0, n_nodes - 1), min_size=1, max_size=10), max_size=8))
    dests = [draw(st.integers(0, n_nodes - 1)) for _ in paths]
    hops = np.asarray([len(v) - 1 for v in paths], dtype=np.int64)
    node = np.asarray([v for path in paths for v in path], dtype=np.int64)
    first = np.cumsum(hops + 1) - (hops + 1)
    return node, first.astype(np.int64), hops, np.asarray(dests, dtype=np.int64), n_nodes


@settings(max_examples=200, deadline=None)
@given(args=_paths())
def test_loop_free_hops_on_random_paths(args: tuple[Any, ...]) -> None:
    assert same(compiled.loop_free_hops(*args), reference.loop_free_hops(*args))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_read_paths_on_random_tries(data: st.DataObject) -> None:
    roots = data.draw(st.integers(1, 4))
    size = roots + data.draw(st.integers(0, 20))
    parent = [-1] * roots + [data.draw(st.integers(0, k - 1)) for k in range(roots, size)]
    depth = [0] * size
    for k in range(roots, size):
        depth[k] = depth[parent[k]] + 1
    arc = np.asarray(
        [-1] * roots + data.draw(st.lists(st.integers(0, 50), min_size=size - roots, max_size=size - roots)),
        dtype=np.int64,
    )
    tstep = np.asarray(data.draw(st.lists(st.integers(0, 50), min_size=size, max_size=size)), dtype=np.int64)
    leaf = np.asarray(data.draw(st.lists(st.integers(0, size - 1), max_size=10)), dtype=np.int64)
    hops = np.asarray([depth[v] for v in leaf.tolist()], dtype=np.int64)
    off = (np.cumsum(hops) - hops).astype(np.int64)
    out = [np.zeros(int(hops.sum()), dtype=np.int64) for _ in range(4)]
    parent_a = np.asarray(parent, dtype=np.int64)
    root_c = compiled.read_paths(parent_a, arc, tstep, leaf, hops, off, out[0], out[1])
    root_r = reference.read_paths(parent_a, arc, tstep, leaf, hops, off, out[2], out[3])
    assert same(root_c, root_r)
    assert same(out[0], out[2]) and same(out[1], out[3])
    assert (root_r < roots).all()


def test_split_line_refuses_a_line_that_is_not_conserved() -> None:
    """Both raise the same error when a segment lands beyond the line."""
    z = np.zeros(0, dtype=np.int64)
    one = np.asarray([0], dtype=np.int64)
    args = (z, z, z, z, z, z, z, one, np.asarray([5], dtype=np.int64), one)
    for kernels in (compiled, reference):
        with pytest.raises(ValueError, match="beyond the line"):
            kernels.split_line(*args)
