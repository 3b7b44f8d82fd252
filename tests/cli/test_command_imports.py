"""``corridor plan`` starts without importing what only other commands need: the convoy model, the
simulator, the form writer, the figures and rich's progress bars and tables load when used."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from corridor.cli.main import LAZY, app

NOT_AT_START = (
    "corridor.cli.convoy",
    "corridor.cli.risk",
    "corridor.cli.xlsform",
    "corridor.plan.convoy",
    "corridor.simulate",
    "corridor.reports.figures",
    "matplotlib",
    "rich.progress",
    "rich.table",
)


def test_the_command_module_imports_none_of_the_other_commands() -> None:
    code = "import sys, corridor.cli.main; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    assert "corridor.cli.main" in loaded
    assert not loaded & set(NOT_AT_START)


def test_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    names = ["check", "plan", *LAZY, "schema", "serve", "verify-ledger"]
    places = [result.output.find(f" {name} ") for name in names]
    assert -1 not in places and places == sorted(places), result.output


@pytest.mark.parametrize("name", list(LAZY))
def test_each_command_imported_when_named_runs(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f" {name} [OPTIONS]" in result.output


def test_an_unknown_command_is_refused() -> None:
    result = CliRunner().invoke(app, ["convoys"], terminal_width=200)
    assert result.exit_code == 2
    assert "No such command 'convoys'" in result.output
