"""Compile a scenario on a network into a :class:`Problem`, collecting findings on the way."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from corridor.core.errors import InputError, ScenarioError
from corridor.core.findings import Finding, Severity, has_errors
from corridor.core.timeaxis import TimeAxis
from corridor.network.model import FloatArray, Network
from corridor.network.transform import arcs_crossing_area, nodes_in_area
from corridor.problem.model import UNLIMITED, IntArray, Problem, Windows
from corridor.scenario.load import time_step_minutes
from corridor.scenario.model import Closure, Scenario

# "Never ends": a step far beyond any horizon, so windows survive a change of horizon.
OPEN_END = 2**40
# More steps than any evacuation plan needs (a year at half a minute): beyond it, a typing error.
MAX_STEPS = 1_000_000
# More people than any evacuation moves: a count beyond it (at a source, a reception point) is a
# typing error; a rate beyond it per step is the same as no limit.
MAX_PEOPLE = 10**9
MAX_PRIORITY = 10**6


@dataclass
class _Resolver:
    scenario: Scenario
    network: Network
    findings: list[Finding] = field(default_factory=list)

    def error(self, code: str, where: str, message: str, hint: str = "") -> None:
        self.findings.append(Finding(Severity.ERROR, code, where, message, hint))

    def warning(self, code: str, where: str, message: str, hint: str = "") -> None:
        self.findings.append(Finding(Severity.WARNING, code, where, message, hint))

    def node(self, where: str, node: str | None, lon: float | None, lat: float | None) -> int:
        if node is not None:
            index = self.network.index.get(node)
            if index is None:
                self.error(
                    "unknown-node",
                    where,
                    f"node {node!r} is not in network {self.network.name!r}",
                    "use a node id of the network file, or give lon/lat",
                )
                return -1
            return index
        assert lon is not None and lat is not None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            self.error("bad-position", where, f"lon/lat ({lon}, {lat}) is not a position", "give numbers")
            return -1
        if not self.network.has_coordinates:
            self.error("no-coordinates", where, "lon/lat given but the network has no coordinates")
            return -1
        lonlat = self.network.crs.upper() in ("EPSG:4326", "WGS84", "OGC:CRS84", "CRS84")
        if lonlat and (abs(lon) > 180 or abs(lat) > 90):
            hint = "longitude is -180..180 and latitude -90..90, in that order"
            self.error("bad-position", where, f"({lon:g}, {lat:g}) is not a lon/lat position", hint)
            return -1
        v = self.network.nearest_node(lon, lat)
        if lonlat and (far := _km(lon, lat, float(self.network.x[v]), float(self.network.y[v]))) > SNAP_KM:
            self.findings.append(
                Finding(
                    Severity.WARNING,
                    "far-from-network",
                    where,
                    f"({lon:g}, {lat:g}) is {far:,.1f} km from the nearest node ({self.network.node_ids[v]})",
                    "check the position (lon, lat order) or give a node id",
                )
            )
        return v

    def window(self, axis: TimeAxis, begin: datetime | None, end: datetime | None) -> tuple[int, int]:
        a = 0 if begin is None else max(0, axis.first_step_at_or_after(begin))
        b = OPEN_END if end is None else max(0, axis.first_step_at_or_after(end))
        return a, b


# A position snapped to a node further than this is said (a warning): a typing error, or a place
# the network does not reach.
SNAP_KM = 5.0


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _axis(scenario: Scenario) -> TimeAxis:
    dt = time_step_minutes(scenario)
    span = (scenario.deadline - scenario.start).total_seconds() / 60.0
    return TimeAxis(scenario.start, dt, int(span // dt + 1e-9))


_POLYGONS = ("Polygon", "MultiPolygon")
_AREA_HINT = "give a GeoJSON Polygon or MultiPolygon, a Feature with one, or a FeatureCollection of them"


def _polygons(data: object, what: str) -> list[Any]:
    """The polygon coordinates of a GeoJSON geometry, Feature, FeatureCollection or
    GeometryCollection (every member), or a :class:`ValueError` saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} is a JSON {type(data).__name__}, not a GeoJSON object")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise ValueError(f"{what} is a FeatureCollection with no features")
        return [p for k, f in enumerate(features) for p in _polygons(f, f"{what}, feature {k}")]
    if kind == "Feature":
        if data.get("geometry") is None:
            raise ValueError(f"{what} is a Feature without a geometry")
        return _polygons(data["geometry"], what)
    if kind == "GeometryCollection":
        members = data.get("geometries")
        if not isinstance(members, list) or not members:
            raise ValueError(f"{what} is a GeometryCollection with no geometries")
        return [p for k, g in enumerate(members) for p in _polygons(g, f"{what}, geometry {k}")]
    if kind not in _POLYGONS:
        raise ValueError(f"{what} is a {kind!r} geometry, not an area (Polygon or MultiPolygon)")
    coordinates = data.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        raise ValueError(f"{what} is a {kind} with no coordinates")
    return [coordinates] if kind == "Polygon" else list(coordinates)


