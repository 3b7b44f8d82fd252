"""Build of the compiled inner loops (the rest of the project is configured in pyproject.toml).

The extension is optional: where it cannot be built (no C compiler, no Python headers, no Cython)
the install goes on without it and the planner runs on the plain-Python reference of its loops
(``corridor.solve.reference``), saying so once when it starts.

Environment:

- ``CORRIDOR_PURE_PYTHON=1``: build no extension.
- ``CORRIDOR_KERNELS_CHECKED=1``: compile with bounds checks on (an index outside an array raises
  ``IndexError`` instead of reading or writing beside it), for the tests only and into a separate
  folder: ``make kernels-checked``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import Extension, setup  # type: ignore[import-untyped]
from setuptools.command.build_ext import build_ext  # type: ignore[import-untyped]

PYX = Path("src/corridor/solve/_kernels.pyx")
CHECKED_DIR = Path("build/checked-src")
# The loops turn bounds checks off in their first line; the checked build turns them on (negative
# indices stay errors: the loops never mean one to count from the end).
FAST = "boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False"
CHECKED = "boundscheck=True, wraparound=False, cdivision=False, initializedcheck=True"


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _say(text: str) -> None:
    print(f"corridor setup: {text}", file=sys.stderr)


class OptionalBuildExt(build_ext):  # type: ignore[misc]
    """build_ext that leaves the extension out, with a word, when it cannot be compiled."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # a missing compiler fails here on some platforms
            _skipped(exc)

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # no C compiler, no Python headers
            _skipped(exc)


_said: list[str] = []


def _skipped(exc: BaseException) -> None:
    if _flag("CORRIDOR_KERNELS_CHECKED"):
        raise exc  # the checked build exists to be compiled: say why it was not
    if not _said:  # once (an editable install fails again copying what was not built)
        _said.append(str(exc))
        _say(f"the compiled planner loops were not built ({exc}); corridor will plan in plain Python")


def _source() -> str:
    """The .pyx to compile: the loops themselves, or a copy with bounds checks on."""
    if not _flag("CORRIDOR_KERNELS_CHECKED"):
        return str(PYX)
    text = PYX.read_text(encoding="utf-8")
    if FAST not in text:
        raise SystemExit(f"{PYX}: its first line no longer reads '# cython: ... {FAST}'")
    CHECKED_DIR.mkdir(parents=True, exist_ok=True)
    checked = CHECKED_DIR / "_kernels.pyx"
    checked.write_text(text.replace(FAST, CHECKED, 1), encoding="utf-8")
    return str(checked)


def _extensions() -> list[Any]:
    if _flag("CORRIDOR_PURE_PYTHON"):
        _say("CORRIDOR_PURE_PYTHON is set: no compiled loops")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _say("Cython is not installed: no compiled loops; corridor will plan in plain Python")
        return []
    extension = Extension("corridor.solve._kernels", [_source()], extra_compile_args=["-O2"])
    try:
        return list(cythonize([extension], language_level=3, quiet=True))  # type: ignore[no-untyped-call]
    except Exception as exc:
        if _flag("CORRIDOR_KERNELS_CHECKED"):
            raise
        _say(f"cannot translate {PYX} ({exc}); corridor will plan in plain Python")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
