"""ODK Collect / KoBoCollect round trip, on SQLite and PostgreSQL: the registration form downloaded
from the service -> pyxform's XForm -> submissions exported as KoBo and ODK Central write them ->
the import -> the people stored; the same export imported again stores no one twice."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from typing import Any

import openpyxl  # type: ignore[import-untyped, unused-ignore]

from corridor.reports.xlsform import to_xform
from server.conftest import World

XF = "{http://www.w3.org/2002/xforms}"
KOBO = [
    "start",
    "end",
    "household/household_id",
    "household/gathering_point",
    "person/name",
    "person/sex",
    "person/age_band",
    "person/vulnerabilities",
    "person/vulnerabilities/wounded",
    "person/vulnerabilities/stretcher",
    "person/wristband",
    "person/phone",
    "meta/instanceID",
    "_id",
    "_uuid",
    "_submission_time",
]
PEOPLE = [
    ("hh-7", "gp-a", "محمد علي الحلبي", "male", "18-59", "", "QR-1"),
    ("hh-7", "gp-a", "فاطمة حسن حداد", "female", "18-59", "wounded stretcher", "QR-2"),
    ("hh-7", "gp-a", "Youssef Mohammed al-Halabi", "male", "5-11", "", ""),
    ("hh-8", "gp-b", "Huda Khatib", "female", "60+", "", "QR-3"),
]


def form_fields(world: World) -> tuple[set[str], dict[str, set[str]]]:
    """The data fields of the form the service hands out (by pyxform's XForm) and its choices."""
    answer = world.client.get(
        world.url("/exports/registration-form.xlsx"), headers=world.as_role("registrar")
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith(
        'attachment; filename="east-aleppo_registration-form_'
    )
    root = ET.fromstring(to_xform(answer.content))
    binds = {b.get("nodeset", "") for b in root.iter(f"{XF}bind")}
    choices: dict[str, set[str]] = {}
    for instance in root.iter(f"{XF}instance"):
        if instance.get("id"):
            choices[instance.get("id", "")] = {e.text or "" for e in instance.iter(f"{XF}name")}
    return {b.removeprefix("/data/") for b in binds}, choices


def kobo_rows() -> list[dict[str, str]]:
    rows = []
    for n, (household, point, name, sex, band, needs, wristband) in enumerate(PEOPLE, start=1):
        uuid = f"8c1e2a4b-0000-4000-8000-00000000000{n}"
        rows.append(
            {
                "start": "2016-12-15T08:00:00.000+02:00",
                "end": "2016-12-15T08:03:00.000+02:00",
                "household/household_id": household,
                "household/gathering_point": point,
                "person/name": name,
                "person/sex": sex,
                "person/age_band": band,
                "person/vulnerabilities": needs,
                "person/vulnerabilities/wounded": "1" if "wounded" in needs else "0",
                "person/vulnerabilities/stretcher": "1" if "stretcher" in needs else "0",
                "person/wristband": wristband,
                "person/phone": "",
                "meta/instanceID": f"uuid:{uuid}",
                "_id": str(1000 + n),
                "_uuid": uuid,
                "_submission_time": "2016-12-15T06:05:00",
            }
        )
    return rows


def as_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=";")  # KoBo's CSV export uses ;
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def upload(world: World, name: str, data: bytes) -> Any:
    return world.client.post(
        world.url("/imports/registrations"), files={"file": (name, data)}, headers=world.coordinator
    )


def people(world: World) -> list[dict[str, Any]]:
    return list(world.client.get(world.url("/people?limit=100"), headers=world.coordinator).json()["people"])


def test_kobo_submissions_of_the_generated_form_are_stored_once(world: World) -> None:
    fields, choices = form_fields(world)
    rows = kobo_rows()
    for row in rows:  # every answer is a field of the form, every code one of its choices
        assert {k for k in row if "/" in k and k.count("/") == 1} <= fields
        assert row["person/sex"] in choices["sex"] and row["person/age_band"] in choices["age_band"]
        assert set(row["person/vulnerabilities"].split()) <= choices["vulnerabilities"]
    data = as_csv(KOBO, rows)
    first = upload(world, "kobo.csv", data)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["households"], report["people"], report["already_imported"]) == (2, 4, 0)
    stored = {p["name"]: p for p in people(world)}
    assert set(stored) == {row[2] for row in PEOPLE}
    assert stored["فاطمة حسن حداد"]["vulnerabilities"] == ["stretcher", "wounded"]
    assert stored["Huda Khatib"]["wristband"] == "QR-3" and stored["Huda Khatib"]["age_band"] == "60+"
    assert stored["محمد علي الحلبي"]["household_id"] == stored["Youssef Mohammed al-Halabi"]["household_id"]
    again = upload(world, "kobo.csv", data)
    assert again.status_code == 200, again.text
    assert (again.json()["people"], again.json()["already_imported"]) == (0, 4)
    assert len(people(world)) == 4
    # A later export holds the old submissions and a new one: only the new one is stored.
    later = [*rows, {**rows[-1], "person/name": "Rana Khatib", "person/wristband": "QR-4", "_uuid": "new-1",
                     "meta/instanceID": "uuid:new-1"}]  # fmt: skip
    third = upload(world, "kobo.csv", as_csv(KOBO, later)).json()
    assert (third["people"], third["already_imported"]) == (1, 4)
    assert len(people(world)) == 5


def test_odk_central_export_as_xlsx_reads_back_and_repeats_are_stored_once(world: World) -> None:
    header = [
        "SubmissionDate",
        "household-household_id",
        "household-gathering_point",
        "person-name",
        "person-sex",
        "person-age_band",
        "person-vulnerabilities",
        "meta-instanceID",
        "KEY",
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for n, (household, point, name, sex, band, needs, _) in enumerate(PEOPLE, start=1):
        key = f"uuid:0f0e0d0c-1111-4222-8333-44444444444{n}"
        sheet.append(["2016-12-15T06:05:00.000Z", household, point, name, sex, band, needs, key, key])
    sheet.append([c.value for c in sheet[3]])  # the second submission exported twice
    out = io.BytesIO()
    book.save(out)
    answer = upload(world, "odk.xlsx", out.getvalue())
    assert answer.status_code == 200, answer.text
    assert (answer.json()["people"], answer.json()["already_imported"]) == (4, 1)
    assert len(people(world)) == 4


def test_a_submission_with_a_code_the_form_does_not_have_is_refused_by_row(world: World) -> None:
    rows = kobo_rows()
    rows[1]["person/sex"] = "femme"
    answer = upload(world, "kobo.csv", as_csv(KOBO, rows))
    assert answer.status_code == 422, answer.text
    assert "row 3" in answer.text and "sex" in answer.text
    assert people(world) == []
