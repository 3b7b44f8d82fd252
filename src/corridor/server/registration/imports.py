"""Import of registrations from a CSV or XLSX export of a field form (KoBo Toolbox, ODK).

Column names are matched after taking the last part of a group path ("household/person/name" ->
"name") and lower-casing; the usual spellings are accepted (see ``_ALIASES``). Each row is one
person; rows with the same household id form one household (a row without one is a household of
its own). Vulnerabilities come as one select-multiple column ("wounded stretcher") or as one 0/1
column per choice ("vulnerabilities/wounded").

An import never holds the write transaction while it reads the file: the file is read, checked
and made into households first (:func:`prepare`, no database), then stored a bounded number of
people per transaction (:func:`store`), so that scans are written between the chunks. The file is
bounded before it is parsed: its size, an XLSX's uncompressed size as its zip directory states it
(a zip bomb is refused before openpyxl opens it), rows, columns and the length of a cell.
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import math
import time
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, CorridorError, InputError
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.errors import InputProblemsError, TooLargeError
from corridor.server.ids import new_id
from corridor.server.operations import service as operations
from corridor.server.registration import service
from corridor.server.registration.import_worker import Ready, WorkerFailedError, matching_for
from corridor.server.registration.schemas import (
    VULNERABILITIES,
    HouseholdIn,
    ImportRejection,
    ImportReport,
    PersonIn,
)
from corridor.server.registration.tables import Person

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
    # ODK's submission id (meta/instanceID, ODK Central's KEY, KoBo's _uuid): one person each.
    "instance": {"instanceid", "instance_id", "_uuid", "uuid", "key"},
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

# Bounds on a file, checked before or while it is parsed (the request body has its own cap).
MAX_FILE_BYTES = 32 * 1024 * 1024
# What an XLSX may unpack to, in total, by its zip directory; and how many parts it may hold.
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_XLSX_PARTS = 1000
MAX_COLUMNS = 500
MAX_EMPTY_ROWS = 10_000
MAX_CELL_CHARS = 32_767  # a spreadsheet cell's own limit
# People stored per write transaction: at most CHUNK_PEOPLE, and as many as the last transaction's
# pace says fit in CHUNK_SECONDS (at least CHUNK_LEAST), starting at CHUNK_FIRST and growing at most
# by CHUNK_GROWTH a transaction (a fast transaction, its commit's flush to disk quick by chance, made
# the next one several times too long). Between two transactions the import rests as long as the
# last one took (at least CHUNK_PAUSE): scans get the write lock, and the interpreter, at least half
# the time. A chunk is written a slice of about CHUNK_SLICE people at a time, and committed as soon
# as it has taken CHUNK_SECONDS or another write waits (a scan), the rest of it in the next
# transaction: a scan that comes while a chunk is written waits for one slice and a commit.
CHUNK_PEOPLE = 500
CHUNK_FIRST = 40
CHUNK_LEAST = 10
CHUNK_GROWTH = 1.5
CHUNK_SECONDS = 0.015
CHUNK_PAUSE = 0.01
CHUNK_SLICE = 25


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
    """Header and rows of a CSV (UTF-8, or Windows Arabic code page 1256) or XLSX file, within
    the bounds above (413 naming the file and the limit past one; 422 for a file not readable)."""
    where = f"file {filename}"
    if len(data) > MAX_FILE_BYTES:
        raise TooLargeError(
            f"the file has {len(data)} bytes; the most accepted is {MAX_FILE_BYTES}",
            where=where,
            hint="split the file and import the parts one after the other",
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        lines = _xlsx_lines(data, where, max_rows=max_rows)
    else:
        lines = _csv_lines(data, where, max_rows=max_rows)
    header = lines[0]
    return header, [dict(zip(header, line, strict=False)) for line in lines[1:]]


def _bounded(lines: Iterable[tuple[int, list[str]]], where: str, *, max_rows: int) -> list[list[str]]:
    """The header and the rows that are not empty, refused past ``max_rows`` rows, ``MAX_COLUMNS``
    columns or ``MAX_CELL_CHARS`` characters in a cell, or with a NUL character in a cell."""
    kept: list[list[str]] = []
    empty = 0
    for number, line in lines:
        if not kept or any(line):
            _check_cells(number, line, where)
            kept.append(line)
        else:
            empty += 1
            if empty > MAX_EMPTY_ROWS:
                raise TooLargeError(
                    f"the file has more than {MAX_EMPTY_ROWS} empty rows",
                    where=where,
                    hint="delete the empty rows, or export CSV",
                )
        if len(kept) > max_rows + 1:
            raise TooLargeError(
                f"the file has more than {max_rows} rows; the most accepted at once is {max_rows}",
                where=where,
                hint="split the file and import the parts one after the other",
            )
    if not kept:
        raise InputError("the file is empty", where=where, hint="export the form with a header row")
    return kept


def _check_cells(number: int, line: list[str], where: str) -> None:
    if len(line) > MAX_COLUMNS:
        raise TooLargeError(
            f"row {number} has {len(line)} columns; the most accepted is {MAX_COLUMNS}",
            where=f"{where}, row {number}",
            hint="export only the form's own columns",
        )
    for column, cell in enumerate(line, start=1):
        if len(cell) > MAX_CELL_CHARS:
            raise TooLargeError(
                f"row {number}, column {column} holds {len(cell)} characters; "
                f"the most accepted in a cell is {MAX_CELL_CHARS}",
                where=f"{where}, row {number}, column {column}",
                hint="check that the file is the form's export",
            )
        if "\x00" in cell:
            raise InputError(
                f"row {number}, column {column} holds a NUL character",
                where=f"{where}, row {number}, column {column}",
                hint="the file is damaged or not text; export the form again",
            )


def _csv_lines(data: bytes, where: str, *, max_rows: int) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1256", errors="strict") if _is_cp1256(data) else ""
        if not text:
            raise InputError(
                "the file is neither UTF-8 nor Windows-1256 text",
                where=where,
                hint="export the form as CSV in UTF-8",
            ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(
            f"the file holds a NUL character (line {line}): it is not a CSV text file",
            where=f"{where}, line {line}",
            hint="export the form as CSV in UTF-8",
        )
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return _bounded(((reader.line_num, line) for line in reader), where, max_rows=max_rows)
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise TooLargeError(
                f"line {reader.line_num} holds a cell of more than {csv.field_size_limit()} characters; "
                f"the most accepted in a cell is {MAX_CELL_CHARS}",
                where=f"{where}, line {reader.line_num}",
                hint="check that the file is the form's export",
            ) from None
        raise InputError(
            f"line {reader.line_num} cannot be read as CSV ({exc})",
            where=f"{where}, line {reader.line_num}",
            hint="export the form as CSV again",
        ) from None


def _is_cp1256(data: bytes) -> bool:
    try:
        data.decode("cp1256")
    except UnicodeDecodeError:
        return False
    return True


def _check_zip(data: bytes, where: str) -> None:
    """Refuse an XLSX whose zip directory is damaged, or says it unpacks to more than
    ``MAX_XLSX_UNPACKED_BYTES`` (a zip bomb), before openpyxl reads any of it. Python's zip
    reader stops each part at the size its directory states, so the stated sizes bound what
    reading can unpack."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise InputError(
            f"the XLSX file is not a readable zip archive ({exc})",
            where=where,
            hint="save it again as .xlsx or export CSV",
        ) from None
    unpacked = sum(part.file_size for part in parts)
    if len(parts) > MAX_XLSX_PARTS or unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise TooLargeError(
            f"the XLSX file unpacks to {unpacked} bytes in {len(parts)} parts; the most accepted "
            f"is {MAX_XLSX_UNPACKED_BYTES} bytes in {MAX_XLSX_PARTS} parts",
            where=where,
            hint="split the sheet, or export CSV",
        )


