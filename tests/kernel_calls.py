"""Recording the planner's calls to its compiled loops, and replaying them on the reference.

Inside :func:`recorded`, the planner's modules call the loops of a given module (the built
extension, or a build with bounds checks on) through a recorder that keeps a copy of the arguments
before each call, and of the result and the arguments after it. :func:`replay` runs each call
again on ``corridor.solve.reference`` and checks the result and every array changed in place.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

from corridor.solve import reference

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
def recorded(kernels: ModuleType) -> Iterator[list[Call]]:
    """Every call the planner makes to its loops while inside, run on ``kernels``."""
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
        setattr(module, name, recorder(name, getattr(kernels, name)))
    try:
        yield calls
    finally:
        for module, name, kernel in saved:
            setattr(module, name, kernel)


def same(a: Any, b: Any) -> bool:
    """Equal results: tuples item by item, arrays of the same dtype and values."""
    if isinstance(a, tuple):
        return (
            isinstance(b, tuple) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return bool(a == b)


def replay(calls: list[Call]) -> set[str]:
    """Replay each call on the reference and check it; returns the names of the loops seen."""
    for name, before, after, result in calls:
        args = tuple(_copy(a) for a in before)
        assert same(getattr(reference, name)(*args), result), name
        for k in USERS[name][1]:
            assert same(args[k], after[k]), f"{name}: argument {k} differs"
    return {c[0] for c in calls}
