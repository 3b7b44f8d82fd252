"""Map layers as GeoJSON: the scenario's roads and places, its closures, a plan's routes, and an
operation's route points, vehicles and incidents.

Pure functions from the planner's objects to plain ``dict`` FeatureCollections that a browser map
(Leaflet) draws as they are, so that a map needs no tile server: everything drawn comes from the
scenario's own data. Coordinates are the network's (lon/lat for ``EPSG:4326``, else planar units),
rounded to 6 decimals (about 0.1 m in lon/lat): more digits only make the file bigger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from corridor.network.model import Network
from corridor.ops.route import RoutePoint
from corridor.ops.status import SubjectState
from corridor.plan.model import Plan, Route
from corridor.problem.model import Problem
from corridor.scenario.model import Closure, Scenario

Feature = dict[str, Any]
Collection = dict[str, Any]
XY = tuple[float, float]
# Above this many roads, each road is drawn straight between its end nodes (its bends dropped):
# a phone must draw the whole network in one go.
MAX_DETAILED_ROADS = 5000
DIGITS = 6


def collection(features: Iterable[Feature]) -> Collection:
    return {"type": "FeatureCollection", "features": list(features)}


def _xy(x: float, y: float) -> list[float]:
    return [round(float(x), DIGITS), round(float(y), DIGITS)]


def _line(points: Iterable[XY]) -> list[list[float]]:
    """Rounded positions with repeats (after rounding) removed."""
    out: list[list[float]] = []
    for x, y in points:
        p = _xy(x, y)
        if not out or out[-1] != p:
            out.append(p)
    return out


def _point(x: float, y: float, properties: dict[str, Any]) -> Feature:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _xy(x, y)},
        "properties": properties,
    }


def _node_xy(network: Network, node: int) -> XY:
    return float(network.x[node]), float(network.y[node])


# --- the scenario --------------------------------------------------------------------------------


def roads(network: Network, *, max_detailed: int = MAX_DETAILED_ROADS) -> Collection:
    """Every road once (an arc and its reverse are one line), as one MultiLineString feature.

    One feature, not one per road: a map draws it as a single path, cheap on a slow phone. With
    more than ``max_detailed`` roads, each is drawn straight between its end nodes.
    """
    if not network.has_coordinates or network.n_arcs == 0:
        return collection([])
    detailed = bool(network.geometry) and network.n_arcs <= max_detailed
    seen: set[tuple[int, int]] = set()
    lines: list[list[list[float]]] = []
    for arc, (u, v) in enumerate(zip(network.tail.tolist(), network.head.tolist(), strict=True)):
        key = (min(u, v), max(u, v))
        if key in seen:
            continue
        seen.add(key)
        polyline = network.arc_polyline(arc) if detailed else (_node_xy(network, u), _node_xy(network, v))
        line = _line(polyline)
        if len(line) >= 2:
            lines.append(line)
    geometry = {"type": "MultiLineString", "coordinates": lines}
    feature = {"type": "Feature", "geometry": geometry, "properties": {"roads": len(lines)}}
    return collection([feature] if lines else [])


def gathering_points(scenario: Scenario, problem: Problem) -> Collection:
    """One point per network node where people wait, with each source (group, people) there.

    Sources at the same node (the wounded and the others of one gathering point) share a point,
    so that no marker hides another.
    """
    groups = {g.name: g.priority for g in scenario.groups}
    node_of = dict(zip(problem.source_ids, problem.source_node.tolist(), strict=True))
    by_node: dict[int, list[dict[str, Any]]] = {}
    for source in scenario.sources:
        node = node_of.get(source.id)
        if node is not None:
            row = {"id": source.id, "group": source.group, "people": source.people}
            by_node.setdefault(node, []).append(row)
    net = problem.network
    features = []
    for node, sources in by_node.items():
        sources.sort(key=lambda s: (groups.get(s["group"], 99), s["id"]))
        properties = {
            "node": net.node_ids[node],
            "people": sum(s["people"] for s in sources),
            "sources": sources,
        }
        features.append(_point(*_node_xy(net, node), properties))
    return collection(features)


def destinations(scenario: Scenario, problem: Problem) -> Collection:
    """Reception points, with the people each may receive (``None``: unlimited)."""
    node_of = dict(zip(problem.dest_ids, problem.dest_node.tolist(), strict=True))
    net = problem.network
    return collection(
        _point(
            *_node_xy(net, node_of[d.id]),
            {"id": d.id, "node": net.node_ids[node_of[d.id]], "capacity": d.capacity},
        )
        for d in scenario.destinations
        if d.id in node_of
    )


def checkpoints(scenario: Scenario, problem: Problem) -> Collection:
    """Checkpoints, with the people they pass per hour."""
    node_of = dict(zip(problem.checkpoint_ids, problem.checkpoint_node.tolist(), strict=True))
    occupancy = scenario.occupancy[scenario.mode]
    net = problem.network
    features = []
    for c in scenario.checkpoints:
        if c.id not in node_of:
            continue
        per_hour = (
            c.people_per_hour if c.people_per_hour is not None else (c.vehicles_per_hour or 0) * occupancy
        )
        node = node_of[c.id]
        properties = {"id": c.id, "node": net.node_ids[node], "people_per_hour": round(per_hour, 1)}
        features.append(_point(*_node_xy(net, node), properties))
    return collection(features)


def closures(scenario: Scenario, network: Network) -> Collection:
    """Hazard areas (polygons), closed roads (lines) and closed places (points), each with its
    window (``start``/``end`` in ISO 8601, ``None`` for always/never) and reason."""
    features = []
    for closure in scenario.closures:
        geometry = _closure_geometry(scenario, network, closure)
        if geometry is None:
            continue
        kind = "arc" if closure.arc else "node" if closure.node else "area"
        properties = {
            "id": closure.id,
            "kind": kind,
            "reason": closure.reason,
            "start": closure.start.isoformat() if closure.start else None,
            "end": closure.end.isoformat() if closure.end else None,
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return collection(features)


def _closure_geometry(scenario: Scenario, network: Network, closure: Closure) -> dict[str, Any] | None:
    if closure.arc is not None:
        arc = network.arc_index.get(closure.arc)
        if arc is None:
            arc = network.arc_index.get((closure.arc[1], closure.arc[0]))
        return (
            None if arc is None else {"type": "LineString", "coordinates": _line(network.arc_polyline(arc))}
        )
    if closure.node is not None:
        node = network.index.get(closure.node)
        return None if node is None else {"type": "Point", "coordinates": _xy(*_node_xy(network, node))}
    area = closure.area if closure.area is not None else _area_file(scenario, closure.area_file or "")
    if not isinstance(area, dict) or area.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    return {"type": area["type"], "coordinates": area.get("coordinates", [])}


def _area_file(scenario: Scenario, name: str) -> dict[str, Any] | None:
    """The first geometry of a GeoJSON file (None if unreadable: ``corridor check`` says why)."""
    try:
        data = json.loads(scenario.resolve(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        geometry = features[0].get("geometry") if features and isinstance(features[0], dict) else None
        return geometry if isinstance(geometry, dict) else None
    geometry = data.get("geometry", data)
    return geometry if isinstance(geometry, dict) else None


# --- a plan --------------------------------------------------------------------------------------


def plan_routes(plan: Plan, network: Network) -> Collection:
    """The plan's routes, one line per distinct path (loops cut, see :func:`without_loops`), with
    the people on it (a map draws the width by people), by group, the sources, and the first and
    last departure.

    The ``people`` of all features add up to the people the plan gets out (routes of no road,
    people already at a reception point, have no line and count in no feature).
    """
    paths: dict[tuple[int, ...], dict[str, Any]] = {}
    for route in plan.routes:
        arcs = without_loops(route.nodes, route.arcs)
        leaves = leaves_at(route)
        if not arcs or leaves is None:
            continue
        entry = paths.setdefault(
            arcs,
            {"people": 0, "groups": {}, "sources": set(), "first": leaves, "last": leaves},
        )
        entry["people"] += route.people
        entry["groups"][route.group] = entry["groups"].get(route.group, 0) + route.people
        entry["sources"].add(route.source)
        entry["first"] = min(entry["first"], leaves)
        entry["last"] = max(entry["last"], leaves)
        entry["destination"] = route.destination
        entry["from"], entry["to"] = route.nodes[0], route.nodes[-1]
    features = []
    for arcs, entry in sorted(paths.items(), key=lambda item: -item[1]["people"]):
        line: list[XY] = []
        for arc in arcs:
            line.extend(network.arc_polyline(arc))
        properties = {
            "people": entry["people"],
            "groups": entry["groups"],
            "sources": sorted(entry["sources"]),
            "from": entry["from"],
            "to": entry["to"],
            "destination": entry["destination"],
            "first_departure": _at(plan, entry["first"]),
            "last_departure": _at(plan, entry["last"]),
        }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": _line(line)},
                "properties": properties,
            }
        )
    return collection(features)


def loop_free(nodes: Sequence[str], arcs: Sequence[int]) -> tuple[int, ...]:
    """Positions of the hops of a route that remain once its loops are cut: the path from its
    first node to its last.

    A plan may send people round a loop while they wait for a road or checkpoint to free up
    (waiting and driving round cost the same in a flow over time). Waiting where the loop starts
    instead, and then taking the remaining hops at their planned steps, is as feasible (waiting
    at a node is unlimited; fewer roads are used) and arrives at the same step: so the map shows
    where people go, and a departure is when people take the first remaining hop.
    """
    if not nodes:
        return ()
    kept_nodes = [nodes[0]]
    kept: list[int] = []
    position = {nodes[0]: 0}
    for hop, node in enumerate(nodes[1 : len(arcs) + 1]):
        if node in position:
            cut = position[node]
            for dropped in kept_nodes[cut + 1 :]:
                del position[dropped]
            del kept_nodes[cut + 1 :]
            del kept[cut:]
        else:
            position[node] = len(kept_nodes)
            kept_nodes.append(node)
            kept.append(hop)
    return tuple(kept)


def without_loops(nodes: Sequence[str], arcs: Sequence[int]) -> tuple[int, ...]:
    """The arcs of a route with its loops cut (see :func:`loop_free`)."""
    return tuple(arcs[hop] for hop in loop_free(nodes, arcs))


def leaves_at(route: Route) -> int | None:
    """The step people of ``route`` leave their source, loops cut (None: no hop to take)."""
    kept = loop_free(route.nodes, route.arcs)
    return route.departures[kept[0]] if kept else None


def _at(plan: Plan, step: int) -> str:
    return plan.time_of(step).isoformat()


# --- an operation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """Where a route point stands on the map and how that was found: ``plan`` (the published
    plan's point -> node mapping), ``node`` (its id is a network node), ``scenario`` (its id is
    a source, reception point or checkpoint of the scenario) or ``coordinates`` (the route's
    own lon/lat)."""

    x: float
    y: float
    how: str


def place_route_points(
    points: Sequence[RoutePoint],
    *,
    problem: Problem | None,
    plan_nodes: Mapping[str, str],
    coordinates: Mapping[str, XY],
) -> dict[str, Placed]:
    """Where each route point stands; a point found by none of the ways is left out."""
    network = problem.network if problem is not None and problem.network.has_coordinates else None
    known = _scenario_places(problem) if problem is not None else {}
    placed: dict[str, Placed] = {}
    for point in points:
        found = None if network is None else _node_of(point.id, network, known, plan_nodes)
        if network is not None and found is not None:
            placed[point.id] = Placed(*_node_xy(network, found[0]), found[1])
        elif point.id in coordinates:
            placed[point.id] = Placed(*coordinates[point.id], "coordinates")
    return placed


def _node_of(
    point_id: str, network: Network, known: Mapping[str, int], plan_nodes: Mapping[str, str]
) -> tuple[int, str] | None:
    node = plan_nodes.get(point_id)
    if node is not None and node in network.index:
        return network.index[node], "plan"
    if point_id in network.index:
        return network.index[point_id], "node"
    if point_id in known:
        return known[point_id], "scenario"
    return None


def _scenario_places(problem: Problem) -> dict[str, int]:
    """Node of each source, reception point and checkpoint, by its id."""
    places: dict[str, int] = {}
    for ids, nodes in (
        (problem.source_ids, problem.source_node),
        (problem.dest_ids, problem.dest_node),
        (problem.checkpoint_ids, problem.checkpoint_node),
    ):
        places.update(zip(ids, nodes.tolist(), strict=True))
    return places


def route_points(points: Sequence[RoutePoint], placed: Mapping[str, Placed]) -> Collection:
    """The operation's route points that have a place, in route order."""
    return collection(
        _point(
            placed[p.id].x,
            placed[p.id].y,
            {"id": p.id, "name": p.name, "kind": str(p.kind), "order": i, "placed_by": placed[p.id].how},
        )
        for i, p in enumerate(points)
        if p.id in placed
    )