def _cells(row: tuple[Any, ...]) -> list[str]:
    """A sheet row's values as text, without the empty cells at its end."""
    end = len(row)
    while end and (row[end - 1] is None or row[end - 1] == ""):
        end -= 1
    return ["" if v is None else str(v) for v in row[:end]]


def _xlsx_lines(data: bytes, where: str, *, max_rows: int) -> list[list[str]]:
    _check_zip(data, where)
    openpyxl = importlib.import_module("openpyxl")  # no type stubs are installed
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(
            f"cannot read the XLSX file ({type(exc).__name__})",
            where=where,
            hint="save it again as .xlsx or export CSV",
        ) from None
    try:
        if not book.worksheets:
            raise InputError("the file has no sheet", where=where, hint="put the form data first")
        # Rows come padded to max_col (or to the width the sheet claims, unbounded without it).
        rows = book.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        lines = ((n, _cells(row)) for n, row in enumerate(rows, start=1))
        return _bounded(lines, where, max_rows=max_rows)
    except CorridorError:
        raise
    except Exception as exc:  # a damaged sheet fails while it is read, not when it is opened
        raise InputError(
            f"cannot read the first sheet of the XLSX file ({type(exc).__name__})",
            where=where,
            hint="save it again as .xlsx or export CSV",
        ) from None
    finally:
        book.close()


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
    if not math.isfinite(age) or age < 0 or age > 130:
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


