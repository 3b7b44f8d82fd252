"""Registration imports: bounded files (zip bombs, rows, columns, cells, NUL characters), read
with no transaction open, stored in chunks; and fuzzed: never a server error, always the one
error shape."""

from __future__ import annotations

import importlib
import io
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.errors import InputProblemsError, TooLargeError
from corridor.server.ledger.service import lock_head
from corridor.server.ledger.tables import LedgerHead
from corridor.server.registration import imports
from server.conftest import World
from server.test_server_error_shape import SHAPE

HEADER = "hh_id,name,age,sex,wristband\n"


def upload(world: World, name: str, data: bytes, query: str = "") -> Any:
    return world.client.post(
        world.url(f"/imports/registrations{query}"),
        files={"file": (name, data)},
        headers=world.as_role("registrar"),
    )


def people_count(world: World) -> int:
    return len(world.client.get(world.url("/people?limit=1000"), headers=world.coordinator).json()["people"])


def refused(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert set(error) == SHAPE and error["status"] == status
    return error


def xlsx(rows: list[list[Any]]) -> bytes:
    book = importlib.import_module("openpyxl").Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(world: World) -> None:
    """A sheet of 101 MB of one letter packs into about 100 KB; its zip directory says so."""
    good = zipfile.ZipFile(io.BytesIO(xlsx([["hh_id", "name", "age", "sex"]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for part in good.infolist():
            if part.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(part, good.read(part))
        with bomb.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            sheet.write(b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
            for _ in range(101):
                sheet.write(b"A" * (1024 * 1024))
            sheet.write(b"</t></is></c></row></sheetData></worksheet>")
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    error = refused(upload(world, "bomb.xlsx", data), 413)
    assert error["where"] == "file bomb.xlsx"
    assert str(imports.MAX_XLSX_UNPACKED_BYTES) in error["message"]
    assert people_count(world) == 0


def test_a_damaged_xlsx_is_refused_naming_the_file(world: World) -> None:
    whole = xlsx([["hh_id", "name", "age", "sex"], ["A", "Layla", 30, "f"]])
    for damaged in (whole[: len(whole) // 2], whole[:100], b"PK\x03\x04" + b"\x00" * 200):
        error = refused(upload(world, "form.xlsx", damaged), 422)
        assert error["where"] == "file form.xlsx"


def test_a_cell_too_large_for_the_csv_reader_is_refused_naming_row_and_column(world: World) -> None:
    for size, where in ((100_000, "file form.csv, row 3, column 2"), (200_000, "file form.csv, line 3")):
        data = (HEADER + "A,Layla,30,f,w1\nB," + "x" * size + ",40,m,w2\n").encode()
        error = refused(upload(world, "form.csv", data), 413)
        assert error["where"] == where
        assert str(imports.MAX_CELL_CHARS) in error["message"]
    assert people_count(world) == 0


def test_nul_characters_are_refused_naming_the_line(world: World) -> None:
    data = (HEADER + "A,Layla,30,f,w1\nB,Om\x00ar,40,m,w2\n").encode()
    error = refused(upload(world, "form.csv", data), 422)
    assert error["where"] == "file form.csv, line 3"
    book = xlsx([["hh_id", "name", "age", "sex"], ["A", "La_x0000_yla", 30, "f"]])
    answer = upload(world, "form.xlsx", book)
    if answer.status_code != 200:  # openpyxl may keep the escape as text; never a NUL stored
        refused(answer, 422)
    assert all(
        "\x00" not in (p["name"] or "")
        for p in world.client.get(world.url("/people"), headers=world.coordinator).json()["people"]
    )


def test_too_many_columns_are_refused(world: World) -> None:
    header = "hh_id,name,age,sex," + ",".join(f"extra{n}" for n in range(600)) + "\n"
    error = refused(upload(world, "wide.csv", (header + "A,Layla,30,f\n").encode()), 413)
    assert error["where"] == "file wide.csv, row 1" and "500" in error["message"]


def test_a_file_over_the_byte_cap_is_refused_unread(world: World) -> None:
    with pytest.raises(TooLargeError) as caught:
        imports.read_rows("big.csv", b"x" * (imports.MAX_FILE_BYTES + 1), max_rows=10)
    assert caught.value.where == "file big.csv" and str(imports.MAX_FILE_BYTES) in caught.value.message


def test_rows_past_the_cap_are_refused_naming_the_cap() -> None:
    data = (HEADER + "".join(f"H{n},Person {n},30,f,\n" for n in range(11))).encode()
    with pytest.raises(TooLargeError) as caught:
        imports.read_rows("many.csv", data, max_rows=10)
    assert "10" in caught.value.message and caught.value.where == "file many.csv"
    header, rows = imports.read_rows("ten.csv", data[: data.index(b"H10")], max_rows=10)
    assert len(rows) == 10 and header[1] == "name"


def test_a_household_too_large_for_one_registration_is_a_rejected_row(world: World) -> None:
    """61 people under one household id (60 is the most a household holds) and a household id
    of 150 characters: rows rejected and named, not a server error."""
    big = "".join(f"H1,Person {n},30,f,\n" for n in range(61))
    long_id = "L" * 150 + ",Layla,30,f,\n"
    ok = "H2,Omar,40,m,\n"
    error = refused(upload(world, "form.csv", (HEADER + big + long_id + ok).encode()), 422)
    rows = {d["where"].split(":")[0] for d in error["details"]}
    assert rows == {"row 2", "row 63"}
    report = upload(
        world, "form.csv", (HEADER + big + long_id + ok).encode(), "?accept_valid_rows=true"
    ).json()
    assert (report["households"], report["people"]) == (1, 1)


def test_a_wristband_twice_in_the_file_stores_nothing(world: World) -> None:
    data = (HEADER + "A,Layla,30,f,w1\nB,Omar,40,m,w1\n").encode()
    error = refused(upload(world, "form.csv", data), 409)
    assert "w1" in error["message"] and error["where"] == "file"
    world.household({"name": "Samir", "age_band": "60+", "sex": "male", "wristband": "w9"})
    taken = refused(upload(world, "form.csv", (HEADER + "C,Nour,30,f,w9\n").encode()), 409)
    assert "w9" in taken["message"]
    assert people_count(world) == 1


class CountingDatabase(Database):
    """A database that notes the ledger's length as each write transaction ends."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.ends: list[int] = []

    @contextmanager
    def writing(self, *, durable: bool = True) -> Iterator[Session]:
        with super().writing(durable=durable) as session:
            yield session
            self.ends.append(session.scalar(select(LedgerHead.count)) or 0)


def test_an_import_is_stored_in_chunks_of_at_most_500_people(world: World, tmp_path: Any) -> None:
    rows = "".join(f"H{n // 3},Person {n},{20 + n % 50},{'fm'[n % 2]},w{n}\n" for n in range(1_300))
    prepared = imports.prepare("big.csv", (HEADER + rows).encode(), accept_valid_rows=False, max_rows=10_000)
    assert prepared.people == 1_300
    db = CountingDatabase(world.settings.database_url)
    sealer = Sealer.from_file(world.settings.key_file)
    before = _ledger_length(db)
    report = imports.store(db, sealer=sealer, operation_id=world.operation_id, prepared=prepared)
    db.dispose()
    assert (report.households, report.people) == (434, 1_300)
    sizes = [b - a for a, b in zip([before, *db.ends], db.ends, strict=False)]
    assert sum(sizes) == 1_300  # one "registered" event per person
    assert len(sizes) >= 3 and max(sizes) <= imports.CHUNK_PEOPLE  # more when a chunk runs out of time


class WaitedForDatabase(CountingDatabase):
    """A database in which, while the import's first write transaction is open, a scan's write
    (another thread) waits to write; what the import had written when it committed is noted."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.first_people: int | None = None
        self.other: threading.Thread | None = None

    def _scan(self) -> None:
        with super().writing() as session:
            lock_head(session)  # as a scan's append does (PostgreSQL: waits for the import's commit)

    @contextmanager
    def writing(self, *, durable: bool = True) -> Iterator[Session]:
        if self.other is not None or durable:  # the scan's own write, or after the first chunk
            with super().writing(durable=durable) as session:
                yield session
            return
        with super().writing(durable=durable) as session:
            lock_head(session)  # as the import's first append will
            self.other = threading.Thread(target=self._scan)
            self.other.start()
            while not self.others_writing():  # the scan's thread is in writing(), waiting
                time.sleep(0.001)
            before = session.scalar(select(LedgerHead.count)) or 0
            yield session
            self.first_people = (session.scalar(select(LedgerHead.count)) or 0) - before


def test_an_import_commits_its_chunk_early_when_a_scan_waits_to_write(world: World) -> None:
    """A chunk is written a slice at a time and committed as soon as another write waits: the
    scan waits for one slice, not for the chunk (which the test makes 500 people, 0.5 s long)."""
    rows = "".join(f"H{n // 5},Person {n},30,{'fm'[n % 2]},w{n}\n" for n in range(1_000))
    prepared = imports.prepare("big.csv", (HEADER + rows).encode(), accept_valid_rows=False, max_rows=10_000)
    db = WaitedForDatabase(world.settings.database_url)
    sealer = Sealer.from_file(world.settings.key_file)
    first, seconds = imports.CHUNK_FIRST, imports.CHUNK_SECONDS
    imports.CHUNK_FIRST, imports.CHUNK_SECONDS = 500, 0.5
    try:
        report = imports.store(db, sealer=sealer, operation_id=world.operation_id, prepared=prepared)
    finally:
        imports.CHUNK_FIRST, imports.CHUNK_SECONDS = first, seconds
    assert db.other is not None
    db.other.join(10)
    db.dispose()
    assert (report.households, report.people) == (200, 1_000)
    assert db.first_people == imports.CHUNK_SLICE  # one slice (five households of five), then the scan
    assert len(db.ends) >= 3  # the rest of the first chunk came in transactions of its own


class RacingDatabase(Database):
    """A database in which another registrar gives wristband ``w900`` just before the import's
    second write transaction."""

    def __init__(self, url: str, world: World) -> None:
        super().__init__(url)
        self.world = world
        self.opened = 0

    @contextmanager
    def writing(self, *, durable: bool = True) -> Iterator[Session]:
        self.opened += 1
        if self.opened == 2:
            self.world.household({"name": "Samir", "age_band": "60+", "sex": "male", "wristband": "w900"})
        with super().writing(durable=durable) as session:
            yield session


def test_a_wristband_given_while_the_import_runs_stops_it_naming_what_was_stored(world: World) -> None:
    rows = "".join(f"H{n // 5},Person {n},30,{'fm'[n % 2]},w{n}\n" for n in range(1_000))
    prepared = imports.prepare("big.csv", (HEADER + rows).encode(), accept_valid_rows=False, max_rows=10_000)
    db = RacingDatabase(world.settings.database_url, world)
    sealer = Sealer.from_file(world.settings.key_file)
    with pytest.raises(ConflictError) as caught:
        imports.store(db, sealer=sealer, operation_id=world.operation_id, prepared=prepared)
    db.dispose()
    assert "w900" in caught.value.message and "rows 902" in caught.value.message
    people = world.client.get(world.url("/people?limit=1000"), headers=world.coordinator).json()["people"]
    imported = len(people) - 1  # Samir came in his own registration
    assert imported % 5 == 0 and imported <= 900  # whole households of the chunks before the failing one
    assert caught.value.hint is not None and f"the {imported // 5} households stored" in caught.value.hint


def test_a_refused_file_opens_no_write_transaction(world: World) -> None:
    db = CountingDatabase(world.settings.database_url)
    with pytest.raises(InputProblemsError):
        imports.prepare(
            "bad.csv", (HEADER + "A,Layla,abc,f,\n").encode(), accept_valid_rows=False, max_rows=10
        )
    assert db.ends == []
    db.dispose()


def _ledger_length(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(LedgerHead.count)) or 0


# Fuzzing: whatever the bytes, an answer in the one shape and no server error.

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
VALID_XLSX = xlsx([["hh_id", "name", "age", "sex"], ["A", "Layla", 30, "f"], ["A", "Omar", 7, "m"]])
texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)


def assert_answered(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        error = answer.json()["error"]
        assert set(error) == SHAPE and error["status"] == answer.status_code
        assert error["message"] and "Traceback" not in answer.text


@FUZZ
@given(data=st.binary(max_size=3000), name=st.sampled_from(["f.csv", "f.xlsx", "f.txt"]))
def test_random_bytes_are_answered(world: World, data: bytes, name: str) -> None:
    assert_answered(upload(world, name, data))


@FUZZ
@given(
    cells=st.lists(
        st.lists(
            st.one_of(texts, st.sampled_from(["", "30", "f", "m", "\x00", "x" * 140_000, '"', "\r"])),
            min_size=1,
            max_size=6,
        ),
        max_size=8,
    ),
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1256"]),
    accept=st.booleans(),
)
def test_csv_tables_of_random_cells_are_answered(
    world: World, cells: list[list[str]], encoding: str, accept: bool
) -> None:
    text = HEADER + "\n".join(",".join(row) for row in cells)
    data = text.encode(encoding, errors="replace")
    assert_answered(upload(world, "f.csv", data, "?accept_valid_rows=true" if accept else ""))


@FUZZ
@given(
    cut=st.integers(min_value=0, max_value=len(VALID_XLSX)),
    flips=st.lists(st.integers(0, len(VALID_XLSX) - 1), max_size=8),
)
def test_broken_xlsx_files_are_answered(world: World, cut: int, flips: list[int]) -> None:
    data = bytearray(VALID_XLSX)
    for at in flips:
        data[at] ^= 0xFF
    assert_answered(upload(world, "f.xlsx", bytes(data[:cut] if cut else data)))


@FUZZ
@given(
    rows=st.lists(
        st.lists(st.one_of(texts, st.integers(-(2**70), 2**70), st.floats(), st.none()), max_size=6),
        max_size=6,
    )
)
def test_xlsx_sheets_of_random_values_are_answered(world: World, rows: list[list[Any]]) -> None:
    sheet = [["hh_id", "name", "age", "sex"], *rows]
    try:
        data = xlsx(sheet)
    except Exception:  # openpyxl refuses to write some values (control characters)
        return
    assert_answered(upload(world, "f.xlsx", data, "?accept_valid_rows=true"))


def test_possible_duplicates_name_the_first_twenty_matches_by_id(world: World) -> None:
    made = [world.household({"name": "Mohammed Ali", "age_band": "18-59", "sex": "male"}) for _ in range(22)]
    ids = sorted(h["people"][0]["id"] for h in made)
    again = world.household(
        {"name": "Muhammad Ali", "age_band": "18-59", "sex": "male"},
        {"name": "Muhammad Ali", "age_band": "5-11", "sex": "male"},
    )
    [duplicate] = again["possible_duplicates"]
    assert duplicate["person_id"] == again["people"][0]["id"]
    assert duplicate["matches"] == ids[:20]
