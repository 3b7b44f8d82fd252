"""The compiled planner loops against their plain-Python reference (``corridor.solve.reference``).

Differential properties on the planner's own inputs: the planner runs on random small problems with
its compiled loops, every call is recorded (a copy of its arguments before, and of its results and
changed arrays after), and each call is replayed on the reference from the same arguments: the
results and every array changed in place must be equal. Two loops also get random inputs of their
own (paths with loops, tries of paths).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.problem.model import Problem
from corridor.solve import reference
from corridor.solve.exact import solve_exact
from strategies import Sizes, problems

compiled = pytest.importorskip("corridor.solve._kernels", reason="the compiled loops are not built")

# Where the planner takes each loop from, and which of its arguments it changes in place.
USERS = {
    "augment_by_step": ("corridor.solve.earliest", (2, 11, 12, 13, 14, 15, 16)),
    "split_line": ("corridor.solve.decompose", ()),
    "read_paths": ("corridor.solve.decompose", (6, 7)),
    "loop_free_hops": ("corridor.solve.loops", ()),
}

Call = tuple[str, tuple[Any, ...], tuple[Any, ...], Any]  # name, arguments before, after, result


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


@contextmanager
def _recorded() -> Iterator[list[Call]]:
    """Every call the planner makes to its compiled loops while inside (the loops run as usual)."""
    calls: list[Call] = []
    saved: list[tuple[Any, str, Any]] = []

    def recorder(name: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            before = tuple(_copy(a) for a in args)
            result = kernel(*args)
            calls.append((name, before, tuple(_copy(a) for a in args), result))
            return result

        return call

    for name, (module_name, _) in USERS.items():
        module = importlib.import_module(module_name)
        saved.append((module, name, getattr(module, name)))
        setattr(module, name, recorder(name, getattr(compiled, name)))
    try:
        yield calls
    finally:
        for module, name, kernel in saved:
            setattr(module, name, kernel)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return (
            isinstance(b, tuple) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return bool(a == b)


def _replay(calls: list[Call]) -> set[str]:
    """Replay each call on the reference; returns the names of the loops seen."""
    for name, before, after, result in calls:
        args = tuple(_copy(a) for a in before)
        assert _same(getattr(reference, name)(*args), result), name
        for k in USERS[name][1]:
            assert _same(args[k], after[k]), f"{name}: argument {k} differs"
    return {c[0] for c in calls}


BIGGER = Sizes(nodes=(3, 9), roads=(2, 18), people=40, horizon=(1, 14), place_closures=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=problems(BIGGER), objective=st.sampled_from(["earliest", "max-flow"]))
def test_compiled_and_reference_agree_on_the_planners_calls(p: Problem, objective: str) -> None:
    with _recorded() as calls:
        solve_exact(p, objective=objective)
    _replay(calls)


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
    with _recorded() as calls:
        plan = solve_exact(p)
    assert plan.evacuated > 0
    assert _replay(calls) == set(USERS)


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
    assert _same(compiled.loop_free_hops(*args), reference.loop_free_hops(*args))


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
    assert _same(root_c, root_r)
    assert _same(out[0], out[2]) and _same(out[1], out[3])
    assert (root_r < roots).all()


def test_split_line_refuses_a_line_that_is_not_conserved() -> None:
    """Both raise the same error when a segment lands beyond the line."""
    z = np.zeros(0, dtype=np.int64)
    one = np.asarray([0], dtype=np.int64)
    args = (z, z, z, z, z, z, z, one, np.asarray([5], dtype=np.int64), one)
    for kernels in (compiled, reference):
        with pytest.raises(ValueError, match="beyond the line"):
            kernels.split_line(*args)