@dataclass
class Prepared:
    """A file read and checked, ready to store: its households in file order, each with the
    numbers of its rows, and the rows rejected; for a form's export, each person's submission
    id (``instances``, by household, None where a row has none) and how many rows repeated a
    submission id seen earlier in the file (``repeated``, left out)."""

    households: list[tuple[str, list[int], HouseholdIn]]
    rejected: list[ImportRejection]
    ignored_columns: list[str]
    instances: list[list[str | None]] = field(default_factory=list)
    repeated: int = 0

    @property
    def people(self) -> int:
        return sum(len(body.people) for _, _, body in self.households)


def prepare(filename: str, data: bytes, *, accept_valid_rows: bool, max_rows: int) -> Prepared:
    """Read, check and group a file into households; touches no database.

    Raises (422, every rejected row listed) if a row is rejected and ``accept_valid_rows`` is
    not set, and (409) if a wristband is given twice in the file."""
    header, rows = read_rows(filename, data, max_rows=max_rows)
    table = _map_columns(header)
    households: dict[str, list[tuple[int, PersonIn]]] = {}
    numbers: dict[str, list[int]] = {}
    gathering: dict[str, str | None] = {}
    rejected: list[ImportRejection] = []
    bad_households: set[str] = set()
    instance_of: dict[int, str] = {}
    seen_instances: set[str] = set()
    repeated = 0
    for number, row in enumerate(rows, start=2):
        instance = _instance(row.get(table.columns.get("instance", ""), "") or "")
        if instance is not None:
            if instance in seen_instances:
                repeated += 1  # the same submission twice in one export: stored once
                continue
            seen_instances.add(instance)
            instance_of[number] = instance
        key = (row.get(table.columns.get("household", ""), "") or "").strip() or f"row-{number}"
        gathering.setdefault(key, (row.get(table.columns.get("gathering_point", "")) or "").strip() or None)
        numbers.setdefault(key, []).append(number)
        try:
            households.setdefault(key, []).append((number, _person(table, row)))
        except (ValidationError, ValueError) as exc:
            rejected.extend(_rejections(number, exc))
            bad_households.add(key)
    bodies: list[tuple[str, list[int], HouseholdIn]] = []
    for key, members in households.items():
        if key in bad_households:
            continue
        try:
            body = HouseholdIn(
                reference=None if key.startswith("row-") else key,
                gathering_point=gathering.get(key),
                people=[p for _, p in members],
            )
        except ValidationError as exc:
            first = numbers[key][0]
            for problem in exc.errors():
                field_name = ".".join(str(p) for p in problem["loc"]) or "household"
                where = "household" if field_name == "reference" else field_name
                rejected.append(ImportRejection(row=first, where=where, message=problem["msg"]))
            bad_households.add(key)
            continue
        bodies.append((key, [n for n, _ in members], body))
    if rejected and not accept_valid_rows:
        raise InputProblemsError(
            f"{len({r.row for r in rejected})} rows rejected; nothing was imported",
            [{"where": f"row {r.row}: {r.where}", "message": r.message} for r in rejected],
            hint="correct the rows listed in details, or import with accept_valid_rows=true",
        )
    failed = {r.row for r in rejected}
    for key in bad_households:
        rows_of = ", ".join(str(n) for n in numbers[key])
        rejected.extend(
            ImportRejection(
                row=number,
                where="household",
                message=f"household {key} not imported: another of its rows ({rows_of}) failed",
            )
            for number in numbers[key]
            if number not in failed
        )
    _check_file_wristbands(bodies)
    instances = [[instance_of.get(n) for n in rows_of] for _, rows_of, _ in bodies]
    return Prepared(bodies, sorted(rejected, key=lambda r: r.row), table.ignored, instances, repeated)


def _instance(text: str) -> str | None:
    """A submission id as ODK writes it (``uuid:...``) or KoBo (without ``uuid:``), one form."""
    text = text.strip()
    if text.lower().startswith("uuid:"):
        text = text[5:]
    return text.lower() or None