def _closure_area(res: _Resolver, closure: Closure, where: str) -> dict[str, Any] | None:
    """The closure's area as one MultiPolygon of every polygon given (shapely unites them), or
    ``None`` with an error finding: an area never silently closes less than was written."""
    if closure.area is not None:
        data: object = closure.area
        what = "the area"
    else:
        assert closure.area_file is not None
        path = res.scenario.resolve(closure.area_file)
        what = f"area file {path}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            res.error("bad-area", where, f"cannot read area file {path}: {exc}", _AREA_HINT)
            return None
    try:
        return {"type": "MultiPolygon", "coordinates": _polygons(data, what)}
    except ValueError as exc:
        res.error("bad-area", where, f"{exc}: the closure would close nothing", _AREA_HINT)
        return None


def _closures(res: _Resolver, axis: TimeAxis) -> tuple[Windows, Windows]:
    arcs: list[tuple[int, int, int]] = []
    nodes: list[tuple[int, int, int]] = []
    net = res.network
    for i, c in enumerate(res.scenario.closures):
        where = f"closures[{i}] ({c.id})"
        a, b = res.window(axis, c.start, c.end)
        if b <= 0 or a > axis.horizon:
            res.warning(
                "closure-outside-plan",
                where,
                "its time lies outside the plan's (start to deadline): it closes nothing",
                "check its start and end (date, year, UTC offset)",
            )
        if c.arc is not None:
            arc = net.arc_index.get(c.arc)
            if arc is None:
                res.error("unknown-arc", where, f"no road from {c.arc[0]!r} to {c.arc[1]!r}")
                continue
            arcs.append((arc, a, b))
            if c.both_directions and (back := net.arc_index.get((c.arc[1], c.arc[0]))) is not None:
                arcs.append((back, a, b))
        elif c.node is not None:
            v = res.node(where, c.node, None, None)
            if v >= 0:
                nodes.append((v, a, b))
        else:
            area = _closure_area(res, c, where)
            if area is None:
                continue
            try:
                closed_arcs = arcs_crossing_area(net, area, where=where)
                closed_nodes = nodes_in_area(net, area, where=where)
            except InputError as exc:
                res.error("bad-area", where, exc.message, exc.hint or _AREA_HINT)
                continue
            except (ValueError, KeyError, TypeError) as exc:
                res.error("bad-area", where, f"not a GeoJSON polygon: {exc}", _AREA_HINT)
                continue
            if not len(closed_arcs) and not len(closed_nodes):
                res.warning(
                    "area-closes-nothing",
                    where,
                    "the area touches no road or node of the network",
                    "check its coordinates (lon, lat order; the network's crs)",
                )
            arcs += [(int(x), a, b) for x in closed_arcs]
            nodes += [(int(v), a, b) for v in closed_nodes]
    return _windows(arcs), _windows(nodes)


def _windows(rows: list[tuple[int, int, int]]) -> Windows:
    if not rows:
        return Windows.empty()
    arr = np.asarray(rows, dtype=np.int64)
    return Windows(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy())


def _people_per_hour(scenario: Scenario) -> float:
    return scenario.occupancy[scenario.mode]


def _checkpoints(res: _Resolver, axis: TimeAxis) -> tuple[IntArray, list[str], list[int]]:
    node_cap = np.full(res.network.n_nodes, UNLIMITED, dtype=np.int64)
    ids: list[str] = []
    nodes: list[int] = []
    for i, cp in enumerate(res.scenario.checkpoints):
        where = f"checkpoints[{i}] ({cp.id})"
        v = res.node(where, cp.node, cp.lon, cp.lat)
        if v < 0:
            continue
        rate = cp.people_per_hour
        if rate is None:
            assert cp.vehicles_per_hour is not None
            rate = cp.vehicles_per_hour * _people_per_hour(res.scenario)
        if not math.isfinite(rate):
            res.error(
                "bad-rate",
                where,
                f"throughput {rate} per hour is not a number",
                "leave a checkpoint out for no limit",
            )
            continue
        cap = int(axis.per_step(np.asarray([_per_hour_cap(rate, axis)]))[0])
        node_cap[v] = cap if node_cap[v] == UNLIMITED else min(cap, int(node_cap[v]))
        ids.append(cp.id)
        nodes.append(v)
    return node_cap, ids, nodes


def _per_hour_cap(rate: float | FloatArray, axis: TimeAxis) -> FloatArray:
    """Rates per hour no higher than MAX_PEOPLE per step (higher is the same: no limit)."""
    return np.minimum(np.asarray(rate, dtype=np.float64), MAX_PEOPLE * 60.0 / axis.dt)


