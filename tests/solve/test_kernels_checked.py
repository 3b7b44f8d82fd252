"""The planner on its compiled loops built with bounds checks on (``make kernels-checked``): an
index outside an array raises ``IndexError`` there instead of reading or writing beside it, so a
planner run that finishes proves that no loop stepped outside its arrays on that input. Every call
is also replayed on the plain-Python reference.

The checked build is made once into ``build/checked`` (from a copy of ``_kernels.pyx`` whose first
line turns the checks on; the installed loops are not touched) when it is missing or older than
the loops; without a C compiler these tests are skipped, saying why.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.problem.model import Problem
from corridor.solve.exact import solve_exact
from kernel_calls import USERS, recorded, replay
from strategies import Sizes, problems

ROOT = Path(__file__).resolve().parents[2]
PYX = ROOT / "src" / "corridor" / "solve" / "_kernels.pyx"
BUILD = ROOT / "build" / "checked"


def _built() -> Path | None:
    found = sorted(BUILD.glob("corridor/solve/_kernels*.so"))
    if found and found[0].stat().st_mtime >= max(PYX.stat().st_mtime, (ROOT / "setup.py").stat().st_mtime):
        return found[0]
    return None


def _build() -> Path:
    if _built() is None:
        if shutil.which(os.environ.get("CC", "cc")) is None:
            pytest.skip("no C compiler: the bounds-checked loops cannot be built")
        command = [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(BUILD)]
        command += ["--build-temp", str(ROOT / "build" / "checked-tmp"), "--force"]
        env = {**os.environ, "CORRIDOR_KERNELS_CHECKED": "1"}
        env.pop("CORRIDOR_PURE_PYTHON", None)
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    path = _built()
    assert path is not None
    return path


@pytest.fixture(scope="module")
def checked() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_kernels", _build())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checked_build_checks_bounds(checked: ModuleType) -> None:
    """A leaf outside the trie: the checked loop refuses to read beside the array."""
    z = np.zeros(3, dtype=np.int64)
    one = np.ones(1, dtype=np.int64)
    with pytest.raises(IndexError):
        checked.read_paths(z, z, z, 5 * one, one, 0 * one, np.zeros(1, np.int64), np.zeros(1, np.int64))


BIGGER = Sizes(nodes=(3, 9), roads=(2, 18), people=40, horizon=(1, 14), place_closures=2)


def test_the_planner_runs_on_the_checked_loops(checked: ModuleType) -> None:
    """Random problems of every feature, each loop called; no index outside its array."""
    seen: set[str] = set()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(p=problems(BIGGER), objective=st.sampled_from(["earliest", "max-flow"]))
    def run(p: Problem, objective: str) -> None:
        with recorded(checked) as calls:
            plan = solve_exact(p, objective=objective)
        assert plan.verify(p) == []
        seen.update(replay(calls))

    run()
    assert seen == set(USERS)
