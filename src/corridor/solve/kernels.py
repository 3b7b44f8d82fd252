"""The planner's inner loops: compiled (``_kernels.pyx``) when the extension is built, else their
plain-Python reference (``reference.py``: the same results, many times slower), said once.

``CORRIDOR_PURE_PYTHON=1`` in the environment takes the reference even when the extension is
built (to check an install without a C compiler, or to step through the loops in a debugger).
"""

from __future__ import annotations

import logging
import os

PURE_PYTHON_NOTE = (
    "corridor: the planner's compiled loops are not in use, planning runs on their plain-Python"
    " reference (same plans, slower); {why}"
)

try:
    if os.environ.get("CORRIDOR_PURE_PYTHON", "") not in ("", "0"):
        raise ImportError("CORRIDOR_PURE_PYTHON is set")
    from corridor.solve._kernels import augment_by_step, loop_free_hops, read_paths, split_line
except ImportError as error:
    from corridor.solve.reference import augment_by_step, loop_free_hops, read_paths, split_line

    COMPILED = False
    WHY = (
        "CORRIDOR_PURE_PYTHON is set"
        if "CORRIDOR_PURE_PYTHON" in str(error)
        else "build them with 'pip install -e .' on a machine with a C compiler and the Python headers"
    )
    logging.getLogger(__name__).warning(PURE_PYTHON_NOTE.format(why=WHY))
else:
    COMPILED = True

__all__ = ["COMPILED", "augment_by_step", "loop_free_hops", "read_paths", "split_line"]
