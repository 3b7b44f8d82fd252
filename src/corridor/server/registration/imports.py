"""Import of registrations from a CSV or XLSX export of a field form (KoBo Toolbox, ODK).

Column names are matched after taking the last part of a group path ("household/person/name" ->
"name") and lower-casing; the usual spellings are accepted (see ``_ALIASES``). Each row is one
person; rows with the same household id form one household (a row without one is a household of
its own). Vulnerabilities come as one select-multiple column ("wounded stretcher") or as one 0/1
column per choice ("vulnerabilities/wounded").
"""

from __future__ import annotations

import csv
import importlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, InputError
from corridor.server.encryption import Sealer
from corridor.server.errors import InputProblemsError, TooLargeError
from corridor.server.registration import service
from corridor.server.registration.schemas import (
    VULNERABILITIES,
    HouseholdIn,
    ImportRejection,
    ImportReport,
    PersonIn,
)

_ALIASES = {
    "household": {
        "household",
        "household_id",
        "hh",
        "hh_id",
        "family_id",
        "_parent_index",
        "parent_key",
    },
    "name": {"name", "full_name", "person_name", "fullname"},
    "age_band": {"age_band", "age_group", "ageband"},
    "age": {"age", "age_years"},
    "sex": {"sex", "gender"},
    "vulnerabilities": {"vulnerabilities", "vulnerability", "needs", "specific_needs"},
    "gathering_point": {"gathering_point", "assembly_point", "pickup_point", "gathering"},
    "wristband": {"wristband", "qr_code", "qr", "barcode", "wristband_id"},
    "phone": {"phone", "phone_number", "mobile"},
}
_REQUIRED = ("name", "sex")
_SEX = {
    "f": "female",
    "female": "female",
    "woman": "female",
    "girl": "female",
    "أنثى": "female",
    "انثى": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "boy": "male",
    "ذكر": "male",
    "other": "other",
    "": "unknown",
    "unknown": "unknown",
}
_TRUE = {"1", "true", "yes", "y", "نعم"}


def _column_key(header: str) -> str:
    name = header.strip().lower().rsplit("/", 1)[-1].replace(" ", "_")
    return name.rsplit("-", 1)[-1] if "-" in name else name


@dataclass
class _Table:
    columns: dict[str, str]  # our field -> header in the file
    flags: dict[str, str]  # vulnerability -> header of its 0/1 column
    ignored: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)


def read_rows(filename: str, data: bytes, *, max_rows: int) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV (UTF-8, or Windows Arabic code page 1256) or XLSX file."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        header, rows = _xlsx_rows(data)
    else:
        header, rows = _csv_rows(data)
    if len(rows) > max_rows:
        raise TooLargeError(
            f"the file has {len(rows)} rows; the most accepted at once is {max_rows}",
            where="file",
            hint="split the file and import the parts one after the other",
        )
    return header, rows


def _csv_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1256", errors="strict") if _is_cp1256(data) else ""
        if not text:
            raise InputError(
                "the file is neither UTF-8 nor Windows-1256 text",
                where="file",
                hint="export the form as CSV in UTF-8",
            ) from None
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    lines = list(reader)
    if not lines:
        raise InputError("the file is empty", where="file", hint="export the form with a header row")
    header = lines[0]
    return header, [dict(zip(header, line, strict=False)) for line in lines[1:] if any(line)]


def _is_cp1256(data: bytes) -> bool:
    try:
        data.decode("cp1256")
    except UnicodeDecodeError:
        return False
    return True


def _xlsx_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    openpyxl = importlib.import_module("openpyxl")  # no type stubs are installed
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(
            f"cannot read the XLSX file ({type(exc).__name__})",
            where="file",
            hint="save it again as .xlsx or export CSV",
        ) from exc
    sheet = book.worksheets[0]
    values = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    if not values:
        raise InputError("the first sheet is empty", where="file", hint="put the form data first")
    header = values[0]
    return header, [dict(zip(header, row, strict=False)) for row in values[1:] if any(row)]


def _map_columns(header: list[str]) -> _Table:
    columns: dict[str, str] = {}
    flags: dict[str, str] = {}
    ignored = []
    for raw in header:
        key = _column_key(raw)
        target = next((f for f, names in _ALIASES.items() if key in names), None)
        if target and target not in columns:
            columns[target] = raw
        elif key in VULNERABILITIES:
            flags[key] = raw
        else:
            ignored.append(raw)
    missing = [c for c in _REQUIRED if c not in columns]
    if "age_band" not in columns and "age" not in columns:
        missing.append("age_band or age")
    if missing:
        raise InputError(
            f"the file has no column for {', '.join(missing)}",
            where="file header",
            hint="name the columns name, sex and age (or age_band); KoBo group paths are fine",
        )
    return _Table(columns, flags, ignored)


