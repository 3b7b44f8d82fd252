"""Compiled scenarios the running service keeps: a few, by file and file version, owned by its
:class:`~corridor.server.runtime.Runtime` (``app.state.runtime.problems``), never at module level.

The plan, map and dashboard pages check a kept plan against its scenario at every request;
reading and compiling the East Aleppo example takes about 0.2 s, so the last ``size`` compiled
scenarios are kept, each by its file's path, the version of the files of its folder (the latest
change among the scenario file, its CSV and its network: an edited file is compiled again) and
the deadline it was compiled for.

Nothing here plans: a compiled problem is only read (its arrays are never written).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from corridor.core.errors import ScenarioError
from corridor.core.findings import Severity
from corridor.network.build import load_network
from corridor.network.model import Network
from corridor.problem.build import compile_problem
from corridor.problem.model import Problem
from corridor.scenario.load import load_scenario
from corridor.scenario.model import Scenario

# Compiled scenarios kept, the least recently used dropped first.
SIZE = 8

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Compiled:
    """A scenario file read and compiled (for a deadline), with its network."""

    scenario: Scenario
    network: Network
    problem: Problem


def file_version(path: Path) -> float:
    """Latest change among the scenario file and the files beside it (its CSV, its network)."""
    return max((p.stat().st_mtime for p in path.parent.iterdir() if p.is_file()), default=0.0)


def compile_file(path: Path, deadline: datetime | None = None) -> Compiled:
    """The scenario file read and compiled (with another ``deadline`` if given); raises
    :class:`ScenarioError` when it has errors."""
    scenario = load_scenario(path)
    if deadline is not None and deadline != scenario.deadline:
        scenario = scenario.model_copy(update={"deadline": deadline})
    network = load_network(scenario.network, scenario.base_dir)
    problem, findings = compile_problem(scenario, network)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if problem is None or errors:
        raise ScenarioError(
            "; ".join(f.render() for f in errors) or "the scenario does not compile",
            where=str(path),
            hint="run 'corridor check' on it to see every finding",
        )
    return Compiled(scenario, network, problem)


class Bounded(Generic[K, V]):
    """At most ``size`` values by key, the least recently used dropped first; thread-safe. A value
    missing is made outside the lock (two requests may make it at once; one is kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[K, V] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._guard:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        made = make()
        with self._guard:
            self._kept[key] = made
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return made

    def __len__(self) -> int:
        with self._guard:
            return len(self._kept)

    def clear(self) -> None:
        with self._guard:
            self._kept.clear()


class Problems:
    """The service's compiled scenarios (see the module's documentation).

    ``compilations`` counts the scenarios compiled since the service started (the rest were
    answered from memory).
    """

    def __init__(self, size: int = SIZE) -> None:
        self.compiled: Bounded[tuple[str, float, str | None], Compiled] = Bounded(size)
        self.compilations = 0
        self._count = threading.Lock()

    def get(self, path: Path, deadline: datetime | None = None) -> Compiled:
        """The scenario at ``path`` compiled (for ``deadline``): kept, or compiled now."""
        key = (str(path.resolve()), file_version(path), deadline.isoformat() if deadline else None)

        def make() -> Compiled:
            with self._count:
                self.compilations += 1
            return compile_file(path, deadline)

        return self.compiled.get(key, make)

    def clear(self) -> None:
        self.compiled.clear()
