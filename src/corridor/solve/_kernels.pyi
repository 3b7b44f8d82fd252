"""Types of the compiled inner loops (src/corridor/solve/_kernels.pyx)."""

import numpy as np
from numpy.typing import NDArray

_I = NDArray[np.int64]

def augment_by_step(
    start: _I,
    to: NDArray[np.int32],
    rcap: _I,
    rev: _I,
    due: _I,
    is_dest: NDArray[np.uint8],
    src: int,
    order: _I,
    order_due: _I,
    first: int,
    last: int,
    absorbed: _I,
    par: _I,
    tree: NDArray[np.uint8],
    ts: _I,
    dist: _I,
    counters: _I,
) -> None: ...
def split_line(
    line_start: _I,
    line_end: _I,
    lands: _I,
    road: _I,
    step: _I,
    dest: _I,
    lands_on: _I,
    entry_lo: _I,
    entry_hi: _I,
    entry_on: _I,
) -> tuple[_I, _I, _I, _I, _I, _I, _I]: ...
def read_paths(
    parent: _I, arc: _I, tstep: _I, leaf: _I, hops: _I, off: _I, flat_arc: _I, flat_step: _I
) -> _I: ...
def loop_free_hops(node: _I, first: _I, hops: _I, dest_node: _I, n_nodes: int) -> NDArray[np.bool_]: ...
