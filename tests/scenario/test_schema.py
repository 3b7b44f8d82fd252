"""The JSON Schema and the guide are generated from the models, and are current."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corridor.scenario import load_scenario
from corridor.scenario.schema import (
    BEGIN_MARKER,
    END_MARKER,
    documented_fields,
    field_tables_markdown,
    main,
    scenario_json_schema,
    update_field_tables,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "scenario.md"
SCHEMA = DOCS / "scenario.schema.json"


def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def test_committed_json_schema_equals_generated() -> None:
    committed = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert committed == scenario_json_schema(), "run: python -m corridor.scenario.schema"


def test_json_schema_leaves_out_internal_fields() -> None:
    schema = scenario_json_schema()
    assert "base_dir" not in schema["properties"]
    assert set(schema["required"]) == {"name", "network", "start", "deadline"}
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False


def test_field_tables_in_guide_are_current() -> None:
    text = _guide()
    assert update_field_tables(text) == text, "run: python -m corridor.scenario.schema"


def _mentioned(name: str, text: str) -> bool:
    """As code: `name`, `name = ...`, `[name]` or `[[name]]`."""
    return re.search(rf"`(\[{{0,2}}){name}(\]{{0,2}}`| =)", text) is not None


@pytest.mark.parametrize(("place", "names"), sorted(documented_fields().items()))
def test_every_field_is_explained_in_the_prose(place: str, names: tuple[str, ...]) -> None:
    """Beyond the generated tables: the hand-written guide mentions every field by name."""
    text = _guide()
    prose = text[: text.index(BEGIN_MARKER)] + text[text.index(END_MARKER) :]
    missing = [n for n in names if not _mentioned(n, prose)]
    assert not missing, f"{place}: fields not explained in docs/scenario.md: {missing}"


def test_every_field_has_a_row_and_a_description() -> None:
    tables = field_tables_markdown()
    for place, names in documented_fields().items():
        assert f"### {place} " in tables
        for name in names:
            row = next(line for line in tables.splitlines() if line.startswith(f"| `{name}` |"))
            assert row.rstrip(" |").split(" | ")[-1], f"{place}.{name} has no description"


def test_update_field_tables_needs_the_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        update_field_tables("# a guide without markers\n")


def test_main_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = _guide().replace(END_MARKER, "| `stale` | row |\n" + END_MARKER)
    (tmp_path / "scenario.md").write_text(stale, encoding="utf-8")
    assert main(["--docs", str(tmp_path), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert not (tmp_path / "scenario.schema.json").exists()

    assert main(["--docs", str(tmp_path)]) == 0
    assert (tmp_path / "scenario.md").read_text(encoding="utf-8") == _guide()
    assert (tmp_path / "scenario.schema.json").read_text(encoding="utf-8") == SCHEMA.read_text(
        encoding="utf-8"
    )
    assert main(["--docs", str(tmp_path), "--check"]) == 0


def test_main_without_guide_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--docs", str(tmp_path / "nowhere")])
    assert exc.value.code == 2


def _block(text: str, language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", text, re.S)
    assert match, f"no ```{language} block in docs/scenario.md"
    return match.group(1)


def test_annotated_example_in_guide_loads(tmp_path: Path) -> None:
    text = _guide()
    (tmp_path / "scenario.toml").write_text(_block(text, "toml"), encoding="utf-8")
    (tmp_path / "people.csv").write_text(_block(text, "csv"), encoding="utf-8")
    scenario = load_scenario(tmp_path / "scenario.toml")
    assert [s.id for s in scenario.sources] == [
        "care-home",
        "school",
        "estate-north",
        "estate-south",
        "market",
    ]
    assert scenario.people == 80 + 650 + 1200 + 900 + 400
    assert {c.id for c in scenario.closures} >= {"bridge-repair", "flood-zone", "landslide"}
    assert scenario.checkpoints[0].vehicles_per_hour == 30
