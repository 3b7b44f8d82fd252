"""Read a scenario TOML file (and the CSV tables it names) into a checked :class:`Scenario`.

Every error names the file and the line (TOML syntax, CSV rows) or the field
(``sources[3].people``).
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from corridor.core.errors import InputError, ScenarioError
from corridor.core.units import parse_minutes
from corridor.scenario.model import Destination, Scenario, Source

# scenario key -> (row model, list it extends, integer columns, float columns)
_CsvSpec = tuple[type[Source] | type[Destination], str, frozenset[str], frozenset[str]]
_CSV_FIELDS: dict[str, _CsvSpec] = {
    "sources_csv": (Source, "sources", frozenset({"people"}), frozenset({"lon", "lat"})),
    "destinations_csv": (
        Destination,
        "destinations",
        frozenset({"capacity"}),
        frozenset({"lon", "lat"}),
    ),
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _validation_error(where: str, err: ValidationError) -> ScenarioError:
    lines = []
    for e in err.errors():
        field = _field_path(tuple(p for p in e["loc"] if not str(p).startswith("function-")))
        msg = str(e["msg"]).removeprefix("Value error, ")
        lines.append(f"{field or '(top level)'}: {msg}")
    return ScenarioError("; ".join(lines), where=where, hint="fix the field(s) named; see docs/scenario.md")


def _read_csv_rows(path: Path, spec: _CsvSpec) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ScenarioError("file not found", where=str(path), hint="check the path in the scenario")
    try:
        return _parse_csv_rows(path, spec)
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", where=str(path)) from None
    except csv.Error as exc:
        raise ScenarioError(f"not a readable CSV file: {exc}", where=str(path)) from None


def _parse_csv_rows(path: Path, spec: _CsvSpec) -> list[dict[str, Any]]:
    model, _, ints, floats = spec
    rows: list[dict[str, Any]] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        allowed = set(model.model_fields)
        unknown = set(reader.fieldnames or ()) - allowed
        if unknown:
            raise ScenarioError(
                f"unknown column(s) {', '.join(sorted(unknown))}",
                where=f"{path}:1",
                hint=f"columns may be {', '.join(sorted(allowed))}",
            )
        header = reader.fieldnames or ()
        missing = [k for k, f in model.model_fields.items() if f.is_required() and k not in header]
        if header and missing:
            raise ScenarioError(
                f"the header lacks the column(s) {', '.join(missing)} (it has: {', '.join(header)})",
                where=f"{path}:1",
                hint=f"add {', '.join(missing)} to the first line; see docs/scenario.md",
            )
        for raw in reader:
            line = reader.line_num
            if None in raw:
                raise ScenarioError(
                    f"more values than the {len(reader.fieldnames or ())} columns of the header",
                    where=f"{path}:{line}",
                    hint="fix this row",
                )
            row: dict[str, Any] = {k: v.strip() for k, v in raw.items() if v and v.strip()}
            try:
                for key in sorted(ints & row.keys()):
                    row[key] = _number(int, key, row[key])
                for key in sorted(floats & row.keys()):
                    row[key] = _number(float, key, row[key])
                rows.append(model.model_validate(row).model_dump(exclude_none=True))
            except ValueError as exc:
                detail = _validation_error("", exc).message if isinstance(exc, ValidationError) else str(exc)
                raise ScenarioError(detail, where=f"{path}:{line}", hint="fix this row") from None
    return rows


def _number(kind: type[int] | type[float], column: str, text: str) -> int | float:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{column}: {text!r} is not {what}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; raises :class:`ScenarioError` naming the place."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("file not found", where=str(path), hint="give the path to a .toml file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", where=str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", where=str(path)) from None
    base = path.resolve().parent
    for key, spec in _CSV_FIELDS.items():
        target = spec[1]
        if isinstance(data.get(key), str) and isinstance(data.get(target, []), list):
            rows = _read_csv_rows(base / Path(data[key]).expanduser(), spec)
            data[target] = [*data.get(target, []), *rows]
    try:
        scenario = Scenario.model_validate({**data, "base_dir": base})
    except ValidationError as err:
        raise _validation_error(str(path), err) from None
    try:
        parse_minutes(scenario.time_step, where="time_step")
    except InputError as err:
        raise ScenarioError(f"time_step: {err.message}", where=str(path), hint=err.hint) from None
    return scenario


def time_step_minutes(scenario: Scenario) -> float:
    return parse_minutes(scenario.time_step, where="time_step")
