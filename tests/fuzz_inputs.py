"""Hypothesis strategies for fuzzing the readers: random edits of real files, random values in
real structures, and the check that a reader fails only with the project's own errors.

A reader may accept an edited file (many edits leave it valid) or refuse it with a
:class:`~corridor.core.errors.CorridorError` that names the place; any other exception is a crash.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from hypothesis import strategies as st

from corridor.core.errors import CorridorError

# Characters that mean something in TOML, JSON, CSV and the TNTP and DIMACS formats, and others.
_SYNTAX = [*"[]{}=,.:;\"'\\#~<>-+_ \t\n\r0123456789eEaZxn", "\x00", "é", "\ufeff", "inf", "1e999"]
_PIECES = st.lists(st.sampled_from(_SYNTAX), max_size=6).map("".join) | st.text(max_size=8)


@st.composite
def edited_text(draw: st.DrawFn, text: str) -> str:
    """``text`` with one to four random edits: deletions, insertions, replacements, lines
    doubled, dropped or swapped, and cuts."""
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "double", "drop", "swap", "cut"]))
        at = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif kind == "insert":
            text = text[:at] + draw(_PIECES) + text[at:]
        elif kind == "replace":
            text = text[:at] + draw(_PIECES) + text[at + draw(st.integers(1, 10)) :]
        elif kind == "cut":
            text = text[:at]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if kind == "double":
                lines.insert(i, lines[j])
            elif kind == "drop":
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@st.composite
def edited_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` cut short, or with a few bytes changed, removed or inserted."""
    kind = draw(st.sampled_from(["cut", "flip", "delete", "insert"]))
    at = draw(st.integers(0, len(data)))
    if kind == "cut":
        return data[:at]
    if kind == "flip" and at < len(data):
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 64)) :]
    return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]


def scalars() -> st.SearchStrategy[Any]:
    """Values of every TOML and JSON kind, the odd ones included."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.sampled_from([0, -1, 1, 2**63, -(2**63) - 1]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(["", "mashhad", "general", "1 min", "0 min", "-5 min", "geojson", "osm", "tntp"]),
        st.datetimes(timezones=st.just(UTC)),
        st.datetimes(),
        st.dates(),
        st.times(),
    )


def values(depth: int = 2) -> st.SearchStrategy[Any]:
    """Scalars, lists and tables of them."""
    return st.recursive(
        scalars(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6 if depth else 1,
    )


@st.composite
def changed_structure(draw: st.DrawFn, data: Any) -> Any:
    """``data`` (nested dicts and lists) with one to three random places deleted, replaced by a
    random value, or given a new key."""
    for _ in range(draw(st.integers(1, 3))):
        data = _change(draw, data)
    return data


def _change(draw: st.DrawFn, data: Any) -> Any:
    if isinstance(data, dict) and data:
        key = draw(st.sampled_from(sorted(data)))
        kind = draw(st.sampled_from(["descend", "descend", "delete", "replace", "add"]))
        out = dict(data)
        if kind == "descend":
            out[key] = _change(draw, data[key])
        elif kind == "delete":
            del out[key]
        elif kind == "replace":
            out[key] = draw(values())
        else:
            out[draw(st.text(max_size=8))] = draw(values())
        return out
    if isinstance(data, list) and data:
        i = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["descend", "descend", "delete", "replace", "double"]))
        items = list(data)
        if kind == "descend":
            items[i] = _change(draw, data[i])
        elif kind == "delete":
            del items[i]
        elif kind == "replace":
            items[i] = draw(values())
        else:
            items.insert(i, data[i])
        return items
    if isinstance(data, int | float) and not isinstance(data, bool) and draw(st.booleans()):
        return draw(st.sampled_from(EXTREMES))
    return draw(values())


# Numbers and times at and beyond the edges (what a typing error or a hostile file gives).
EXTREMES = [0, -1, 2**31, 2**63, 10**20, -(10**20), 1e300, -1e300, 1e-300, math.inf, -math.inf, math.nan]
FAR_TIMES = [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC), datetime(2016, 12, 15)]


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to the numbers and times in nested dicts and lists."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _leaves(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _leaves(v, (*path, i))]
    number = isinstance(data, int | float) and not isinstance(data, bool)
    return [path] if number or isinstance(data, datetime) else []


@st.composite
def extreme_leaf(draw: st.DrawFn, data: Any) -> Any:
    """``data`` with one of its numbers or times set to an extreme value."""
    paths = _leaves(data)
    path = draw(st.sampled_from(paths))
    out = _copy(data)
    *parents, last = path
    place = out
    for key in parents:
        place = place[key]
    place[last] = draw(st.sampled_from(FAR_TIMES if isinstance(place[last], datetime) else EXTREMES))
    return out


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def toml_text(data: dict[str, Any]) -> str:
    """``data`` as TOML (every table inline: what a hand-written file may also say)."""
    return "".join(f"{_key(k)} = {_toml(v)}\n" for k, v in data.items() if v is not None)


def _key(key: str) -> str:
    return json.dumps(key)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items() if v is not None) + "}"
    return json.dumps(str(value))


def only_our_errors(read: Callable[[], object], *places: str) -> CorridorError | None:
    """Run ``read``: it may succeed, or raise a CorridorError whose text names one of
    ``places`` (file names, fields); any other exception propagates (a crash)."""
    try:
        read()
    except CorridorError as error:
        text = error.render()
        assert any(p in text for p in places), f"the error names no place ({places}): {text}"
        return error
    return None
