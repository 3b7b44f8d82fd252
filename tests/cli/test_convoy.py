"""``corridor convoy`` end to end: the summary, the files it writes, bad input named (never a traceback)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from corridor.cli.main import app
from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem, compile_convoy
from corridor.reports.sitrep_pdf import FONT_DIR, FONT_FILES
from corridor.scenario.load import load_scenario
from corridor.solve.convoy import CONVOY_METHODS
from corridor.solve.convoy.bounds import Bounds
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.schedule import Schedule, greedy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016"
ALEPPO = EXAMPLE / "scenario.toml"
REQUIRED = ("evacuees", "evacuated_by_deadline", "bound", "gap", "status", "vehicles", "trips", "completion")
runner = CliRunner()
has_font = all((FONT_DIR / f).is_file() for f in FONT_FILES.values())


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One run with --json and --out: the summary and the folder."""
    folder = tmp_path_factory.mktemp("convoy")
    result = runner.invoke(app, ["convoy", str(ALEPPO), "--method", "greedy", "--json", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    no_traceback(result)
    return json.loads(result.stdout), folder


@pytest.fixture(scope="module")
def problem() -> ConvoyProblem:
    scenario = load_scenario(ALEPPO)
    compiled, findings = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert compiled is not None, findings
    return compiled


def test_json_has_the_keys_the_issue_asks_for(written: tuple[dict[str, Any], Path]) -> None:
    summary, _ = written
    for key in (*REQUIRED, "by_group"):
        assert key in summary, key
    fleet = tomllib.loads(ALEPPO.read_text())["fleet"]
    people = 9000  # the example's README: 9,000 people wait at six gathering points
    assert summary["evacuees"] == people
    assert summary["vehicles"] == sum(part["count"] for part in fleet)
    assert summary["status"] in ("optimal", "feasible")
    assert 0 < summary["evacuated_by_deadline"] <= summary["bound"] <= people
    assert sum(summary["by_group"].values()) == summary["evacuated_by_deadline"]
    expected_gap = (summary["bound"] - summary["evacuated_by_deadline"]) / summary["bound"]
    assert summary["gap"] == pytest.approx(expected_gap, abs=1e-6)
    # People are out by the deadline: no loaded arrival after it (07:00 is 990 minutes after 14:30).
    assert 0 < summary["completion"] <= 990
    assert summary["trips"] >= summary["vehicles_used"] > 0


def test_out_writes_a_plan_that_verifies_sheets_and_the_timeline(
    written: tuple[dict[str, Any], Path], problem: ConvoyProblem
) -> None:
    summary, folder = written
    plan = ConvoyPlan.from_dict(json.loads((folder / "convoy.json").read_text()))
    assert plan.verify(problem) == []  # the written plan, read back, is checked again on its own
    assert plan.content_hash() == summary["plan_hash"]
    assert plan.evacuated == summary["evacuated_by_deadline"] and len(plan.trips) == summary["trips"]
    english = (folder / "tripsheets.en.html").read_text(encoding="utf-8")
    arabic = (folder / "tripsheets.ar.html").read_text(encoding="utf-8")
    assert 'dir="ltr"' in english and 'dir="rtl"' in arabic
    for vehicle in plan.vehicles:
        assert f'data-vehicle="{vehicle}"' in english and f'data-vehicle="{vehicle}"' in arabic
    assert (folder / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if has_font:
        for lang in ("en", "ar"):
            reader = PdfReader(folder / f"tripsheets.{lang}.pdf")
            assert len(reader.pages) >= len(plan.vehicles)
            assert plan.vehicles[0] in reader.pages[0].extract_text()


def test_the_table_names_the_figures() -> None:
    result = runner.invoke(app, ["convoy", str(ALEPPO), "--method", "greedy"])
    assert result.exit_code == 0, result.output
    no_traceback(result)
    for words in ("out by the deadline", "gap to the bound", "vehicles used", "out: wounded"):
        assert words in result.stdout


def copy_example(tmp_path: Path, old: str, new: str, *, count: int = 1) -> Path:
    text = ALEPPO.read_text()
    assert old in text, f"the example should contain {old!r}"
    for name in ("network.geojson", "sources.csv"):
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text.replace(old, new, count))
    return scenario


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        # a depot off the network: the fleet entry and the unknown node
        ('depot = "ramouseh-junction"', 'depot = "nowhere-depot"', ("fleet[0] (bus)", "nowhere-depot")),
        # a zero-seat vehicle: the entry, and the general population left with no seat at all
        (
            "count = 20\nseats = 50",
            "count = 20\nseats = 0",
            ("fleet[0] (bus)", "no seat", "groups (general)"),
        ),
        # a group that fits no vehicle type: the wounded need stretchers, the ambulances lose theirs
        ("seats = 0\nstretchers = 2", "seats = 4\nstretchers = 0", ("groups (wounded)", "stretcher")),
        # an unknown group
        ('group = "wounded"', 'group = "injured"', ("sources[0]", "injured")),
    ],
)
def test_bad_fleet_input_is_named_and_exits_2(
    tmp_path: Path, old: str, new: str, named: tuple[str, ...]
) -> None:
    scenario = copy_example(tmp_path, old, new)
    result = runner.invoke(app, ["convoy", str(scenario), "--method", "greedy"])
    assert result.exit_code == 2, result.output
    no_traceback(result)
    for words in named:
        assert words in result.output
    assert str(scenario) in result.output  # the file is named with the count of errors