def _limits(res: _Resolver, axis: TimeAxis) -> None:
    """Counts and sizes beyond anything real: errors, before any array is made of them."""
    scenario = res.scenario
    if axis.horizon > MAX_STEPS:
        res.error(
            "too-many-steps",
            "deadline",
            f"{axis.horizon:,} steps of {axis.dt:g} min from start to deadline (at most {MAX_STEPS:,})",
            "check start and deadline (date, year), or use a longer time_step",
        )
    ppv = scenario.occupancy[scenario.mode]
    if not math.isfinite(ppv):
        res.error("bad-occupancy", f"occupancy.{scenario.mode}", f"{ppv} people per vehicle", "give a number")
    for i, s in enumerate(scenario.sources):
        if s.people > MAX_PEOPLE:
            res.error(
                "too-many-people",
                f"sources[{i}] ({s.id})",
                f"{s.people:,} people",
                f"at most {MAX_PEOPLE:,} at one source",
            )
    for i, g in enumerate(scenario.groups):
        if g.priority > MAX_PRIORITY:
            hint = "priorities are 1 (first), 2, 3, ..."
            res.error("bad-priority", f"groups[{i}] ({g.name})", f"priority {g.priority:,}", hint)
    for i, d in enumerate(scenario.destinations):
        if d.capacity is not None and d.capacity > MAX_PEOPLE:
            res.error(
                "bad-capacity",
                f"destinations[{i}] ({d.id})",
                f"capacity {d.capacity:,} is more than {MAX_PEOPLE:,}",
                "leave capacity out for no limit",
            )


def compile_problem(scenario: Scenario, network: Network) -> tuple[Problem | None, list[Finding]]:
    """The problem and the findings; the problem is ``None`` if an error makes it meaningless."""
    res = _Resolver(scenario, network)
    axis = _axis(scenario)
    _limits(res, axis)
    if has_errors(res.findings):
        return None, res.findings
    groups = {g.name: k for k, g in enumerate(scenario.groups)}
    s_node, s_group = [], []
    for i, s in enumerate(scenario.sources):
        s_node.append(res.node(f"sources[{i}] ({s.id})", s.node, s.lon, s.lat))
        if s.group not in groups:
            res.error(
                "unknown-group",
                f"sources[{i}] ({s.id})",
                f"group {s.group!r} is not defined",
                f"add a [[groups]] entry named {s.group!r} or use one of {', '.join(groups)}",
            )
        s_group.append(groups.get(s.group, 0))
    d_node = [
        res.node(f"destinations[{i}] ({d.id})", d.node, d.lon, d.lat)
        for i, d in enumerate(scenario.destinations)
    ]
    if not scenario.sources:
        res.error("no-sources", "sources", "the scenario has no sources", "add [[sources]]")
    if not scenario.destinations:
        res.error("no-destinations", "destinations", "the scenario has no destinations")
    node_cap, cp_ids, cp_nodes = _checkpoints(res, axis)
    arc_closed, node_closed = _closures(res, axis)
    if has_errors(res.findings):
        return None, res.findings
    ppv = _people_per_hour(scenario)
    problem = Problem(
        name=scenario.name,
        network=network,
        axis=axis,
        tau=axis.steps_for(np.minimum(network.travel_time, OPEN_END * axis.dt)),
        arc_cap=axis.per_step(_per_hour_cap(network.capacity * ppv, axis)),
        node_cap=node_cap,
        arc_closed=arc_closed,
        node_closed=node_closed,
        source_ids=tuple(s.id for s in scenario.sources),
        source_node=np.asarray(s_node, dtype=np.int64),
        source_people=np.asarray([s.people for s in scenario.sources], dtype=np.int64),
        source_group=np.asarray(s_group, dtype=np.int64),
        group_names=tuple(g.name for g in scenario.groups),
        group_priority=np.asarray([g.priority for g in scenario.groups], dtype=np.int64),
        dest_ids=tuple(d.id for d in scenario.destinations),
        dest_node=np.asarray(d_node, dtype=np.int64),
        dest_cap=np.asarray(
            [UNLIMITED if d.capacity is None else d.capacity for d in scenario.destinations],
            dtype=np.int64,
        ),
        checkpoint_ids=tuple(cp_ids),
        checkpoint_node=np.asarray(cp_nodes, dtype=np.int64),
    )
    return problem, res.findings


def build_problem(scenario: Scenario, network: Network) -> Problem:
    """The problem, or a :class:`ScenarioError` listing every error found."""
    problem, findings = compile_problem(scenario, network)
    if problem is None:
        errors = [f.render() for f in findings if f.severity is Severity.ERROR]
        raise ScenarioError("; ".join(errors), hint="run 'corridor check' for all findings")
    return problem
