"""The ``corridor`` command end to end on the shipped examples and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridor.cli.main import app
from corridor.solve import solve
from corridor.solve.pipeline import check_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALEPPO = EXAMPLES / "east-aleppo-2016" / "scenario.toml"
HELSINKI = EXAMPLES / "helsinki-osm" / "scenario.toml"
runner = CliRunner()


def test_plan_json_reports_a_proved_optimum() -> None:
    result = runner.invoke(app, ["plan", str(ALEPPO), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["method"] == "exact" and summary["status"] == "optimal"
    assert summary["evacuated_by_deadline"] == summary["bound"] <= summary["evacuees"]
    assert summary["by_group"]["wounded"] == 200  # the most urgent group is cleared first
    # Not everyone is out by the deadline, so the quickest time for everyone lies beyond it.
    assert summary["evacuated_by_deadline"] < summary["evacuees"]
    assert summary["evacuation_time"] > summary["horizon_steps"] * summary["time_step"]


def test_plan_writes_map_and_clearance_curve(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(ALEPPO), "--out", str(tmp_path), "--no-quickest"])
    assert result.exit_code == 0, result.output
    for name in ("plan.json", "map.png", "clearance.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "plan.json").read_text())["routes"]


@pytest.mark.parametrize("method", ["exact", "ccrp"])
def test_every_example_plan_verifies(method: str) -> None:
    for scenario in sorted(EXAMPLES.glob("*/scenario.toml")):
        checked = check_file(scenario)
        assert checked.problem is not None
        plan = solve(checked.problem, method=method, quickest=False)
        assert plan.verify(checked.problem) == []
        assert plan.evacuated <= plan.bound


def test_ccrp_never_beats_the_exact_plan() -> None:
    checked = check_file(ALEPPO)
    assert checked.problem is not None
    exact = solve(checked.problem, quickest=False)
    ccrp = solve(checked.problem, method="ccrp", quickest=False)
    assert ccrp.evacuated <= exact.evacuated
    assert ccrp.bound == exact.evacuated


def test_bad_scenario_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nstart = 2016-12-15T14:30:00Z\ndeadline = [\n')
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "Traceback" not in result.output


def test_unknown_node_is_a_finding_naming_it(tmp_path: Path) -> None:
    text = ALEPPO.read_text().replace('node = "ramouseh-checkpoint"', 'node = "nowhere"', 1)
    assert "nowhere" in text, "the example should name the Ramouseh checkpoint node"
    for name in ("network.geojson", "sources.csv"):
        (tmp_path / name).write_bytes((ALEPPO.parent / name).read_bytes())
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text)
    result = runner.invoke(app, ["check", str(scenario)])
    assert result.exit_code == 1
    assert "nowhere" in result.output


def test_the_summary_says_why_the_last_arrival_is_after_the_quickest_time() -> None:
    # Helsinki's reception capacities bind: the least-total-time plan ends after the quickest time.
    result = runner.invoke(app, ["plan", str(HELSINKI)], terminal_width=200)
    assert result.exit_code == 0, result.output
    problem = check_file(HELSINKI).problem
    assert problem is not None
    summary = solve(problem).summary()
    assert summary["last_arrival"] > summary["evacuation_time"]
    assert "reception capacities trade one for the other" in " ".join(result.output.split())


def _sioux_falls(tmp_path: Path, shared_data: Path, *, nodes: bool, minutes: int) -> Path:
    """Sioux Falls with people at every node (10 per node number) and one exit at node 1."""
    folder = shared_data / "tntp" / "SiouxFalls"
    rows = "".join(f"s{v},{v},{10 * v}\n" for v in range(1, 25))
    (tmp_path / "sources.csv").write_text("id,node,people\n" + rows, encoding="utf-8")
    node_line = f'nodes = "{folder / "SiouxFalls_node.tntp"}"\n' if nodes else ""
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(
        'name = "sioux-falls"\nstart = 2026-01-01T00:00:00Z\n'
        f"deadline = 2026-01-01T00:{minutes:02d}:00Z\n"
        'time_step = "1 min"\nsources_csv = "sources.csv"\n\n'
        f'[network]\nformat = "tntp"\npath = "{folder / "SiouxFalls_net.tntp"}"\n{node_line}'
        'crs = "planar"\n\n[[destinations]]\nid = "exit"\nnode = "1"\n',
        encoding="utf-8",
    )
    return scenario


def test_many_sources_short_of_time_are_one_line_unless_verbose(tmp_path: Path, shared_data: Path) -> None:
    scenario = _sioux_falls(tmp_path, shared_data, nodes=True, minutes=12)
    checked = check_file(scenario)
    late = [f for f in checked.findings if f.code == "route-longer-than-window"]
    assert len(late) > 5
    people = {f"source s{v} (node {v})": 10 * v for v in range(1, 25)}
    result = runner.invoke(app, ["plan", str(scenario)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert text.count("warning:") == 1
    total = sum(people[f.where] for f in late)
    assert f"{len(late):,} sources ({total:,} people) cannot be out by the deadline" in text
    worst = sorted(late, key=lambda f: -people[f.where])[:5]
    assert all(f"{f.where}: {people[f.where]:,}" in text for f in worst)
    assert "--verbose" in text
    verbose = runner.invoke(app, ["plan", str(scenario), "--verbose"])
    assert verbose.exit_code == 0, verbose.output
    assert verbose.output.count("warning:") == len(late)
    # A few are still printed one by one.
    few = runner.invoke(app, ["plan", str(_sioux_falls(tmp_path, shared_data, nodes=True, minutes=22))])
    late_few = [f for f in check_file(tmp_path / "scenario.toml").findings if f.code.startswith("route")]
    assert 0 < len(late_few) <= 5
    assert few.output.count("warning:") == len(late_few)


def test_a_network_without_coordinates_says_the_map_needs_them(tmp_path: Path, shared_data: Path) -> None:
    out_dir = tmp_path / "out"
    scenario = _sioux_falls(tmp_path, shared_data, nodes=False, minutes=30)
    result = runner.invoke(app, ["plan", str(scenario), "--out", str(out_dir)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "map needs node coordinates" in text and "network.nodes" in text
    assert not (out_dir / "map.png").exists()
    assert (out_dir / "plan.json").stat().st_size > 0 and (out_dir / "clearance.png").stat().st_size > 0
    # With the node file, the map is drawn and nothing is said about coordinates.
    scenario = _sioux_falls(tmp_path, shared_data, nodes=True, minutes=30)
    result = runner.invoke(app, ["plan", str(scenario), "--out", str(out_dir)])
    assert result.exit_code == 0, result.output
    assert "coordinates" not in result.output
    assert (out_dir / "map.png").stat().st_size > 0


def test_no_quickest_is_not_never(tmp_path: Path, shared_data: Path) -> None:
    scenario = _sioux_falls(tmp_path, shared_data, nodes=True, minutes=12)
    skipped = json.loads(runner.invoke(app, ["plan", str(scenario), "--json", "--no-quickest"]).output)
    assert skipped["evacuation_time"] is None and skipped["evacuation_time_computed"] is False
    full = json.loads(runner.invoke(app, ["plan", str(scenario), "--json"]).output)
    assert full["evacuation_time_computed"] is True and full["evacuation_time"] > 12
    text = runner.invoke(app, ["plan", str(scenario), "--no-quickest"], terminal_width=200).output
    assert "not computed (--no-quickest)" in text
    # Someone who can never get out: computed, and null.
    rows = "id,node,people\ns1,1,5\ncut,2,5\n"
    (tmp_path / "sources.csv").write_text(rows, encoding="utf-8")
    text = scenario.read_text().replace('node = "1"\n', 'node = "1"\n\n[[closures]]\nid = "c"\nnode = "2"\n')
    scenario.write_text(text, encoding="utf-8")
    never = runner.invoke(app, ["plan", str(scenario), "--json"])
    assert never.exit_code == 0, never.output
    summary = json.loads(never.output)
    assert summary["evacuation_time"] is None and summary["evacuation_time_computed"] is True
