"""Fuzzing the scenario loader and the check behind it (``corridor check``): random edits of the
shipped example's TOML text and of its sources CSV, and random values at random places of its
structure. Every input is accepted or refused with the project's own error naming the place;
nothing else is ever raised. ``CORRIDOR_FUZZ_EXAMPLES=5000`` runs longer.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.solve.pipeline import check_file
from fuzz_inputs import changed_structure, edited_text, extreme_leaf, only_our_errors, toml_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016"
SCENARIO = (EXAMPLE / "scenario.toml").read_text(encoding="utf-8")
SOURCES = (EXAMPLE / "sources.csv").read_text(encoding="utf-8")
NETWORK = (EXAMPLE / "network.geojson").read_text(encoding="utf-8")
FUZZ = settings(
    max_examples=int(os.environ.get("CORRIDOR_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """A copy of the example's folder; each case writes its own scenario and CSV into it."""
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        shutil.copy(EXAMPLE / "network.geojson", where)
        yield where


def _check(folder: Path, scenario: str, sources: str = SOURCES, network: str = NETWORK) -> None:
    (folder / "sources.csv").write_text(sources, encoding="utf-8", errors="surrogatepass")
    (folder / "network.geojson").write_text(network, encoding="utf-8")
    path = folder / "scenario.toml"
    path.write_text(scenario, encoding="utf-8", errors="surrogatepass")
    only_our_errors(lambda: check_file(path), str(folder))


def test_the_example_itself_checks(folder: Path) -> None:
    _check(folder, SCENARIO)


@FUZZ
@given(text=edited_text(SCENARIO))
def test_edited_scenario_text(folder: Path, text: str) -> None:
    _check(folder, text)


@FUZZ
@given(text=edited_text(SOURCES))
def test_edited_sources_csv(folder: Path, text: str) -> None:
    _check(folder, SCENARIO, text)


@FUZZ
@given(data=changed_structure(tomllib.loads(SCENARIO)))
def test_random_values_in_the_scenario(folder: Path, data: dict[str, Any]) -> None:
    _check(folder, toml_text(data) if isinstance(data, dict) else f"value = {data!r}\n")


@FUZZ
@pytest.mark.filterwarnings("error::RuntimeWarning")  # a number cast to garbage on the way
@given(data=extreme_leaf(tomllib.loads(SCENARIO)))
def test_extreme_numbers_and_times_in_the_scenario(folder: Path, data: dict[str, Any]) -> None:
    _check(folder, toml_text(data))


@FUZZ
@pytest.mark.filterwarnings("error::RuntimeWarning")
@given(data=extreme_leaf(json.loads(NETWORK)))
def test_extreme_numbers_in_the_network_of_the_scenario(folder: Path, data: dict[str, Any]) -> None:
    _check(folder, SCENARIO, network=json.dumps(data))


@FUZZ
@given(
    raw=st.binary(max_size=200)
    | st.sampled_from([b"", b"\xff\xfe", "\ufeffname = 1".encode(), b"a = 1\x00", b"[[sources]]\n"])
)
def test_random_bytes_as_a_scenario(folder: Path, raw: bytes) -> None:
    (folder / "sources.csv").write_text(SOURCES, encoding="utf-8")
    (folder / "network.geojson").write_text(NETWORK, encoding="utf-8")
    path = folder / "scenario.toml"
    path.write_bytes(raw)
    only_our_errors(lambda: check_file(path), str(folder))
