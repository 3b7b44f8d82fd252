"""Without the compiled extension the package imports, checks and plans (on the plain-Python
reference of its loops), gives the same plans, and says so once.

Each run is a fresh interpreter in which ``corridor.solve._kernels`` cannot be imported (a finder
at the front of ``sys.meta_path`` refuses it, as on an install without a C compiler), or in which
``CORRIDOR_PURE_PYTHON=1`` is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from corridor.solve.pipeline import plan_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
NOTE = "the planner's compiled loops are not in use"

# Runs the rest of the command line as the corridor command, with the extension hidden.
HIDDEN = """
import sys
from importlib.abc import MetaPathFinder

class NoExtension(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "corridor.solve._kernels":
            raise ImportError("no compiled extension in this install")
        return None

sys.meta_path.insert(0, NoExtension())
code = sys.argv[1]
sys.argv = ["corridor", *sys.argv[2:]]
exec(code)
"""
CLI = "from corridor.cli.main import app\napp()"


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CORRIDOR_PURE_PYTHON"}
    return subprocess.run(
        [sys.executable, "-c", HIDDEN, code, *args],
        capture_output=True,
        text=True,
        env={**environ, **(env or {})},
        timeout=300,
        check=False,
    )


def test_without_the_extension_the_reference_is_used_and_said_once() -> None:
    code = (
        "import corridor.solve.kernels as k, corridor.solve.reference as r\n"
        "import corridor.solve.earliest, corridor.solve.ccrp, corridor.server.app\n"
        "print(k.COMPILED, k.augment_by_step is r.augment_by_step, k.split_line is r.split_line)"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]
    assert result.stderr.count(NOTE) == 1, result.stderr
    assert "C compiler" in result.stderr


def test_corridor_check_works_without_the_extension() -> None:
    result = _run(CLI, "check", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count(NOTE) == 1


def test_corridor_plan_without_the_extension_gives_the_same_plan() -> None:
    result = _run(CLI, "plan", str(EXAMPLE), "--json", "--no-quickest")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    compiled = plan_file(EXAMPLE, quickest=False).plan
    assert summary["plan_hash"] == compiled.content_hash()
    assert summary["evacuated_by_deadline"] == compiled.evacuated
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        line for line in result.stderr.splitlines() if NOTE in line
    ]
    assert result.stderr.count(NOTE) == 1


def test_the_environment_variable_asks_for_the_reference() -> None:
    code = "import corridor.solve.kernels as k\nprint(k.COMPILED)"
    on = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "CORRIDOR_PURE_PYTHON": "1"},
        check=False,
    )
    assert on.stdout.strip() == "False" and "CORRIDOR_PURE_PYTHON is set" in on.stderr
    environ = {k: v for k, v in os.environ.items() if k != "CORRIDOR_PURE_PYTHON"}
    off = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=False
    )
    assert off.stdout.strip() == "True" and NOTE not in off.stderr


def test_the_build_goes_on_without_a_c_compiler(tmp_path: Path) -> None:
    """setup.py's build of the loops with a compiler that always fails ends well, with a word,
    and builds nothing (what ``pip install -e .`` runs on a machine without a C compiler)."""
    root = EXAMPLE.parents[2]
    env = {
        k: v for k, v in os.environ.items() if k not in ("CORRIDOR_PURE_PYTHON", "CORRIDOR_KERNELS_CHECKED")
    }
    command = [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(tmp_path / "lib")]
    command += ["--build-temp", str(tmp_path / "tmp"), "--force"]
    done = subprocess.run(
        command, cwd=root, env={**env, "CC": "false"}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("the compiled planner loops were not built") == 1, done.stderr
    assert not list(tmp_path.rglob("*.so"))
