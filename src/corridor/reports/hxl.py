"""CSV tagged with the Humanitarian Exchange Language (HXL 1.1): the usual header row, then a row
of hashtags that says what each column holds, then the data. HXL tools (HDX, the HXL Proxy,
libhxl) read the hashtag row and ignore the header.

Choices, after the HXL 1.1 dictionary:

* ``#affected``, ``#population`` and the like are *numbers* (people counted); they tag the columns
  of the aggregate counts, refined by attributes (``#affected +arrived``, ``+missing``...).
* One row per person or per event is not a count: ids go under ``#meta +id``, places under
  ``#loc`` (``+name``, ``+code`` for a P-code), times under ``#date``, kinds under ``#event +type``
  and ``#status``, coordinates under ``#geo +lat`` / ``#geo +lon``, phones under ``#contact +phone``.
* What the dictionary has no hashtag for uses an extension hashtag, ``#x_...``, as HXL asks
  (``#x_sex``, ``#x_age +group``, ``#x_vehicle +code``...), so no core hashtag is given a meaning
  it does not have.
* A column that holds several values (``+list``: a person's vulnerabilities, the vehicles and
  people an incident names) holds them joined by ``|`` (``wounded|stretcher``), the separator HXL
  tools split lists on; never a JSON array.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence

from corridor.core.errors import InputError
from corridor.reports.csvstream import csv_chunks

# Column name -> hashtag with attributes. Every exported column has one (a test checks it).
HASHTAGS: dict[str, str] = {
    # people
    "person_id": "#meta +id",
    "household_id": "#x_household +id",
    "age_band": "#x_age +group",
    "sex": "#x_sex",
    "vulnerabilities": "#x_vulnerability +list",
    "gathering_point": "#loc +name +gathering",
    "registered_at": "#date +registered",
    "name": "#x_person +name",
    "phone": "#contact +phone",
    "wristband": "#x_wristband +code",
    # ledger events
    "position": "#meta +position",
    "event_id": "#meta +id",
    "device_id": "#x_device +code",
    "seq": "#x_device +seq",
    "device_time": "#date +occurred",
    "received_at": "#date +received",
    "type": "#event +type",
    "subject_kind": "#x_subject +type",
    "subject_id": "#x_subject +id",
    "point": "#loc +code +route",
    "payload": "#meta +payload",
    "payload_sha256": "#meta +hash +payload",
    "entry_hash": "#meta +hash +chain",
    # incidents
    "incident_id": "#event +id",
    "kind": "#event +type",
    "occurred_at": "#date +occurred",
    "place_name": "#loc +name",
    "pcode": "#loc +code",
    "admin_level": "#x_adm +level",
    "lon": "#geo +lon",
    "lat": "#geo +lat",
    "vehicles": "#x_vehicle +list",
    "people": "#x_person +list",
    "reported_by": "#x_reporter +name",
    "ledger_event_id": "#meta +id +ledger",
    "description": "#description",
    # counts by gathering point and status
    "reported_at": "#date +reported",
    "total": "#affected +total",
    "registered": "#affected +registered",
    "boarded": "#affected +boarded",
    "passed_checkpoint": "#affected +transit",
    "arrived": "#affected +arrived",
    "returned": "#affected +returned",
    "missing": "#affected +missing",
    "detained": "#affected +detained",
}

# Joins the values of a ``+list`` column.
LIST_SEPARATOR = "|"

# A hashtag: '#', a letter, letters/digits/underscores; then attributes '+name' likewise.
HASHTAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+[a-z][a-z0-9_]*)*$")


def hashtag_row(header: Sequence[str], tags: dict[str, str] | None = None) -> list[str]:
    """The hashtag of each column of ``header``; an unknown column is an error naming it."""
    tags = HASHTAGS if tags is None else tags
    unknown = [name for name in header if name not in tags]
    if unknown:
        raise InputError(
            f"no HXL hashtag for column(s) {', '.join(unknown)}",
            where="reports.hxl.HASHTAGS",
            hint="add the column's hashtag to HASHTAGS",
        )
    return [tags[name] for name in header]


def hxl_lines(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, rows_per_chunk: int = 1000
) -> Iterator[bytes]:
    """HXL-tagged CSV as UTF-8 bytes (with a byte-order mark, so spreadsheets show Arabic right),
    sent in chunks of ``rows_per_chunk`` rows: a large export starts at once."""
    tags = hashtag_row(header)
    lists = [i for i, tag in enumerate(tags) if "+list" in tag.split()]
    if lists:
        rows = (_joined(row, lists) for row in rows)
    return csv_chunks([header, tags], rows, rows_per_chunk=rows_per_chunk)


def list_cell(value: object) -> str:
    """The values of a list cell joined by ``|``: from a list, a JSON array or space-separated
    codes (an empty list is an empty cell)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = text.split()
        else:
            value = text.split()
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return "" if value is None else str(value)


def _joined(row: Sequence[object], lists: list[int]) -> list[object]:
    cells = list(row)
    for index in lists:
        if index < len(cells):
            cells[index] = list_cell(cells[index])
    return cells


def read_hxl(text: str) -> tuple[list[str], list[str], list[list[str]]]:
    """Header, hashtags and data rows of HXL-tagged CSV: the hashtag row is the first row whose
    non-empty cells are all hashtags (HXL allows up to 24 header rows above it)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    for index, row in enumerate(rows[:25]):
        cells = [c.strip() for c in row if c.strip()]
        if cells and all(HASHTAG.match(c) for c in cells):
            header = rows[index - 1] if index else []
            return header, row, rows[index + 1 :]
    raise InputError("no HXL hashtag row in the first 25 rows", where="hxl", hint="add a row of #hashtags")
