"""Map layers on the East Aleppo example: valid GeoJSON, every place of the scenario, routes that
carry exactly the people the plan gets out, and an operation's points, vehicles and incidents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape

from corridor.ops.route import PointKind, RoutePoint
from corridor.ops.status import SubjectState
from corridor.plan.model import Route
from corridor.reports import layers
from corridor.scenario.model import Closure
from corridor.solve.pipeline import Planned, plan_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
ROUTE = (
    RoutePoint("amiriyah", "al-Amiriyah crossing", PointKind.DEPARTURE, 0),
    RoutePoint("ramouseh", "Ramouseh checkpoint", PointKind.CHECKPOINT, 25),
    RoutePoint("rashideen", "al-Rashideen", PointKind.ARRIVAL, 55),
)
AT = datetime(2016, 12, 15, 13, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def aleppo() -> Planned:
    return plan_file(EXAMPLE)


def check(collection: dict[str, Any]) -> list[dict[str, Any]]:
    """The features of a valid FeatureCollection (each geometry valid and not empty)."""
    assert collection["type"] == "FeatureCollection"
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["properties"], dict)
        geometry = shape(feature["geometry"])
        assert geometry.is_valid and not geometry.is_empty, feature
    features: list[dict[str, Any]] = collection["features"]
    return features


def test_every_layer_of_the_scenario_and_plan_has_valid_geometry(aleppo: Planned) -> None:
    found = layers.scenario_layers(aleppo.scenario, aleppo.problem)
    found["routes"] = layers.plan_routes(aleppo.plan, aleppo.problem.network)
    assert set(found) == {"roads", "hazards", "gathering", "checkpoints", "reception", "routes"}
    for name, collection in found.items():
        assert check(collection), name


def test_the_places_are_those_of_the_scenario(aleppo: Planned) -> None:
    scenario = aleppo.scenario
    gathering = check(layers.gathering_points(scenario, aleppo.problem))
    listed = [s["id"] for f in gathering for s in f["properties"]["sources"]]
    assert sorted(listed) == sorted(s.id for s in scenario.sources)  # every source, once
    assert sum(f["properties"]["people"] for f in gathering) == scenario.people == 9000
    assert len(gathering) == len({s.node for s in scenario.sources}) == 6
    mashhad = next(f for f in gathering if f["properties"]["node"] == "mashhad")
    assert [s["group"] for s in mashhad["properties"]["sources"]] == ["wounded", "general"]
    reception = check(layers.destinations(scenario, aleppo.problem))
    assert [f["properties"]["id"] for f in reception] == [d.id for d in scenario.destinations]
    checkpoints = check(layers.checkpoints(scenario, aleppo.problem))
    assert len(checkpoints) == len(scenario.checkpoints) == 1
    assert checkpoints[0]["properties"]["people_per_hour"] == 600  # 12 buses of 50 an hour


def test_closures_carry_their_window_and_reason(aleppo: Planned) -> None:
    hazards = check(layers.closures(aleppo.scenario, aleppo.problem.network))
    by_id = {f["properties"]["id"]: f for f in hazards}
    hold, shelling = by_id["checkpoint-hold-16dec"], by_id["shelling-short-road"]
    assert hold["geometry"]["type"] == "Point" and hold["properties"]["kind"] == "node"
    assert shelling["geometry"]["type"] == "LineString"
    assert shelling["properties"]["start"] == "2016-12-15T22:00:00+02:00"
    assert shelling["properties"]["end"] == "2016-12-16T00:00:00+02:00"
    assert "shelling" in shelling["properties"]["reason"]


def test_an_area_closure_is_drawn_as_its_polygon(aleppo: Planned) -> None:
    ring = [[37.12, 36.16], [37.14, 36.16], [37.14, 36.18], [37.12, 36.18], [37.12, 36.16]]
    area = Closure(id="smoke", area={"type": "Polygon", "coordinates": [ring]}, reason="smoke")
    scenario = aleppo.scenario.model_copy(update={"closures": (area,)})
    (feature,) = check(layers.closures(scenario, aleppo.problem.network))
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["start"] is None and feature["properties"]["end"] is None


def test_route_features_carry_exactly_the_people_the_plan_gets_out(aleppo: Planned) -> None:
    routes = check(layers.plan_routes(aleppo.plan, aleppo.problem.network))
    assert sum(f["properties"]["people"] for f in routes) == aleppo.plan.evacuated == 8010
    by_group: dict[str, int] = {}
    for feature in routes:
        for group, people in feature["properties"]["groups"].items():
            by_group[group] = by_group.get(group, 0) + people
    assert by_group == aleppo.plan.by_group()
    destinations = {d.node for d in aleppo.scenario.destinations}
    assert all(f["properties"]["to"] in destinations for f in routes)
    # Each line is a path without loops: no position twice.
    for feature in routes:
        positions = [tuple(p) for p in feature["geometry"]["coordinates"]]
        assert len(positions) == len(set(positions))


def test_roads_are_one_line_per_road_and_straight_when_there_are_too_many(aleppo: Planned) -> None:
    network = aleppo.problem.network
    pairs = {
        (min(u, v), max(u, v)) for u, v in zip(network.tail.tolist(), network.head.tolist(), strict=True)
    }
    (detailed,) = check(layers.roads(network))
    assert detailed["geometry"]["type"] == "MultiLineString"
    assert len(detailed["geometry"]["coordinates"]) == len(pairs)
    (straight,) = check(layers.roads(network, max_detailed=0))
    assert all(len(line) == 2 for line in straight["geometry"]["coordinates"])


def test_loops_are_cut_and_people_leave_when_they_take_the_path() -> None:
    assert layers.loop_free(("a", "b", "c", "b", "d"), (0, 1, 2, 3)) == (0, 3)
    assert layers.without_loops(("a", "b", "a", "c"), (5, 6, 7)) == (7,)
    assert layers.loop_free(("a",), ()) == ()
    route = Route("s", "general", 10, "d", ("a", "b", "a", "c"), (5, 6, 7), (0, 4, 9), 12)
    assert layers.leaves_at(route) == 9  # waits at "a" until the hop that leads out
    assert layers.leaves_at(Route("s", "general", 3, "d", ("d",), (), (), 0)) is None


def test_route_points_are_placed_by_plan_node_id_scenario_or_coordinates(aleppo: Planned) -> None:
    placed = layers.place_route_points(ROUTE, problem=aleppo.problem, plan_nodes={}, coordinates={})
    assert {p: placed[p].how for p in placed} == {
        "amiriyah": "node",
        "ramouseh": "scenario",
        "rashideen": "node",
    }
    network = aleppo.problem.network
    checkpoint = network.index["ramouseh-checkpoint"]
    assert (placed["ramouseh"].x, placed["ramouseh"].y) == (network.x[checkpoint], network.y[checkpoint])

    elsewhere = (*ROUTE, RoutePoint("field", "a field", PointKind.ARRIVAL, 90))
    placed = layers.place_route_points(
        elsewhere,
        problem=aleppo.problem,
        plan_nodes={"amiriyah": "amiriyah-crossing"},
        coordinates={"field": (37.0, 36.2), "rashideen": (1.0, 1.0)},
    )
    assert placed["amiriyah"].how == "plan" and placed["rashideen"].how == "node"
    assert (placed["field"].x, placed["field"].y, placed["field"].how) == (37.0, 36.2, "coordinates")
    points = check(layers.route_points(elsewhere, placed))
    assert [f["properties"]["order"] for f in points] == [0, 1, 2, 3]

    without_scenario = layers.place_route_points(ROUTE, problem=None, plan_nodes={}, coordinates={})
    assert without_scenario == {}


def test_vehicles_stand_at_the_point_they_were_last_seen(aleppo: Planned) -> None:
    placed = layers.place_route_points(ROUTE, problem=aleppo.problem, plan_nodes={}, coordinates={})
    states = [
        SubjectState("vehicle", "BUS-01", progress=1, last_seen_at=AT, last_seen_point="ramouseh"),
        SubjectState("vehicle", "AMB-2", progress=1, last_seen_at=AT, last_seen_point="ramouseh"),
        SubjectState("vehicle", "BUS-02", progress=0, last_seen_at=AT, last_seen_point="amiriyah"),
        SubjectState("vehicle", "BUS-03", last_seen_point="nowhere"),
        SubjectState("vehicle", "BUS-04"),
        SubjectState("person", "p-1", progress=1, last_seen_at=AT, last_seen_point="ramouseh"),
    ]
    features = check(layers.vehicles(states, placed))
    at = {f["properties"]["point"]: [v["id"] for v in f["properties"]["vehicles"]] for f in features}
    assert at == {"amiriyah": ["BUS-02"], "ramouseh": ["AMB-2", "BUS-01"]}
    ramouseh = next(f for f in features if f["properties"]["point"] == "ramouseh")
    assert ramouseh["properties"]["vehicles"][1]["status"] == "passed_checkpoint"


def test_only_incidents_with_coordinates_are_drawn_and_without_description() -> None:
    marks = [
        layers.IncidentMark("i1", "shelling", AT, "west of Ramouseh", 37.118, 36.163),
        layers.IncidentMark("i2", "detention", AT, "somewhere", None, None),
    ]
    (feature,) = check(layers.incidents(marks))
    assert feature["properties"] == {
        "id": "i1",
        "kind": "shelling",
        "occurred_at": "2016-12-15T13:00:00+00:00",
        "place": "west of Ramouseh",
    }