# Person ids made from (operation, submission id): importing an export again finds them stored.
_SUBMISSIONS = uuid.UUID("6f1d7a52-3c2b-4d0e-9a55-0c2f4f7b9e11")


def person_id_of(operation_id: str, instance: str) -> str:
    """The id of the person a form submission registers in an operation."""
    return uuid.uuid5(_SUBMISSIONS, f"{operation_id}/{instance}").hex


def _not_stored_yet(
    db: Database, operation_id: str, prepared: Prepared
) -> tuple[Prepared, list[list[str]], int]:
    """``prepared`` without the people whose submission is stored already (a second import of
    an export), the ids to give the others, and how many were left out."""
    ids = [
        [person_id_of(operation_id, i) if i is not None else new_id() for i in instances]
        for instances in (prepared.instances or [[None] * len(b.people) for _, _, b in prepared.households])
    ]
    wanted = [
        pid
        for household, instances in zip(ids, prepared.instances, strict=False)
        for pid, i in zip(household, instances, strict=True)
        if i is not None
    ]
    stored: set[str] = set()
    with db.reading() as session:
        for start in range(0, len(wanted), 1000):
            stored.update(
                session.scalars(
                    select(Person.id).where(
                        Person.operation_id == operation_id, Person.id.in_(wanted[start : start + 1000])
                    )
                )
            )
    if not stored:
        return prepared, ids, 0
    kept: list[tuple[str, list[int], HouseholdIn]] = []
    kept_ids: list[list[str]] = []
    left = 0
    for (key, rows, body), household in zip(prepared.households, ids, strict=True):
        members = [
            (n, p, pid) for n, p, pid in zip(rows, body.people, household, strict=True) if pid not in stored
        ]
        left += len(body.people) - len(members)
        if members:
            kept.append(
                (
                    key,
                    [n for n, _, _ in members],
                    body.model_copy(update={"people": [p for _, p, _ in members]}),
                )
            )
            kept_ids.append([pid for _, _, pid in members])
    return Prepared(kept, prepared.rejected, prepared.ignored_columns, [], prepared.repeated), kept_ids, left


def _check_file_wristbands(bodies: list[tuple[str, list[int], HouseholdIn]]) -> None:
    seen: dict[str, str] = {}
    for key, rows, body in bodies:
        for person in body.people:
            if person.wristband is None:
                continue
            if person.wristband in seen:
                raise ConflictError(
                    f"wristband {person.wristband} is given twice in the file "
                    f"(households {seen[person.wristband]} and {key}, rows {', '.join(map(str, rows))})",
                    where="file",
                    hint="nothing was imported; give each person their own wristband and import again",
                )
            seen[person.wristband] = key


def _write(session: Session, operation_id: str, ready: Ready, committed: int) -> None:
    """Store a matched chunk: its wristbands checked in one statement (409 naming the first
    household with one given meanwhile), then every household in one flush."""
    wristbands = [p.wristband for _, people in ready.made for p in people if p.wristband]
    taken = service.taken_wristbands(session, operation_id, wristbands)
    for (key, rows), (_, people) in zip(ready.keys, ready.made, strict=True):
        clash = sorted({p.wristband for p in people if p.wristband in taken and p.wristband})
        if clash:
            raise ConflictError(
                f"household {key} (rows {', '.join(map(str, rows))}): wristband {', '.join(clash)} is "
                "already given to someone",
                where="file",
                hint=f"the {committed} households stored before it stay registered; import "
                "the rest again once the wristbands are corrected",
            )
    service.store_made(session, operation_id=operation_id, made=ready.made)


def _write_slices(
    db: Database, session: Session, operation_id: str, ready: Ready, committed: int, began: float
) -> int:
    """Write ``ready``'s households a slice of about :data:`CHUNK_SLICE` people at a time, until
    all are written, :data:`CHUNK_SECONDS` have passed since ``began`` or another write waits
    (:meth:`Database.others_writing`); how many households were written (at least one)."""
    written = 0
    while written < len(ready.made):
        end, size = written, 0
        while end < len(ready.made) and (end == written or size + len(ready.made[end][1]) <= CHUNK_SLICE):
            size += len(ready.made[end][1])
            end += 1
        part = Ready(made=ready.made[written:end], keys=ready.keys[written:end])
        _write(session, operation_id, part, committed)  # a conflict rolls back the slices before it
        written = end
        if time.monotonic() - began >= CHUNK_SECONDS or db.others_writing():
            break
    return written


