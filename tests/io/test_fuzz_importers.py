"""Fuzzing the network importers and the network build behind them: random edits of real files
(the example's GeoJSON network, SiouxFalls in TNTP, DIMACS flow instances), random values in the
GeoJSON structure, and OpenStreetMap extracts cut short at random points (and at the ends of their
blocks) or with bytes changed. Every input is read or refused with the project's own error naming
the file; nothing else is ever raised. ``CORRIDOR_FUZZ_EXAMPLES=5000`` runs longer.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.io.dimacs import read_dimacs
from corridor.io.geojson import read_roads
from corridor.io.osm import read_osm
from corridor.io.tntp import read_tntp_net, read_tntp_nodes
from corridor.network.build import load_network
from corridor.scenario.model import NetworkRef
from fuzz_inputs import changed_structure, edited_bytes, edited_text, extreme_leaf, only_our_errors
from reference import SHARED_DATA

EXAMPLES = int(os.environ.get("CORRIDOR_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GEOJSON = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "network.geojson"
SIOUX = SHARED_DATA / "tntp" / "SiouxFalls"
FLOWS = SHARED_DATA / "flow-reference"
OSM = SHARED_DATA / "osm-pyrosm" / "test.osm.pbf"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _data(path: Path) -> bytes:
    return path.read_bytes() if path.is_file() else b""


def _need(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"reference data not found: {', '.join(missing)}")


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as scratch:
        yield Path(scratch)


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


# --- GeoJSON ------------------------------------------------------------------------------------


def _geojson(folder: Path, content: str) -> None:
    path = _write(folder, "roads.geojson", content)
    only_our_errors(lambda: read_roads(path), str(path))
    ref = NetworkRef(format="geojson", path=path.name)
    only_our_errors(lambda: load_network(ref, folder), str(path))


@FUZZ
@given(text=edited_text(_text(GEOJSON)))
def test_edited_geojson_network(folder: Path, text: str) -> None:
    _geojson(folder, text)


@FUZZ
@given(data=changed_structure(json.loads(_text(GEOJSON) or "{}")))
def test_random_values_in_a_geojson_network(folder: Path, data: Any) -> None:
    _geojson(folder, json.dumps(data, default=str))


@FUZZ
@pytest.mark.filterwarnings("error::RuntimeWarning")  # a number cast to garbage on the way
@given(data=extreme_leaf(json.loads(_text(GEOJSON) or "{}")))
def test_extreme_numbers_in_a_geojson_network(folder: Path, data: Any) -> None:
    _geojson(folder, json.dumps(data, default=str))


# --- TNTP ---------------------------------------------------------------------------------------


def _tntp(folder: Path, net: str, nodes: str) -> None:
    net_path = _write(folder, "Fuzz_net.tntp", net)
    node_path = _write(folder, "Fuzz_node.tntp", nodes)
    only_our_errors(lambda: read_tntp_net(net_path), str(net_path))
    only_our_errors(lambda: read_tntp_nodes(node_path), str(node_path))
    ref = NetworkRef(format="tntp", path=net_path.name, nodes=node_path.name, time_unit="0.01h")
    only_our_errors(lambda: load_network(ref, folder), str(folder))


@FUZZ
@given(net=edited_text(_text(SIOUX / "SiouxFalls_net.tntp")))
def test_edited_tntp_network(folder: Path, net: str) -> None:
    _need(SIOUX / "SiouxFalls_net.tntp", SIOUX / "SiouxFalls_node.tntp")
    _tntp(folder, net, _text(SIOUX / "SiouxFalls_node.tntp"))


@FUZZ
@given(nodes=edited_text(_text(SIOUX / "SiouxFalls_node.tntp")))
def test_edited_tntp_nodes(folder: Path, nodes: str) -> None:
    _need(SIOUX / "SiouxFalls_net.tntp", SIOUX / "SiouxFalls_node.tntp")
    _tntp(folder, _text(SIOUX / "SiouxFalls_net.tntp"), nodes)


# --- DIMACS -------------------------------------------------------------------------------------

DIMACS = ["lemon-mcf-1.min", "igraph-simple.max", "skutella-flows-over-time-example.txt"]


@FUZZ
@given(data=st.data(), name=st.sampled_from(DIMACS))
def test_edited_dimacs(folder: Path, data: st.DataObject, name: str) -> None:
    _need(FLOWS / name)
    path = _write(folder, name, data.draw(edited_text(_text(FLOWS / name))))
    only_our_errors(lambda: read_dimacs(path), str(path))


# --- OpenStreetMap ------------------------------------------------------------------------------


def _block_ends(data: bytes) -> list[int]:
    """Where each block of a PBF file ends (a 4-byte header size, the header, then the blob)."""
    ends, at = [], 0
    while at + 4 <= len(data):
        size = struct.unpack(">I", data[at : at + 4])[0]
        header = data[at + 4 : at + 4 + size]
        blob = _varint_field(header, 3)  # BlobHeader.datasize
        if blob is None:
            break
        at += 4 + size + blob
        ends.append(at)
    return ends


def _varint_field(message: bytes, number: int) -> int | None:
    i = 0
    while i < len(message):
        key, i = _varint(message, i)
        if key & 7 == 0:
            value, i = _varint(message, i)
            if key >> 3 == number:
                return value
        elif key & 7 == 2:
            size, i = _varint(message, i)
            i += size
        else:
            return None
    return None


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _osm(folder: Path, content: bytes) -> None:
    path = _write(folder, "fuzz.osm.pbf", content)
    only_our_errors(lambda: read_osm(path), str(path))
    ref = NetworkRef(format="osm", path=path.name)
    only_our_errors(lambda: load_network(ref, folder), str(path))


def test_osm_cut_at_the_end_of_each_block(folder: Path) -> None:
    _need(OSM)
    data = OSM.read_bytes()
    ends = _block_ends(data)
    assert ends[-1] == len(data), "the block walk should end at the end of the file"
    for cut in [0, 1, 4, *ends, *(e + 4 for e in ends[:-1]), *(e + 9 for e in ends[:-1])]:
        _osm(folder, data[:cut])


@settings(max_examples=max(10, EXAMPLES // 4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=edited_bytes(_data(OSM)))
def test_edited_osm_extract(folder: Path, content: bytes) -> None:
    _need(OSM)
    _osm(folder, content)


def test_an_extract_without_roads_is_one_error_and_no_warning(folder: Path) -> None:
    """Cut after its first data block, the extract holds nodes but no roads: one error naming the
    file says so (pyrosm's own warning about it is not passed on)."""
    _need(OSM)
    data = OSM.read_bytes()
    path = _write(folder, "cut.osm.pbf", data[: _block_ends(data)[1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = only_our_errors(lambda: read_osm(path), str(path))
    assert error is not None and "no drivable roads" in error.message


# --- Found by fuzzing: values the readers took and the planner could not ----------------------

LINK_VALUES = {
    "capacity 1e999": (3, "1e999", "capacity '1e999' is not a finite number"),
    "capacity inf": (3, "inf", "capacity 'inf' is not a finite number"),
    "capacity nan": (3, "nan", "capacity 'nan' is not a finite number"),
    "time inf": (5, "inf", "free_flow_time 'inf' is not a finite number"),
    "length negative": (4, "-5", "length is negative"),
}


@pytest.mark.parametrize("name", list(LINK_VALUES))
def test_a_link_value_that_is_no_quantity_is_refused(folder: Path, name: str) -> None:
    _need(SIOUX / "SiouxFalls_net.tntp", SIOUX / "SiouxFalls_node.tntp")
    column, value, expected = LINK_VALUES[name]
    lines = _text(SIOUX / "SiouxFalls_net.tntp").split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip()[:1].isdigit())
    cells = lines[first].split("\t")
    cells[column] = value
    lines[first] = "\t".join(cells)
    net = _write(folder, "Bad_net.tntp", "\n".join(lines))
    _write(folder, "Bad_node.tntp", _text(SIOUX / "SiouxFalls_node.tntp"))
    ref = NetworkRef(format="tntp", path=net.name, nodes="Bad_node.tntp", time_unit="0.01h")
    error = only_our_errors(lambda: load_network(ref, folder), f"{net}:{first + 1}")
    assert error is not None and expected in error.message


@pytest.mark.parametrize("field", ["capacity_hours", "default_capacity", "default_speed_kmh"])
def test_an_infinite_network_setting_is_refused(folder: Path, field: str) -> None:
    path = _write(folder, "roads.geojson", _text(GEOJSON))
    ref = NetworkRef.model_validate({"format": "geojson", "path": path.name, field: float("inf")})
    error = only_our_errors(lambda: load_network(ref, folder), f"network.{field}")
    assert error is not None


def _moved(point: bool, lat: float) -> dict[str, Any]:
    """The example network with one node (or one point of one road's line) at latitude ``lat``."""
    data: dict[str, Any] = json.loads(_text(GEOJSON))
    kind = "Point" if point else "LineString"
    feature = next(f for f in data["features"] if f["geometry"]["type"] == kind)
    coords = feature["geometry"]["coordinates"]
    (coords if point else coords[0])[1] = lat
    return data


@pytest.mark.parametrize("lat", [91.0, -500.0, 1e300])
@pytest.mark.parametrize("point", [True, False], ids=["node", "road line"])
def test_a_position_off_the_globe_is_refused(folder: Path, point: bool, lat: float) -> None:
    """Found by fuzzing: a latitude of 500 made a road of 11,000 km, read without a word."""
    path = _write(folder, "roads.geojson", json.dumps(_moved(point, lat)))
    ref = NetworkRef(format="geojson", path=path.name)
    error = only_our_errors(lambda: load_network(ref, folder), str(path))
    assert error is not None and "not a lon/lat position" in error.message
    planar = NetworkRef(format="geojson", path=path.name, crs="EPSG:3857")  # metres: any number
    if abs(lat) < 1e6:
        assert load_network(planar, folder).n_nodes > 0
