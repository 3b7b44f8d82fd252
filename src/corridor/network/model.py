"""The road network: nodes with coordinates, directed arcs with capacity and travel time.

Units are fixed here, whatever the file said: capacity in vehicles per hour, travel time in minutes,
length in metres. Coordinates are lon/lat (``crs="EPSG:4326"``) or planar units named by ``crs``.
A network is immutable; transforms return a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import NetworkError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Network:
    """A directed road network. Arc ``i`` runs from ``tail[i]`` to ``head[i]`` (node indices)."""

    name: str
    node_ids: tuple[str, ...]
    x: FloatArray
    y: FloatArray
    tail: IntArray
    head: IntArray
    capacity: FloatArray  # vehicles per hour
    travel_time: FloatArray  # minutes at free flow
    length: FloatArray  # metres
    crs: str = "EPSG:4326"
    has_coordinates: bool = True
    source: str = ""
    # Optional per-arc polyline (lists of (x, y)) for maps and area closures; empty means straight.
    geometry: tuple[tuple[tuple[float, float], ...], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        n, m = len(self.node_ids), len(self.tail)
        sizes = {"x": len(self.x), "y": len(self.y)}
        arc_sizes = {
            "head": len(self.head),
            "capacity": len(self.capacity),
            "travel_time": len(self.travel_time),
            "length": len(self.length),
        }
        if any(v != n for v in sizes.values()) or any(v != m for v in arc_sizes.values()):
            raise NetworkError(f"inconsistent array sizes: nodes={n}, arcs={m}", where=self.name)
        if m and (self.tail.min() < 0 or self.head.min() < 0 or max(self.tail.max(), self.head.max()) >= n):
            raise NetworkError("an arc refers to a node index out of range", where=self.name)
        if len(set(self.node_ids)) != n:
            raise NetworkError("node ids are not unique", where=self.name)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_arcs(self) -> int:
        return len(self.tail)

    @cached_property
    def index(self) -> dict[str, int]:
        """Node id -> node index."""
        return {node: i for i, node in enumerate(self.node_ids)}

    @cached_property
    def arc_index(self) -> dict[tuple[str, str], int]:
        """(tail id, head id) -> the first arc between them."""
        ids = self.node_ids
        out: dict[tuple[str, str], int] = {}
        for i, (u, v) in enumerate(zip(self.tail.tolist(), self.head.tolist(), strict=True)):
            out.setdefault((ids[u], ids[v]), i)
        return out

    def node(self, node_id: str, *, where: str) -> int:
        try:
            return self.index[node_id]
        except KeyError:
            raise NetworkError(
                f"unknown node {node_id!r} in network {self.name!r}",
                where=where,
                hint="use a node id from the network file, or give lon/lat instead",
            ) from None

    def nearest_node(self, x: float, y: float) -> int:
        """Index of the node nearest to ``(x, y)`` (planar distance on the stored coordinates)."""
        if not self.has_coordinates:
            raise NetworkError("network has no node coordinates", where=self.name)
        d2 = (self.x - x) ** 2 + (self.y - y) ** 2
        return int(np.argmin(d2))

    def arc_polyline(self, arc: int) -> tuple[tuple[float, float], ...]:
        if self.geometry:
            return self.geometry[arc]
        u, v = int(self.tail[arc]), int(self.head[arc])
        return ((float(self.x[u]), float(self.y[u])), (float(self.x[v]), float(self.y[v])))

    def with_arcs(self, keep: NDArray[np.bool_]) -> Network:
        """A copy with only the arcs where ``keep`` is true."""
        geometry = (
            tuple(g for g, k in zip(self.geometry, keep.tolist(), strict=True) if k) if self.geometry else ()
        )
        return replace(
            self,
            tail=self.tail[keep],
            head=self.head[keep],
            capacity=self.capacity[keep],
            travel_time=self.travel_time[keep],
            length=self.length[keep],
            geometry=geometry,
        )


def network_from_arrays(
    name: str,
    node_ids: Sequence[str],
    tail: Sequence[int],
    head: Sequence[int],
    capacity: Sequence[float],
    travel_time: Sequence[float],
    *,
    length: Sequence[float] | None = None,
    x: Sequence[float] | None = None,
    y: Sequence[float] | None = None,
    crs: str = "EPSG:4326",
    source: str = "",
) -> Network:
    """Build a :class:`Network` from plain sequences (tests, examples, importers)."""
    n = len(node_ids)
    has_xy = x is not None and y is not None
    return Network(
        name=name,
        node_ids=tuple(str(v) for v in node_ids),
        x=np.asarray(x if has_xy else np.zeros(n), dtype=np.float64),
        y=np.asarray(y if has_xy else np.zeros(n), dtype=np.float64),
        tail=np.asarray(tail, dtype=np.int64),
        head=np.asarray(head, dtype=np.int64),
        capacity=np.asarray(capacity, dtype=np.float64),
        travel_time=np.asarray(travel_time, dtype=np.float64),
        length=np.asarray(length if length is not None else np.zeros(len(tail)), dtype=np.float64),
        crs=crs,
        has_coordinates=has_xy,
        source=source,
    )