def test_bad_fleet_input_with_json_prints_no_summary(tmp_path: Path) -> None:
    scenario = copy_example(tmp_path, 'depot = "ramouseh-junction"', 'depot = "nowhere-depot"')
    result = runner.invoke(app, ["convoy", str(scenario), "--json", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    no_traceback(result)
    assert result.stdout.strip() == ""
    assert not (tmp_path / "out").exists()  # nothing written for a scenario that cannot be planned


def test_unknown_method_and_missing_file_exit_2() -> None:
    result = runner.invoke(app, ["convoy", str(ALEPPO), "--method", "nope"])
    assert result.exit_code == 2
    no_traceback(result)
    assert "--method" in result.output and "greedy" in result.output
    result = runner.invoke(app, ["convoy", str(EXAMPLE / "missing.toml")])
    assert result.exit_code == 2
    no_traceback(result)
    assert "missing.toml" in result.output


def _overloaded(
    problem: ConvoyProblem, legs: Legs, bounds: Bounds, time_limit: float, progress: Any
) -> tuple[Schedule, str]:
    """The greedy plan with one more person on its first bus than it has seats."""
    del bounds, time_limit
    schedule = greedy(problem, legs, progress=progress)
    k = next(i for i, t in enumerate(schedule.trips) if t.vehicle.startswith("bus"))
    trip = schedule.trips[k]
    seats = int(problem.type_seats[problem.type_ids.index("bus")])
    source, _ = trip.load[0]
    schedule.trips[k] = replace(trip, load=((source, seats + 1),))
    return schedule, "feasible"


def test_a_plan_that_fails_verification_exits_1_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # solve_convoy checks every method but the dispatcher itself: break the dispatcher
    monkeypatch.setitem(CONVOY_METHODS, "greedy", _overloaded)
    result = runner.invoke(app, ["convoy", str(ALEPPO), "--method", "greedy", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    no_traceback(result)
    assert "violation" in result.output and "fails verification" in result.output
    assert not (tmp_path / "o").exists()


def test_a_method_whose_plan_fails_verification_gives_way_to_the_dispatcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CONVOY_METHODS, "overloaded", _overloaded)
    result = runner.invoke(app, ["convoy", str(ALEPPO), "--method", "overloaded", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "feasible" and summary["evacuated_by_deadline"] <= summary["bound"]


def test_fleet_sweep_plans_each_count(tmp_path: Path) -> None:
    scenario = copy_example(tmp_path, "count = 20\nseats = 50", "count = 3\nseats = 50")
    result = runner.invoke(
        app, ["convoy", str(scenario), "--method", "greedy", "--fleet-sweep", "bus", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["count"] for r in rows] == [1, 2, 3]
    assert [r["vehicles"] for r in rows] == [14, 15, 16]  # 13 ambulances and 1..3 buses
    for r in rows:
        assert r["verified"] and r["evacuated"] <= r["bound"]
    result = runner.invoke(app, ["convoy", str(scenario), "--fleet-sweep", "tram"])
    assert result.exit_code == 2
    no_traceback(result)
    assert "tram" in result.output and "bus" in result.output


def test_seat_sweep_smallest_fleet_and_their_bad_options(tmp_path: Path) -> None:
    scenario = copy_example(tmp_path, "count = 20\nseats = 50", "count = 2\nseats = 50")
    base = ["convoy", str(scenario), "--method", "greedy"]
    seats = ["--seat-sweep", "bus", "--sweep-from", "50", "--sweep-to", "51", "--count", "ambulance=1"]
    result = runner.invoke(app, [*base, *seats, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["seats"]["bus"], r["counts"]["ambulance"]) for r in rows] == [(50, 1), (51, 1)]
    # The flow model counts the checkpoint in buses of 50: no bound for a bus of 51 seats.
    assert rows[0]["flow_bound"] is not None and rows[1]["flow_bound"] is None
    result = runner.invoke(app, [*base, "--smallest-fleet", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert all(found["smallest"]["counts"][k] <= n for k, n in found["full"]["counts"].items())
    assert list(found["smallest"]["by_group"].values()) >= list(found["full"]["by_group"].values())
    for bad, option in (
        (["--count", "ambulance=many"], "--count"),
        (["--fleet-sweep", "bus"], "--seat-sweep"),  # both sweeps at once
        (["--sweep-from", "9", "--sweep-to", "3"], "--sweep-to"),
    ):
        result = runner.invoke(app, [*base, *seats, *bad])
        assert result.exit_code == 2, (bad, result.output)
        no_traceback(result)
        assert option in result.output


def test_vehicles_cut_off_from_every_gathering_point_are_named(tmp_path: Path) -> None:
    """A closure of the crossing for the whole window: a warning names the depot, and nobody gets out."""
    text = ALEPPO.read_text(encoding="utf-8")
    text += '\n[[closures]]\nid = "crossing-closed"\nnode = "amiriyah-crossing"\n'
    for name in ("network.geojson", "sources.csv"):
        (tmp_path / name).write_bytes((ALEPPO.parent / name).read_bytes())
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["convoy", str(scenario), "--method", "greedy"])
    no_traceback(result)
    assert "vehicles cannot reach any gathering point" in result.output
    assert "depot ramouseh-junction" in result.output