def _age_band(age_text: str) -> str:
    age = float(age_text)
    if age < 0 or age > 130:
        raise ValueError(f"age {age_text} is not a person's age")
    for upper, band in ((5, "0-4"), (12, "5-11"), (18, "12-17"), (60, "18-59")):
        if age < upper:
            return band
    return "60+"


def _person(table: _Table, row: dict[str, str]) -> PersonIn:
    def get(name: str) -> str:
        header = table.columns.get(name)
        return (row.get(header) or "").strip() if header else ""

    band = get("age_band") or (_age_band(get("age")) if get("age") else "unknown")
    sex = _SEX.get(get("sex").casefold(), get("sex"))
    needs = get("vulnerabilities").replace(",", " ").split()
    needs += [v for v, header in table.flags.items() if (row.get(header) or "").strip().lower() in _TRUE]
    return PersonIn.model_validate(
        {
            "name": get("name"),
            "age_band": band,
            "sex": sex,
            "vulnerabilities": needs,
            "wristband": get("wristband") or None,
            "phone": get("phone") or None,
        }
    )


def _rejections(number: int, error: Exception) -> Iterator[ImportRejection]:
    if isinstance(error, ValidationError):
        for problem in error.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "row"
            yield ImportRejection(row=number, where=where, message=problem["msg"])
    else:
        yield ImportRejection(row=number, where="age", message=str(error))


def import_file(
    session: Session,
    *,
    sealer: Sealer,
    operation_id: str,
    filename: str,
    data: bytes,
    accept_valid_rows: bool,
    max_rows: int,
) -> ImportReport:
    """Import in the caller's transaction; raise (so the caller rolls back) unless all is well."""
    header, rows = read_rows(filename, data, max_rows=max_rows)
    table = _map_columns(header)
    households: dict[str, list[tuple[int, PersonIn]]] = {}
    gathering: dict[str, str | None] = {}
    rejected: list[ImportRejection] = []
    bad_households: set[str] = set()
    for number, row in enumerate(rows, start=2):
        key = (row.get(table.columns.get("household", ""), "") or "").strip() or f"row-{number}"
        gathering.setdefault(key, (row.get(table.columns.get("gathering_point", "")) or "").strip() or None)
        try:
            households.setdefault(key, []).append((number, _person(table, row)))
        except (ValidationError, ValueError) as exc:
            rejected.extend(_rejections(number, exc))
            bad_households.add(key)
    if rejected and not accept_valid_rows:
        raise InputProblemsError(
            f"{len({r.row for r in rejected})} rows rejected; nothing was imported",
            [{"where": f"row {r.row}: {r.where}", "message": r.message} for r in rejected],
            hint="correct the rows listed in details, or import with accept_valid_rows=true",
        )
    return _store(session, sealer, operation_id, households, gathering, bad_households, rejected, table)


def _store(
    session: Session,
    sealer: Sealer,
    operation_id: str,
    households: dict[str, list[tuple[int, PersonIn]]],
    gathering: dict[str, str | None],
    bad: set[str],
    rejected: list[ImportRejection],
    table: _Table,
) -> ImportReport:
    count = people = duplicates = 0
    for key, members in households.items():
        if key in bad:
            rows = ", ".join(str(n) for n, _ in members)
            for number, _ in members:
                rejected.append(
                    ImportRejection(
                        row=number,
                        where="household",
                        message=f"household {key} not imported: another of its rows ({rows}) failed",
                    )
                )
            continue
        body = HouseholdIn(
            reference=None if key.startswith("row-") else key,
            gathering_point=gathering.get(key),
            people=[p for _, p in members],
        )
        try:
            done = service.register_household(session, sealer=sealer, operation_id=operation_id, body=body)
        except ConflictError as exc:
            raise ConflictError(
                f"household {key} (rows {', '.join(str(n) for n, _ in members)}): {exc.message}",
                where="file",
                hint="nothing was imported; correct the wristbands and import again",
            ) from exc
        count += 1
        people += len(done.people)
        duplicates += len(done.duplicates)
    return ImportReport(
        imported=True,
        households=count,
        people=people,
        rejected=sorted(rejected, key=lambda r: r.row),
        possible_duplicates=duplicates,
        ignored_columns=table.ignored,
    )
