"""DIMACS reader on the reference files and on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor.core.errors import InputError
from corridor.io.dimacs import read_dimacs


def test_reads_max_flow_file(shared_data: Path) -> None:
    table = read_dimacs(shared_data / "flow-reference" / "igraph-simple.max")
    assert table.kind == "max"
    assert (table.n_nodes, len(table.tail)) == (6, 8)
    assert (table.source, table.sink) == (0, 5)


def test_reads_min_cost_file_with_supplies(shared_data: Path) -> None:
    table = read_dimacs(shared_data / "flow-reference" / "lemon-mcf-1.min")
    assert table.kind == "min"
    assert (table.n_nodes, len(table.tail)) == (12, 21)
    assert table.supply.sum() == 0


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.max"
    bad.write_text("p max 2 1\nn 1 s\nn 2 t\na 1 two 5\n")
    with pytest.raises(InputError, match=r"bad\.max:4"):
        read_dimacs(bad)
