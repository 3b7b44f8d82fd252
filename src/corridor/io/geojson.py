"""Read roads (and named points) from a GeoJSON FeatureCollection into plain tables.

The road file format
--------------------
A GeoJSON ``FeatureCollection`` (RFC 7946, UTF-8). Coordinates are ``[x, y]`` (lon/lat for
EPSG:4326, or planar units for the CRS named in the scenario); a third coordinate is ignored.

**Roads** are ``LineString`` or ``MultiLineString`` features. Each part of a ``MultiLineString``
is a separate road with the same properties. All properties are optional:

============== ===================== ==========================================================
property       JSON type             meaning
============== ===================== ==========================================================
``id``         string or integer     the road's own id (shown in messages and reports)
``from``       string or integer     node id of the first point (overrides the point rule below)
``to``         string or integer     node id of the last point
``capacity``   number > 0            vehicles per hour (per ``capacity_hours`` of the scenario)
``travel_time`` number > 0           minutes at free flow (in the scenario's ``time_unit``)
``speed_kmh``  number > 0            free-flow speed, used when ``travel_time`` is absent
``length``     number >= 0           metres (in the scenario's ``length_unit``); computed from
                                     the geometry when absent
``oneway``     true/false or text    ``true``/``"yes"``/``"1"``: only as drawn (first point to
                                     last); ``false``/``"no"``/``"0"``: both ways;
                                     ``"-1"``/``-1``/``"reverse"``: only against the drawing.
                                     Absent: the scenario's ``two_way`` setting decides.
``name``       string                street name, for people
============== ===================== ==========================================================

Numbers must be JSON numbers (``1800``, not ``"1800"``); ``null`` counts as absent. A
``from``/``to`` on a ``MultiLineString`` with more than one part is an error (which part?).

**Nodes.** Only the two ends of a road are nodes; the vertices between them are kept as the
road's drawn geometry. ``Point`` features with an ``id`` property name nodes: a road end within
1e-7 (degrees or planar units, in both x and y) of a named point takes that point's id and
position. Any other road end gets an id made of its coordinates rounded to 6 decimals, written
``"x,y"`` with six decimals each (e.g. ``"36.162140,36.202210"``), so roads that meet at the
same coordinates share a node. Named points that no road touches are not nodes.

Features of other geometry types (polygons...), points without ``id`` and features without
geometry are ignored, so a file may carry other layers. Unknown properties are ignored.

Every error names the place, e.g. ``roads.geojson: features[12].properties.capacity``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import InputError, NetworkError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SNAP_TOLERANCE = 1e-7  # degrees or planar units, per axis
_FORWARD = {"yes", "true", "1"}
_BOTH = {"no", "false", "0"}
_REVERSE = {"-1", "reverse"}


@dataclass(frozen=True)
class GeojsonPoints:
    """Named ``Point`` features: id, position and the index of the feature in the file."""

    ids: list[str]
    x: FloatArray
    y: FloatArray
    feature: IntArray


@dataclass(frozen=True)
class GeojsonRoads:
    """Roads as drawn, one row per road (per part of a MultiLineString).

    ``from_node``/``to_node`` index ``node_ids``. Numeric columns hold the file's values in the
    file's units, NaN where the property is absent. ``oneway`` is 1 (as drawn), 0 (both ways),
    -1 (against the drawing) or None (absent). ``geometry[i]`` is the road's polyline as drawn.
    """

    path: str
    node_ids: list[str]
    node_x: FloatArray
    node_y: FloatArray
    from_node: IntArray
    to_node: IntArray
    feature: IntArray
    road_id: list[str | None]
    name: list[str | None]
    capacity: FloatArray
    travel_time: FloatArray
    speed_kmh: FloatArray
    length: FloatArray
    oneway: list[int | None]
    geometry: list[tuple[tuple[float, float], ...]]

    @property
    def n_roads(self) -> int:
        return len(self.from_node)


@dataclass
class _Road:
    feature: int
    coords: FloatArray
    props: dict[str, Any]


def read_feature_collection(
    path: str | Path, *, error: type[InputError] = InputError
) -> list[dict[str, Any]]:
    """The ``features`` of a GeoJSON FeatureCollection file; errors are of class ``error``."""
    path = Path(path)
    if not path.is_file():
        raise error(
            "file not found",
            where=str(path),
            hint="check the path (relative paths start at the scenario file)",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise error(
            f"not valid JSON: {exc.msg} (column {exc.colno})",
            where=f"{path}:{exc.lineno}",
            hint="fix the JSON syntax, e.g. with a JSON validator",
        ) from None
    except UnicodeDecodeError:
        raise error("not UTF-8 text", where=str(path), hint="save the file as UTF-8 GeoJSON") from None
    features = data.get("features") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(features, list)
    ):
        raise error(
            "not a GeoJSON FeatureCollection",
            where=str(path),
            hint='the top level must be {"type": "FeatureCollection", "features": [...]}',
        )
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            raise error(
                "a feature must be an object with an object of properties",
                where=f"{path}: features[{i}]",
                hint='write {"type": "Feature", "geometry": {...}, "properties": {...}}',
            )
    return features


def read_points(path: str | Path) -> GeojsonPoints:
    """The ``Point`` features that carry an ``id`` property (node names, TNTP node positions)."""
    return _points(read_feature_collection(path, error=NetworkError), str(path))


def _points(features: Sequence[dict[str, Any]], path: str) -> GeojsonPoints:
    ids: list[str] = []
    xy: list[tuple[float, float]] = []
    index: list[int] = []
    for i, feature in enumerate(features):
        geometry = feature.get("geometry")
        props = feature.get("properties") or {}
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" or props.get("id") is None:
            continue
        ids.append(_id_text(props["id"], f"{path}: features[{i}].properties.id"))
        coords = _positions([geometry.get("coordinates")], f"{path}: features[{i}].geometry.coordinates")
        xy.append((float(coords[0, 0]), float(coords[0, 1])))
        index.append(i)
    _check_unique_points(ids, index, path)
    arr = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return GeojsonPoints(ids, arr[:, 0].copy(), arr[:, 1].copy(), np.asarray(index, dtype=np.int64))


def read_roads(path: str | Path) -> GeojsonRoads:
    """Read a road file (format in the module docstring) into a :class:`GeojsonRoads` table."""
    features = read_feature_collection(path, error=NetworkError)
    where = str(path)
    roads = _collect_roads(features, where)
    if not roads:
        raise NetworkError(
            "no LineString or MultiLineString features (roads)",
            where=where,
            hint="draw the roads as lines; points only name nodes",
        )
    points = _points(features, where)
    names, node_x, node_y, ends = _resolve_nodes(roads, points, where)
    table = _property_table(roads, where)
    return GeojsonRoads(
        path=where,
        node_ids=names,
        node_x=node_x,
        node_y=node_y,
        from_node=ends[:, 0].copy(),
        to_node=ends[:, 1].copy(),
        feature=np.asarray([r.feature for r in roads], dtype=np.int64),
        geometry=[tuple((float(a), float(b)) for a, b in r.coords) for r in roads],
        **table,
    )


def _collect_roads(features: Sequence[dict[str, Any]], where: str) -> list[_Road]:
    roads: list[_Road] = []
    for i, feature in enumerate(features):
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict):
            continue
        kind = geometry.get("type")
        props = feature.get("properties") or {}
        place = f"{where}: features[{i}].geometry.coordinates"
        raw = geometry.get("coordinates")
        if kind == "LineString":
            parts = [raw]
        elif kind == "MultiLineString":
            if not isinstance(raw, list) or not raw:
                raise NetworkError("a MultiLineString needs a list of lines", where=place)
            parts = raw
            if len(parts) > 1 and ("from" in props or "to" in props):
                raise NetworkError(
                    "'from'/'to' on a MultiLineString with several parts",
                    where=f"{where}: features[{i}].properties",
                    hint="split the MultiLineString into LineString features, one per road",
                )
        else:
            continue
        for k, part in enumerate(parts):
            coords = _positions(part, place if kind == "LineString" else f"{place}[{k}]")
            if len(coords) < 2:
                raise NetworkError("a road needs at least two points", where=place)
            roads.append(_Road(i, coords, props))
    return roads


def _positions(raw: Any, where: str) -> FloatArray:
    """An (n, 2) array of x, y from a list of GeoJSON positions."""
    ok = isinstance(raw, list) and all(
        isinstance(p, list)
        and len(p) >= 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in p[:2])
        for p in raw
    )
    arr = np.asarray([p[:2] for p in raw], dtype=np.float64) if ok else np.empty((0, 2))
    if not ok or not np.isfinite(arr).all():
        raise NetworkError(
            "coordinates must be a list of [x, y] number pairs",
            where=where,
            hint="write positions as [lon, lat] (or [x, y]) numbers",
        )
    return arr.reshape(-1, 2)


def _id_text(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise NetworkError(
            f"an id must be a non-empty string or an integer, got {value!r}",
            where=where,
            hint='write e.g. "A12" or 12',
        )
    return str(value)


def _check_unique_points(ids: list[str], index: list[int], where: str) -> None:
    seen: dict[str, int] = {}
    for name, i in zip(ids, index, strict=True):
        if name in seen:
            raise NetworkError(
                f"point id {name!r} is used twice (also features[{seen[name]}])",
                where=f"{where}: features[{i}].properties.id",
                hint="give each named point its own id",
            )
        seen[name] = i


def coordinate_id(x: float, y: float) -> str:
    """The node id of an unnamed road end: ``"x,y"`` rounded to 6 decimals."""
    return f"{round(x, 6) + 0.0:.6f},{round(y, 6) + 0.0:.6f}"


def _snap_to_points(ends: FloatArray, points: GeojsonPoints) -> IntArray:
    """For each end (k, 2), the index of the named point within tolerance, or -1."""
    if not len(points.ids):
        return np.full(len(ends), -1, dtype=np.int64)
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([points.x, points.y]))
    dist, idx = tree.query(ends, k=1, p=np.inf, distance_upper_bound=SNAP_TOLERANCE * (1 + 1e-9))
    return np.where(np.isfinite(dist), idx, -1).astype(np.int64)


def _resolve_nodes(
    roads: list[_Road], points: GeojsonPoints, where: str
) -> tuple[list[str], FloatArray, FloatArray, IntArray]:
    """Node ids and positions, and the (from, to) node index of each road."""
    ends = np.array([[r.coords[0], r.coords[-1]] for r in roads], dtype=np.float64).reshape(-1, 2)
    snapped = _snap_to_points(ends, points)
    point_at = {name: k for k, name in enumerate(points.ids)}
    index: dict[str, int] = {}
    xs: list[float] = []
    ys: list[float] = []
    out = np.empty(len(ends), dtype=np.int64)
    for e, (x, y) in enumerate(ends.tolist()):
        road = roads[e // 2]
        key = "from" if e % 2 == 0 else "to"
        if road.props.get(key) is not None:
            place = f"{where}: features[{road.feature}].properties.{key}"
            name = _id_text(road.props[key], place)
        elif snapped[e] >= 0:
            name = points.ids[snapped[e]]
        else:
            name = coordinate_id(x, y)
        if name not in index:
            index[name] = len(xs)
            k = point_at.get(name)
            xs.append(float(points.x[k]) if k is not None else x)
            ys.append(float(points.y[k]) if k is not None else y)
        out[e] = index[name]
    return list(index), np.asarray(xs), np.asarray(ys), out.reshape(-1, 2)


def _number(props: dict[str, Any], key: str, where: str, *, zero_ok: bool) -> float:
    value = props.get(key)
    if value is None:
        return math.nan
    good = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not good or value < 0 or (value == 0 and not zero_ok):
        sign = "zero or more" if zero_ok else "more than zero"
        raise NetworkError(
            f"{key} must be a number {sign}, got {value!r}",
            where=f"{where}.{key}",
            hint='write a JSON number (e.g. 1800, not "1800"), or leave the property out',
        )
    return float(value)


def _oneway(props: dict[str, Any], where: str) -> int | None:
    value = props.get("oneway")
    if value is None:
        return None
    text = str(value).lower() if not isinstance(value, float) else ""
    if isinstance(value, bool):
        return 1 if value else 0
    for code, words in ((1, _FORWARD), (0, _BOTH), (-1, _REVERSE)):
        if text in words:
            return code
    raise NetworkError(
        f'oneway must be true, false, "yes", "no" or "-1", got {value!r}',
        where=f"{where}.oneway",
        hint='use true for one way as drawn, false for both ways, "-1" for against the drawing',
    )


def _text(props: dict[str, Any], key: str, where: str) -> str | None:
    value = props.get(key)
    if value is None:
        return None
    if key == "id":
        return _id_text(value, f"{where}.id")
    if not isinstance(value, str):
        raise NetworkError(
            f"{key} must be a string, got {value!r}",
            where=f"{where}.{key}",
            hint='write it in quotes, e.g. "Main Street"',
        )
    return value


def _property_table(roads: list[_Road], where: str) -> dict[str, Any]:
    cols: dict[str, list[Any]] = {k: [] for k in ("capacity", "travel_time", "speed_kmh", "length")}
    road_id: list[str | None] = []
    name: list[str | None] = []
    oneway: list[int | None] = []
    for road in roads:
        place = f"{where}: features[{road.feature}].properties"
        for key, values in cols.items():
            values.append(_number(road.props, key, place, zero_ok=key == "length"))
        road_id.append(_text(road.props, "id", place))
        name.append(_text(road.props, "name", place))
        oneway.append(_oneway(road.props, place))
    table: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
    return {**table, "road_id": road_id, "name": name, "oneway": oneway}
