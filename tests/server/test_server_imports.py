"""CSV and XLSX imports of field forms: a report of rejected rows, nothing half-imported."""

from __future__ import annotations

import importlib
import io
from typing import Any

from server.conftest import World

KOBO = (
    "_index,household/hh_id,household/person/full_name,household/person/age,"
    "household/person/gender,household/person/needs,household/gathering_point,_uuid\n"
    "1,H1,فاطمة الحسن,34,female,pregnant,gp-a,x\n"
    "2,H1,Omar al-Hassan,7,m,,gp-a,y\n"
    "3,H2,Samir Khalil,71,male,elderly wheelchair,gp-b,z\n"
)


def upload(world: World, name: str, data: bytes, query: str = "") -> Any:
    return world.client.post(
        world.url(f"/imports/registrations{query}"),
        files={"file": (name, data)},
        headers=world.as_role("registrar"),
    )


def people(world: World) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = world.client.get(world.url("/people"), headers=world.coordinator).json()[
        "people"
    ]
    return found


def test_a_kobo_csv_export_is_imported_by_household(world: World) -> None:
    answer = upload(world, "kobo.csv", KOBO.encode())
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["households"], report["people"], report["rejected"]) == (2, 3, [])
    assert set(report["ignored_columns"]) == {"_index"}  # _uuid is the submission id
    stored = {p["name"]: p for p in people(world)}
    assert stored["Omar al-Hassan"]["age_band"] == "5-11" and stored["Omar al-Hassan"]["sex"] == "male"
    assert stored["Samir Khalil"]["vulnerabilities"] == ["elderly", "wheelchair"]
    assert stored["فاطمة الحسن"]["household_id"] == stored["Omar al-Hassan"]["household_id"]


def test_any_bad_row_stops_the_whole_import_with_a_report(world: World) -> None:
    bad = KOBO + "4,H3,Nour,abc,female,,gp-a,w\n5,H3,Ziad,40,robot,,gp-a,v\n"
    answer = upload(world, "kobo.csv", bad.encode())
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert "nothing was imported" in error["message"]
    rows = {d["where"].split(":")[0] for d in error["details"]}
    assert rows == {"row 5", "row 6"}
    assert people(world) == []


def test_accepting_valid_rows_never_imports_half_a_household(world: World) -> None:
    bad = KOBO + "4,H3,Nour,30,female,,gp-a,w\n5,H3,Ziad,40,robot,,gp-a,v\n"
    report = upload(world, "kobo.csv", bad.encode(), "?accept_valid_rows=true").json()
    assert (report["households"], report["people"]) == (2, 3)
    reasons = {r["row"]: r["where"] for r in report["rejected"]}
    assert reasons == {5: "household", 6: "sex"}
    assert "Nour" not in {p["name"] for p in people(world)}


def test_missing_columns_are_named(world: World) -> None:
    answer = upload(world, "form.csv", b"name,colour\nA,red\n")
    assert answer.status_code == 422
    assert "sex" in answer.json()["error"]["message"]


def test_an_xlsx_export_with_one_column_per_choice(world: World) -> None:
    book = importlib.import_module("openpyxl").Workbook()  # no type stubs are installed
    sheet = book.active
    assert sheet is not None
    sheet.append(["hh_id", "name", "age_band", "sex", "vulnerabilities/wounded", "vulnerabilities/stretcher"])
    sheet.append(["A", "Layla", "18-59", "female", "1", "1"])
    sheet.append(["A", "Yusuf", "0-4", "male", "0", "0"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = upload(world, "form.xlsx", buffer.getvalue()).json()
    assert report["people"] == 2
    stored = {p["name"]: p for p in people(world)}
    assert stored["Layla"]["vulnerabilities"] == ["stretcher", "wounded"]


def test_a_file_that_is_not_text_is_refused(world: World) -> None:
    answer = upload(world, "form.csv", bytes(range(128, 256)) * 4)
    assert answer.status_code == 422


def test_an_age_that_is_not_a_finite_number_is_refused_with_its_row(world: World) -> None:
    for age in ("NaN", "nan", "inf", "-Infinity"):
        bad = KOBO + f"4,H3,Nour,{age},female,,gp-a,w\n"
        answer = upload(world, "kobo.csv", bad.encode())
        assert answer.status_code == 422, answer.text
        [detail] = answer.json()["error"]["details"]
        assert detail["where"].startswith("row 5"), detail
        assert age in detail["message"]
    assert people(world) == []
