"""Read TNTP network files (Transportation Networks for Research) into plain tables.

``<name>_net.tntp``: a metadata block of ``<KEY> value`` lines ended by ``<END OF METADATA>``,
comment lines starting with ``~``, then one link per line: whitespace (tab) separated numbers
ending with ``;`` in the standard column order ``init_node term_node capacity length
free_flow_time b power speed toll link_type``. The first five columns are required; missing
trailing columns read as NaN. Values stay in the file's units (they differ per network: see each
network's README); converting them is the network layer's job.

``<name>_node.tntp``: an optional header line, then ``node x y`` per line (``;`` optional).
A GeoJSON file of ``Point`` features with an integer ``id`` property (as Anaheim ships) is read
as a node file too.

Errors name ``file:line`` and say what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from corridor.core.errors import NetworkError
from corridor.io.geojson import read_points

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

COLUMNS = (
    "init_node",
    "term_node",
    "capacity",
    "length",
    "free_flow_time",
    "b",
    "power",
    "speed",
    "toll",
    "link_type",
)
_REQUIRED = 5
_META = re.compile(r"^\s*<(?P<key>[^>]+)>\s*(?P<value>.*?)\s*$")
_END = "END OF METADATA"
_LINK_HINT = (
    "a link row is: init_node term_node capacity length free_flow_time [b power speed toll link_type] ;"
)


@dataclass(frozen=True)
class TntpNet:
    """The links of a ``_net.tntp`` file, in file units, one array entry per link row.

    ``line`` is the 1-based line number of each row (for messages). ``number_of_nodes`` is the
    metadata value, or the largest node number when the file has none.
    """

    path: str
    number_of_zones: int | None
    number_of_nodes: int
    first_thru_node: int | None
    number_of_links: int | None
    init_node: IntArray
    term_node: IntArray
    capacity: FloatArray
    length: FloatArray
    free_flow_time: FloatArray
    b: FloatArray
    power: FloatArray
    speed: FloatArray
    toll: FloatArray
    link_type: FloatArray
    line: IntArray
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def n_links(self) -> int:
        return len(self.init_node)


@dataclass(frozen=True)
class TntpNodes:
    """Node positions from a ``_node.tntp`` (or GeoJSON points) file; ``line`` as in the file."""

    path: str
    node: IntArray
    x: FloatArray
    y: FloatArray
    line: IntArray


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise NetworkError(
            "file not found",
            where=str(path),
            hint="check the network path (relative paths start at the scenario file)",
        )
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _metadata(lines: list[str], where: str) -> tuple[dict[str, str], int]:
    """Metadata ``{KEY: value}`` and the index of the first line after it."""
    meta: dict[str, str] = {}
    for i, text in enumerate(lines):
        match = _META.match(text)
        if match is None:
            continue
        key = match.group("key").strip().upper()
        if key == _END:
            return meta, i + 1
        meta[key] = match.group("value")
    if meta:
        raise NetworkError(
            "metadata without <END OF METADATA>",
            where=where,
            hint="end the metadata block with a line <END OF METADATA>",
        )
    return meta, 0


def _meta_int(meta: dict[str, str], key: str, where: str) -> int | None:
    text = meta.get(key)
    if text is None:
        return None
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        raise NetworkError(
            f"<{key}> must be a whole number, got {text!r}", where=where, hint="fix the metadata"
        ) from None


def _rows(lines: list[str], start: int) -> tuple[list[list[str]], list[int]]:
    """Tokens of each data row (up to the first ``;``) and its 1-based line number."""
    rows: list[list[str]] = []
    numbers: list[int] = []
    for i in range(start, len(lines)):
        text = lines[i].split(";", 1)[0].strip()
        if text and not text.startswith("~"):
            rows.append(text.split())
            numbers.append(i + 1)
    return rows, numbers


def _to_matrix(
    rows: list[list[str]],
    numbers: list[int],
    names: tuple[str, ...],
    need: int,
    where: str,
    hint: str,
) -> FloatArray:
    """A float matrix (rows x len(names)); short rows padded with NaN, bad cells reported."""
    width = len(names)
    if rows and all(len(r) == width for r in rows):
        try:
            fast = np.array(rows, dtype=np.float64)
        except ValueError:
            pass  # find and report the bad cell below
        else:
            if np.isfinite(fast).all():
                return fast
    out = np.full((len(rows), width), np.nan)
    for k, (row, line) in enumerate(zip(rows, numbers, strict=True)):
        if len(row) < need:
            raise NetworkError(
                f"{len(row)} values where at least {need} are needed",
                where=f"{where}:{line}",
                hint=hint,
            )
        for j, token in enumerate(row[:width]):
            try:
                out[k, j] = float(token)
            except ValueError:
                raise NetworkError(
                    f"{names[j]} {token!r} is not a number", where=f"{where}:{line}", hint=hint
                ) from None
            if not np.isfinite(out[k, j]):  # inf, nan, 1e999: a missing value is a missing column
                raise NetworkError(
                    f"{names[j]} {token!r} is not a finite number", where=f"{where}:{line}", hint=hint
                )
    return out


def _node_numbers(values: FloatArray, numbers: list[int], limit: int | None, where: str) -> IntArray:
    """Whole positive node numbers (at most ``limit``), else an error naming the line."""
    bad = (values != np.round(values)) | (values < 1) | (values > 2**53)
    if limit is not None:
        bad |= values > limit
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1) if values.ndim > 1 else bad)[0])
        rng = f"1..{limit}" if limit is not None else "whole numbers from 1"
        raise NetworkError(
            f"node number out of range (nodes are {rng})",
            where=f"{where}:{numbers[row]}",
            hint="fix the node number, or <NUMBER OF NODES> in the metadata",
        )
    return values.astype(np.int64)


def read_tntp_net(path: str | Path) -> TntpNet:
    """Read a ``_net.tntp`` file; the link count must match ``<NUMBER OF LINKS>`` if given."""
    path = Path(path)
    where = str(path)
    lines = _read_lines(path)
    meta, start = _metadata(lines, where)
    rows, numbers = _rows(lines, start)
    if not rows:
        raise NetworkError("no link rows", where=where, hint=_LINK_HINT)
    table = _to_matrix(rows, numbers, COLUMNS, _REQUIRED, where, _LINK_HINT)
    n_nodes = _meta_int(meta, "NUMBER OF NODES", where)
    ends = _node_numbers(table[:, :2], numbers, n_nodes, where)
    n_links = _meta_int(meta, "NUMBER OF LINKS", where)
    if n_links is not None and n_links != len(rows):
        raise NetworkError(
            f"<NUMBER OF LINKS> says {n_links} but the file has {len(rows)} link rows",
            where=where,
            hint="fix <NUMBER OF LINKS>, or restore the missing rows",
        )
    cols = {name: table[:, j].copy() for j, name in enumerate(COLUMNS) if j >= 2}
    return TntpNet(
        path=where,
        number_of_zones=_meta_int(meta, "NUMBER OF ZONES", where),
        number_of_nodes=n_nodes if n_nodes is not None else int(ends.max()),
        first_thru_node=_meta_int(meta, "FIRST THRU NODE", where),
        number_of_links=n_links,
        init_node=ends[:, 0].copy(),
        term_node=ends[:, 1].copy(),
        line=np.asarray(numbers, dtype=np.int64),
        metadata=meta,
        **cols,
    )


def read_tntp_nodes(path: str | Path) -> TntpNodes:
    """Read node positions from a ``_node.tntp`` file or a GeoJSON file of ``Point`` features."""
    path = Path(path)
    if path.suffix.lower() in {".geojson", ".json"}:
        return _nodes_from_geojson(path)
    where = str(path)
    rows, numbers = _rows(_read_lines(path), 0)
    if rows and not _is_number(rows[0][0]):
        rows, numbers = rows[1:], numbers[1:]  # header line "Node X Y"
    if not rows:
        raise NetworkError("no node rows", where=where, hint="write one 'node x y' row per line")
    hint = "a node row is: node x y"
    table = _to_matrix(rows, numbers, ("node", "x", "y"), 3, where, hint)
    nodes = _node_numbers(table[:, 0], numbers, None, where)
    _check_unique(nodes, numbers, where)
    return TntpNodes(where, nodes, table[:, 1].copy(), table[:, 2].copy(), np.asarray(numbers))


def _nodes_from_geojson(path: Path) -> TntpNodes:
    points = read_points(path)
    nodes = np.empty(len(points.ids), dtype=np.int64)
    for k, name in enumerate(points.ids):
        if not name.isdigit() or int(name) < 1:
            raise NetworkError(
                f"TNTP node ids are whole numbers from 1, got {name!r}",
                where=f"{path}: features[{points.feature[k]}].properties.id",
                hint="give each point the TNTP node number as its id",
            )
        nodes[k] = int(name)
    if not len(nodes):
        raise NetworkError("no Point features with an 'id' property", where=str(path), hint="add node points")
    return TntpNodes(str(path), nodes, points.x, points.y, points.feature)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _check_unique(nodes: IntArray, numbers: list[int], where: str) -> None:
    _, first, counts = np.unique(nodes, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = int(nodes[first[counts > 1][0]])
        lines = [numbers[i] for i in np.flatnonzero(nodes == dup)]
        raise NetworkError(
            f"node {dup} is listed twice",
            where=f"{where}:{lines[1]}",
            hint=f"keep one row for node {dup} (also line {lines[0]})",
        )
