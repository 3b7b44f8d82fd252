"""DIMACS flow files: ``p max|min N M``, ``n ID s|t|SUPPLY``, ``a U V CAP`` or ``a U V LOW CAP COST``.

Also reads the flows-over-time variant with arc lines ``a U V LOW CAP TRANSIT``. Nodes are 1..N in the
file and 0..N-1 in the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import InputError

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class DimacsTable:
    kind: str  # "max" or "min"
    n_nodes: int
    tail: IntArray
    head: IntArray
    low: IntArray
    cap: IntArray
    cost: IntArray  # cost (min) or transit time (flows over time); zeros for max
    supply: IntArray  # per node (min); zeros for max
    source: int = -1
    sink: int = -1


def _ints(parts: list[str], where: str) -> list[int]:
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise InputError(f"expected integers, got {' '.join(parts)!r}", where=where) from None


def read_dimacs(path: str | Path) -> DimacsTable:
    """Read a DIMACS max-flow or min-cost-flow file; errors name the file and line."""
    path = Path(path)
    kind, n = "", 0
    arcs: list[list[int]] = []
    supply: dict[int, int] = {}
    ends: dict[str, int] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        where = f"{path}:{number}"
        parts = line.split()
        if not parts or parts[0] == "c":
            continue
        if parts[0] == "p" and len(parts) == 4:
            kind, n = parts[1], _ints(parts[2:3], where)[0]
        elif parts[0] == "n" and len(parts) == 3:
            node = _ints(parts[1:2], where)[0] - 1
            if parts[2] in ("s", "t"):
                ends[parts[2]] = node
            else:
                supply[node] = _ints(parts[2:3], where)[0]
        elif parts[0] == "a" and len(parts) in (4, 6):
            values = _ints(parts[1:], where)
            arcs.append(
                [values[0] - 1, values[1] - 1, 0, values[2], 0]
                if len(values) == 3
                else [values[0] - 1, values[1] - 1, *values[2:]]
            )
        else:
            raise InputError(f"cannot read line {line!r}", where=where, hint="see DIMACS format")
    if kind not in ("max", "min"):
        raise InputError("no 'p max' or 'p min' line", where=str(path))
    a = np.asarray(arcs, dtype=np.int64).reshape(-1, 5)
    sup = np.zeros(n, dtype=np.int64)
    for node, value in supply.items():
        sup[node] = value
    return DimacsTable(
        kind,
        n,
        a[:, 0],
        a[:, 1],
        a[:, 2],
        a[:, 3],
        a[:, 4],
        sup,
        ends.get("s", -1),
        ends.get("t", -1),
    )
