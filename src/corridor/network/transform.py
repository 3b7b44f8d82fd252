"""Pure transforms of a :class:`Network`: each returns a new network and leaves its input alone.

Arcs are chosen by index (a sequence or integer array of arc indices) or by a boolean mask of
length ``n_arcs``. Capacities are vehicles per hour. Areas are GeoJSON ``Polygon`` or
``MultiPolygon`` geometries (dicts) in the network's own coordinates (lon/lat for EPSG:4326);
a node or road on the boundary of an area counts as inside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import InputError, NetworkError
from corridor.network.model import FloatArray, IntArray, Network

ArcSelection = Sequence[int] | NDArray[np.integer[Any]] | NDArray[np.bool_]
_AREA_TYPES = ("Polygon", "MultiPolygon")


def arc_indices(network: Network, arcs: ArcSelection) -> IntArray:
    """Sorted unique arc indices of a selection (indices or a boolean mask), checked."""
    sel = np.asarray(arcs)
    if sel.dtype == np.bool_:
        if sel.shape != (network.n_arcs,):
            raise NetworkError(
                f"an arc mask needs {network.n_arcs} entries, got {sel.size}", where=network.name
            )
        return np.flatnonzero(sel).astype(np.int64)
    if sel.size == 0:
        return np.empty(0, dtype=np.int64)
    if not np.issubdtype(sel.dtype, np.integer):
        raise NetworkError("arcs must be given as integer indices or a boolean mask", where=network.name)
    idx = np.unique(sel.astype(np.int64).ravel())
    if idx[0] < 0 or idx[-1] >= network.n_arcs:
        bad = int(idx[0] if idx[0] < 0 else idx[-1])
        raise NetworkError(
            f"arc index {bad} is out of range (the network has {network.n_arcs} arcs)",
            where=network.name,
        )
    return idx


def keep_arcs(network: Network, keep: NDArray[np.bool_]) -> Network:
    """A copy with only the arcs where ``keep`` is true (nodes unchanged)."""
    return network.with_arcs(np.asarray(keep, dtype=np.bool_))


def remove_arcs(network: Network, arcs: ArcSelection) -> Network:
    """The network without the selected arcs (nodes are kept)."""
    keep = np.ones(network.n_arcs, dtype=np.bool_)
    keep[arc_indices(network, arcs)] = False
    return keep_arcs(network, keep)


def scale_capacity(network: Network, arcs: ArcSelection, factor: float) -> Network:
    """Multiply the capacity (vehicles/hour) of the selected arcs by ``factor`` (>= 0)."""
    if not np.isfinite(factor) or factor < 0:
        raise InputError(f"capacity factor must be zero or more, got {factor!r}", where=network.name)
    capacity = network.capacity.copy()
    idx = arc_indices(network, arcs)
    capacity[idx] *= factor
    return replace(network, capacity=capacity)


def set_capacity(network: Network, arcs: ArcSelection, vph: float) -> Network:
    """Set the capacity of the selected arcs to ``vph`` vehicles per hour (>= 0)."""
    if not np.isfinite(vph) or vph < 0:
        raise InputError(f"capacity must be zero or more vehicles/hour, got {vph!r}", where=network.name)
    capacity = network.capacity.copy()
    capacity[arc_indices(network, arcs)] = vph
    return replace(network, capacity=capacity)


def reverse_arcs_of(network: Network, arcs: ArcSelection) -> IntArray:
    """For each selected arc ``u -> v``, the index of the first arc ``v -> u``, or -1 if none.

    The result follows the order of ``arcs`` as given (a mask gives ascending order).
    """
    arc_indices(network, arcs)  # checks the selection
    sel = np.asarray(arcs)
    idx = np.flatnonzero(sel) if sel.dtype == np.bool_ else sel.astype(np.int64).ravel()
    if network.n_arcs == 0 or idx.size == 0:
        return np.full(idx.size, -1, dtype=np.int64)
    n = np.int64(network.n_nodes)
    key = network.tail * n + network.head
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    target = network.head[idx] * n + network.tail[idx]
    pos = np.minimum(np.searchsorted(sorted_key, target), network.n_arcs - 1)
    return np.where(sorted_key[pos] == target, order[pos], -1).astype(np.int64)


def subnetwork(network: Network, keep_nodes: NDArray[np.bool_]) -> Network:
    """The network on the nodes where ``keep_nodes`` is true and the arcs between them."""
    keep_nodes = np.asarray(keep_nodes, dtype=np.bool_)
    new_index = np.cumsum(keep_nodes, dtype=np.int64) - 1
    arcs = keep_arcs(network, keep_nodes[network.tail] & keep_nodes[network.head])
    return replace(
        arcs,
        node_ids=tuple(np.asarray(network.node_ids, dtype=object)[keep_nodes].tolist()),
        x=network.x[keep_nodes],
        y=network.y[keep_nodes],
        tail=new_index[arcs.tail],
        head=new_index[arcs.head],
    )


def largest_weak_component(network: Network) -> Network:
    """The largest weakly connected part of the network (ties: the one with the lowest node)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = network.n_nodes
    ones = np.ones(network.n_arcs, dtype=np.int8)
    graph = coo_matrix((ones, (network.tail, network.head)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="weak")
    biggest = int(np.argmax(np.bincount(labels)))
    return network if np.all(labels == biggest) else subnetwork(network, labels == biggest)


def _area(geometry: Mapping[str, Any], where: str) -> Any:
    """A prepared shapely (Multi)Polygon from a GeoJSON geometry dict."""
    import shapely
    from shapely.geometry import shape

    if not isinstance(geometry, Mapping) or geometry.get("type") not in _AREA_TYPES:
        raise InputError(
            "an area must be a GeoJSON Polygon or MultiPolygon geometry",
            where=where,
            hint='write {"type": "Polygon", "coordinates": [[[x, y], ...]]}',
        )
    try:
        area = shapely.make_valid(shape(dict(geometry)))
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise InputError(
            f"cannot read the area's coordinates: {exc}",
            where=where,
            hint="a ring is a list of [x, y] pairs that ends where it starts",
        ) from None
    shapely.prepare(area)
    return area


def _need_coordinates(network: Network) -> None:
    if not network.has_coordinates:
        raise NetworkError(
            "the network has no node coordinates, so areas cannot be placed on it",
            where=network.name,
            hint="give the network a node file with coordinates",
        )


def nodes_in_area(network: Network, geometry: Mapping[str, Any], *, where: str = "area") -> IntArray:
    """Indices of the nodes inside (or on the boundary of) a GeoJSON (Multi)Polygon."""
    import shapely

    _need_coordinates(network)
    area = _area(geometry, where)
    return np.flatnonzero(shapely.intersects_xy(area, network.x, network.y)).astype(np.int64)


def arc_lines(network: Network) -> Any:
    """A shapely LineString per arc: its drawn polyline, or the straight tail-head segment."""
    import shapely

    if network.geometry:
        counts = np.fromiter((len(g) for g in network.geometry), np.int64, network.n_arcs)
        flat = chain.from_iterable(chain.from_iterable(network.geometry))
        coords: FloatArray = np.fromiter(flat, np.float64, 2 * int(counts.sum())).reshape(-1, 2)
        owner = np.repeat(np.arange(network.n_arcs), counts)
    else:
        tail, head = network.tail, network.head
        coords = np.column_stack([network.x[tail], network.y[tail], network.x[head], network.y[head]])
        coords = coords.reshape(-1, 2)
        owner = np.repeat(np.arange(network.n_arcs), 2)
    return shapely.linestrings(coords, indices=owner)


def arcs_crossing_area(network: Network, geometry: Mapping[str, Any], *, where: str = "area") -> IntArray:
    """Indices (ascending) of the arcs whose polyline touches a GeoJSON (Multi)Polygon."""
    from shapely import STRtree

    _need_coordinates(network)
    area = _area(geometry, where)
    if network.n_arcs == 0:
        return np.empty(0, dtype=np.int64)
    hits = STRtree(arc_lines(network)).query(area, predicate="intersects")
    return np.sort(np.asarray(hits, dtype=np.int64))
