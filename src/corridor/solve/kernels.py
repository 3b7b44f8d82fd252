"""The planner's compiled inner loops (``_kernels.pyx``), or a clear word on how to build them."""

from __future__ import annotations

try:
    from corridor.solve._kernels import augment_by_step, loop_free_hops, read_paths, split_line
except ImportError as error:  # a checkout that was never built
    raise ImportError(
        "corridor's compiled planner loops (src/corridor/solve/_kernels.pyx) are not built: run"
        " 'make setup' (or 'pip install -e .') on a machine with a C compiler and the Python headers"
    ) from error

__all__ = ["augment_by_step", "loop_free_hops", "read_paths", "split_line"]
