"""The registration form as an XLSForm: our codes as choice lists in English and Arabic; pyxform
makes an XForm of it (and ODK Validate accepts it where Java is installed); the CLI writes it."""

from __future__ import annotations

import io
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, get_args

import openpyxl  # type: ignore[import-untyped, unused-ignore]
import pytest
from typer.testing import CliRunner

from corridor.cli.main import app
from corridor.cli.xlsform import registration_codes
from corridor.reports.xlsform import AR, EN, LABELS, Codes, to_xform, xlsform_bytes
from corridor.server.registration.schemas import AGE_BANDS, VULNERABILITIES, Sex

XF = "{http://www.w3.org/2002/xforms}"


@pytest.fixture(scope="module")
def form() -> bytes:
    return xlsform_bytes(registration_codes(), title="East Aleppo", version="7")


def sheet(data: bytes, name: str) -> list[dict[str, Any]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_choice_lists_are_the_codes_the_service_stores_in_both_languages(form: bytes) -> None:
    choices = sheet(form, "choices")
    by_list: dict[str, list[str]] = {}
    for row in choices:
        by_list.setdefault(row["list_name"], []).append(row["name"])
        assert row[EN] and row[AR] and row[EN] != row[AR]
    assert by_list == {
        "sex": list(get_args(Sex)),
        "age_band": list(AGE_BANDS),
        "vulnerabilities": list(VULNERABILITIES),
    }
    survey = {row["name"]: row for row in sheet(form, "survey") if row["name"]}
    assert survey["sex"]["type"] == "select_one sex" and survey["wristband"]["type"] == "barcode"
    assert all(survey[n]["required"] == "yes" for n in ("household_id", "name", "sex", "age_band"))
    [settings] = sheet(form, "settings")
    assert settings["form_title"] == "East Aleppo" and settings["version"] == "7"


def test_pyxform_makes_an_xform_with_both_languages_and_an_instance_id(form: bytes) -> None:
    root = ET.fromstring(to_xform(form))
    languages = {t.get("lang") for t in root.iter(f"{XF}translation")}
    assert languages == {"English (en)", "Arabic (ar)"}
    binds = {b.get("nodeset") for b in root.iter(f"{XF}bind")}
    assert {"/data/person/name", "/data/household/household_id", "/data/meta/instanceID"} <= binds
    # Choices are secondary instances (one per list) of items named by their code.
    values = {e.text for item in root.iter(f"{XF}item") for e in item if e.tag in (f"{XF}name", f"{XF}value")}
    assert set(AGE_BANDS) | set(VULNERABILITIES) <= values


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs Java, not installed here")
def test_odk_validate_accepts_the_form(form: bytes) -> None:
    assert "<h:title>East Aleppo</h:title>" in to_xform(form, validate=True)


def test_a_code_without_labels_is_refused() -> None:
    with pytest.raises(KeyError, match="shoe"):
        xlsform_bytes(Codes(sexes=("female", "shoe"), age_bands=AGE_BANDS, vulnerabilities=()))
    assert set(LABELS["sex"]) == set(get_args(Sex))


def test_the_cli_writes_the_form_and_refuses_a_bad_path(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "form.xlsx"
    done = runner.invoke(app, ["xlsform", str(out), "--title", "Aleppo", "--version", "3"])
    assert done.exit_code == 0, done.output
    assert sheet(out.read_bytes(), "settings")[0]["form_title"] == "Aleppo"
    missing = runner.invoke(app, ["xlsform", str(tmp_path / "no" / "form.xlsx")])
    assert missing.exit_code == 2 and "no such folder" in missing.output
    wrong = runner.invoke(app, ["xlsform", str(tmp_path / "form.csv")])
    assert wrong.exit_code == 2 and ".xlsx" in wrong.output
