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
