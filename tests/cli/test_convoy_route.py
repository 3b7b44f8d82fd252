"""``corridor convoy --method route``: a plan that verifies, written and summarised; the help says when
to use it; a misspelt method is refused naming the methods."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from corridor.cli.main import app
from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import compile_convoy
from corridor.scenario.load import load_scenario
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import greedy, objective_key

ALEPPO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
runner = CliRunner()


def test_route_plans_the_example_within_a_short_limit(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["convoy", str(ALEPPO), "--method", "route", "--time-limit", "2", "--json", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    summary = json.loads(result.stdout)
    scenario = load_scenario(ALEPPO)
    problem, _ = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert problem is not None
    plan = ConvoyPlan.from_dict(json.loads((tmp_path / "convoy.json").read_text()))
    assert plan.method == "route"
    assert plan.verify(problem) == []
    assert summary["evacuated_by_deadline"] == plan.evacuated <= summary["bound"]
    assert objective_key(problem, plan.trips) <= objective_key(problem, greedy(problem, Legs(problem)).trips)


def test_the_help_says_when_to_use_route() -> None:
    result = runner.invoke(app, ["convoy", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "'route'" in text and "large instances" in text


def test_a_misspelt_method_is_refused_naming_route() -> None:
    result = runner.invoke(app, ["convoy", str(ALEPPO), "--method", "routes"])
    assert result.exit_code == 2
    assert "routes" in result.output and "route" in result.output.replace("'routes'", "")
