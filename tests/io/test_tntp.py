"""TNTP reader: the eight shared networks parse to their published sizes; bad files say where."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corridor.core.errors import NetworkError
from corridor.io.tntp import read_tntp_net, read_tntp_nodes
from reference import SHARED_DATA

DATA = SHARED_DATA
TNTP = DATA / "tntp"
needs_data = pytest.mark.skipif(
    not TNTP.is_dir(), reason=f"shared TNTP data not found at {TNTP} (repo sits beside shared/)"
)

# folder, net file, zones, nodes, links, first thru node (SOURCE.md table and the headers)
NETWORKS = [
    ("Braess-Example", "Braess_net.tntp", 2, 4, 5, 1),
    ("SiouxFalls", "SiouxFalls_net.tntp", 24, 24, 76, 1),
    ("Berlin-Friedrichshain", "friedrichshain-center_net.tntp", 23, 224, 523, 24),
    ("Anaheim", "Anaheim_net.tntp", 38, 416, 914, 39),
    ("Chicago-Sketch", "ChicagoSketch_net.tntp", 387, 933, 2950, 1),
    ("Winnipeg", "Winnipeg_net.tntp", 147, 1052, 2836, 148),
    ("Barcelona", "Barcelona_net.tntp", 110, 1020, 2522, 111),
    ("Berlin-Center", "berlin-center_net.tntp", 865, 12981, 28376, 866),
]

HEADER = (
    "<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 3\n<FIRST THRU NODE> 1\n<NUMBER OF LINKS> {links}\n"
    "<END OF METADATA>\n\n~\tinit_node\tterm_node\tcapacity\tlength\tfree_flow_time\t;\n"
)


def write_net(tmp_path: Path, rows: str, links: int = 2) -> Path:
    path = tmp_path / "tiny_net.tntp"
    path.write_text(HEADER.format(links=links) + rows)
    return path


@needs_data
@pytest.mark.parametrize(("folder", "name", "zones", "nodes", "links", "thru"), NETWORKS)
def test_shared_networks_match_their_metadata(
    folder: str, name: str, zones: int, nodes: int, links: int, thru: int
) -> None:
    net = read_tntp_net(TNTP / folder / name)
    assert (net.number_of_zones, net.number_of_nodes, net.n_links) == (zones, nodes, links)
    assert net.first_thru_node == thru
    assert net.number_of_links == links
    assert net.init_node.min() >= 1 and max(net.init_node.max(), net.term_node.max()) <= nodes
    assert np.isfinite(net.capacity).all() and np.isfinite(net.free_flow_time).all()


@needs_data
def test_sioux_falls_first_row_and_line_numbers() -> None:
    net = read_tntp_net(TNTP / "SiouxFalls" / "SiouxFalls_net.tntp")
    assert (net.init_node[0], net.term_node[0]) == (1, 2)
    assert net.capacity[0] == pytest.approx(25900.20064)
    assert (net.length[0], net.free_flow_time[0], net.b[0], net.power[0]) == (6, 6, 0.15, 4)
    assert net.link_type[0] == 1
    assert net.line[0] == 10  # 6 metadata lines, 2 blank, 1 '~' header, then the first link
    assert net.metadata["NUMBER OF NODES"] == "24"


@needs_data
def test_braess_last_row_with_semicolon_glued_to_the_value() -> None:
    net = read_tntp_net(TNTP / "Braess-Example" / "Braess_net.tntp")
    assert (net.init_node[-1], net.term_node[-1]) == (4, 2)
    assert net.free_flow_time[-1] == pytest.approx(1e-8)
    assert net.link_type[-1] == 1


@needs_data
def test_node_files_text_and_geojson() -> None:
    sioux = read_tntp_nodes(TNTP / "SiouxFalls" / "SiouxFalls_node.tntp")
    assert len(sioux.node) == 24
    assert (sioux.x[0], sioux.y[0]) == (-96.77041974, 43.61282792)
    berlin = read_tntp_nodes(TNTP / "Berlin-Center" / "berlin-center_node.tntp")
    assert len(berlin.node) == 12981
    assert (berlin.node[-1], berlin.x[-1], berlin.y[-1]) == (12981, 34.3806, 19.4111)
    anaheim = read_tntp_nodes(TNTP / "Anaheim" / "anaheim_nodes.geojson")
    assert sorted(anaheim.node.tolist()) == list(range(1, 417))
    first = int(np.flatnonzero(anaheim.node == 1)[0])
    assert anaheim.x[first] == pytest.approx(-117.880141713707729)
    assert anaheim.y[first] == pytest.approx(33.871155530597115)


def test_tiny_file_without_trailing_columns(tmp_path: Path) -> None:
    net = read_tntp_net(write_net(tmp_path, "\t1\t2\t100\t5\t1.5\t;\n\t2\t3\t200\t6\t2.5\t;\n"))
    assert net.term_node.tolist() == [2, 3]
    assert net.free_flow_time.tolist() == [1.5, 2.5]
    assert np.isnan(net.b).all() and np.isnan(net.link_type).all()


def test_file_without_metadata_takes_the_largest_node(tmp_path: Path) -> None:
    path = tmp_path / "bare_net.tntp"
    path.write_text("~ comment\n1 7 100 5 1 ;\n7 1 100 5 1 ;\n")
    net = read_tntp_net(path)
    assert net.number_of_nodes == 7 and net.number_of_zones is None and net.n_links == 2


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="file not found") as info:
        read_tntp_net(tmp_path / "absent_net.tntp")
    assert info.value.where == str(tmp_path / "absent_net.tntp")


def test_bad_number_names_file_line_and_column(tmp_path: Path) -> None:
    path = write_net(tmp_path, "\t1\t2\t100\t5\t1.5\t;\n\t2\t3\tlots\t6\t2.5\t;\n")
    with pytest.raises(NetworkError, match="capacity 'lots' is not a number") as info:
        read_tntp_net(path)
    assert info.value.where == f"{path}:9"
    assert info.value.hint and "init_node" in info.value.hint


def test_short_row(tmp_path: Path) -> None:
    path = write_net(tmp_path, "\t1\t2\t100\t5\t1.5\t;\n\t2\t3\t;\n")
    with pytest.raises(NetworkError, match="at least 5") as info:
        read_tntp_net(path)
    assert info.value.where == f"{path}:9"


def test_node_out_of_range(tmp_path: Path) -> None:
    path = write_net(tmp_path, "\t1\t2\t100\t5\t1.5\t;\n\t2\t9\t200\t6\t2.5\t;\n")
    with pytest.raises(NetworkError, match=r"nodes are 1\.\.3") as info:
        read_tntp_net(path)
    assert info.value.where == f"{path}:9"


def test_link_count_must_match_metadata(tmp_path: Path) -> None:
    path = write_net(tmp_path, "\t1\t2\t100\t5\t1.5\t;\n", links=2)
    with pytest.raises(NetworkError, match="says 2 but the file has 1"):
        read_tntp_net(path)


def test_metadata_must_end(tmp_path: Path) -> None:
    path = tmp_path / "open_net.tntp"
    path.write_text("<NUMBER OF NODES> 3\n1 2 100 5 1 ;\n")
    with pytest.raises(NetworkError, match="END OF METADATA"):
        read_tntp_net(path)


def test_node_file_errors(tmp_path: Path) -> None:
    twice = tmp_path / "twice_node.tntp"
    twice.write_text("Node\tX\tY\t;\n1\t0\t0\t;\n2\t1\t1\t;\n1\t2\t2\t;\n")
    with pytest.raises(NetworkError, match="node 1 is listed twice") as info:
        read_tntp_nodes(twice)
    assert info.value.where == f"{twice}:4"
    named = tmp_path / "named.geojson"
    named.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"id": "north"}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}'
    )
    with pytest.raises(NetworkError, match="whole numbers") as info:
        read_tntp_nodes(named)
    assert info.value.where == f"{named}: features[0].properties.id"