def _stopped(at: tuple[str, list[int], HouseholdIn], committed: int) -> ConflictError:
    """The import stopped before household ``at`` because its worker process failed (killed, out
    of memory): the ``committed`` households stored before it stay, as after a conflict."""
    key, rows, _ = at
    return ConflictError(
        f"the import stopped at household {key} (rows {', '.join(map(str, rows))}): the import's "
        "worker process failed",
        where="file",
        hint=f"the {committed} households stored before it stay registered; import the rest of the "
        f"file again from row {min(rows)} (a new worker process starts)",
    )


@contextlib.contextmanager
def _synced(db: Database) -> Iterator[None]:
    """On the way out, however it is left, make the chunks written so far durable: an import
    answers (200, or 409 naming the households stored) only once they are on disk."""
    try:
        yield
    finally:
        db.sync()


def store(
    db: Database,
    *,
    sealer: Sealer,
    operation_id: str,
    prepared: Prepared,
    chunk_people: int = CHUNK_PEOPLE,
    key_file: Path | None = None,
) -> ImportReport:
    """Store prepared households a chunk per write transaction, so that scans are written between
    the chunks: at most ``chunk_people`` people, and as many as the last chunk's pace says are
    written in ``CHUNK_SECONDS`` (a household is never split). Each chunk's possible duplicates
    are worked out and its names sealed before its write transaction, with none open
    (:mod:`corridor.server.registration.import_worker`): with ``key_file`` (the service's) in
    the import worker process, at a lower priority, else in this thread. The transaction checks
    the wristbands and writes the chunk in one flush. Between two chunks the import rests as long
    as its work in this process (the writing, and the matching when done here) took, in which
    whoever waits for the write lock (the scans' writer) takes it and the scans have the
    interpreter to themselves.

    Wristbands already given in the operation are looked for first, and nothing is stored if one
    is; one given by another request while the import runs stops it with 409 naming how many
    households were stored before (they stay, as registrations do: each has its ledger event)."""
    prepared, person_ids, already = _not_stored_yet(db, operation_id, prepared)
    wristbands = [p.wristband for _, _, body in prepared.households for p in body.people if p.wristband]
    with db.reading() as session:
        operations.get(session, operation_id)
        for start in range(0, len(wristbands), 1000):
            try:
                service.check_wristbands(session, operation_id, wristbands[start : start + 1000])
            except ConflictError as exc:
                raise ConflictError(
                    exc.message,
                    where="file",
                    hint="nothing was imported; correct the wristbands and import again",
                ) from None
    households = people = duplicates = 0
    pending = prepared.households
    size, rest = min(chunk_people, CHUNK_FIRST), 0.0
    carried = Ready()  # households matched and made, not written yet
    # Each key's block is read once an import, by the matcher kept from one chunk to the next.
    with matching_for(db, sealer, key_file, operation_id, pending, person_ids) as match, _synced(db):
        while households < len(pending):
            time.sleep(rest)
            matching_began = time.monotonic()
            if not carried.made:
                try:
                    carried = match(households, size)
                except (BrokenProcessPool, WorkerFailedError):
                    raise _stopped(pending[households], households) from None
                duplicates += carried.duplicates
            began = time.monotonic()
            # Chunks commit without waiting for the disk (a scan's commit or the sync at the end
            # makes them durable): the write lock is held for the writing, not for the disk.
            with db.writing(durable=False) as session:
                service.lock_first(session)
                operations.get(session, operation_id)
                written = _write_slices(db, session, operation_id, carried, households, began)
            took = time.monotonic() - began
            done = sum(len(made) for _, made in carried.made[:written])
            households += written
            people += done
            carried = Ready(made=carried.made[written:], keys=carried.keys[written:])
            # Rest as long as this process worked on the chunk (the matching too when done here):
            # the import has the interpreter at most half the time, the write lock less.
            rest = max(CHUNK_PAUSE, time.monotonic() - (matching_began if match.in_process else began))
            # The next chunk as large as fits in CHUNK_SECONDS at this pace (within its bounds).
            fits = int(done * CHUNK_SECONDS / max(took, 0.001))
            size = max(CHUNK_LEAST, min(chunk_people, int(size * CHUNK_GROWTH), fits))
    return ImportReport(
        imported=True,
        households=households,
        people=people,
        rejected=prepared.rejected,
        possible_duplicates=duplicates,
        ignored_columns=prepared.ignored_columns,
        already_imported=already + prepared.repeated,
    )