def vehicles(states: Iterable[SubjectState], placed: Mapping[str, Placed]) -> Collection:
    """Vehicles at the route point they were last seen at: one point per route point, listing
    the vehicles there (id, status, when seen), so that no marker hides another. Vehicles never
    seen, or last seen at a point with no place, are left out."""
    at: dict[str, list[dict[str, Any]]] = {}
    for state in states:
        point = state.last_seen_point
        if state.kind != "vehicle" or point is None or point not in placed:
            continue
        seen = state.last_seen_at.isoformat() if state.last_seen_at else None
        at.setdefault(point, []).append(
            {"id": state.subject_id, "status": str(state.status), "seen_at": seen}
        )
    return collection(
        _point(
            placed[point].x,
            placed[point].y,
            {"point": point, "vehicles": sorted(found, key=lambda v: v["id"])},
        )
        for point, found in sorted(at.items())
    )


@dataclass(frozen=True)
class IncidentMark:
    """What the map shows of an incident: no description, no people."""

    id: str
    kind: str
    occurred_at: datetime
    place_name: str | None
    lon: float | None
    lat: float | None


def incidents(items: Iterable[IncidentMark]) -> Collection:
    """Incidents that have coordinates."""
    return collection(
        _point(
            i.lon,
            i.lat,
            {"id": i.id, "kind": i.kind, "occurred_at": i.occurred_at.isoformat(), "place": i.place_name},
        )
        for i in items
        if i.lon is not None and i.lat is not None
    )


def scenario_layers(scenario: Scenario, problem: Problem) -> dict[str, Collection]:
    """Every layer of the scenario itself, by name."""
    return {
        "roads": roads(problem.network),
        "hazards": closures(scenario, problem.network),
        "gathering": gathering_points(scenario, problem),
        "checkpoints": checkpoints(scenario, problem),
        "reception": destinations(scenario, problem),
    }
