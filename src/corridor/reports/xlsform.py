"""The registration form as an XLSForm, for ODK Collect and KoBoCollect.

One submission is one person, as one row of the import (``corridor.server.registration.imports``)
is: the household reference (the same for everyone of one household; a household card's code can
be scanned into it), the gathering point, the name, sex, age band, needs, wristband (scanned) and
phone. Choice lists hold the codes the service stores, labelled in English and Arabic
(``label::English (en)``, ``label::Arabic (ar)``). ODK adds ``meta/instanceID`` (``uuid:...``) to
every submission: the import keeps it, so importing an export twice stores each person once.

Fields are grouped (``household``, ``person``); exports name their columns by the group path
(``household/household_id`` in KoBo, ``household-household_id`` in ODK Central), which the
import reads.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FORM_ID = "corridor_registration"
EN = "label::English (en)"
AR = "label::Arabic (ar)"
HINT_EN = "hint::English (en)"
HINT_AR = "hint::Arabic (ar)"

# Labels of the codes, in English and Arabic.
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "sex": {
        "female": ("Female", "أنثى"),
        "male": ("Male", "ذكر"),
        "other": ("Other", "آخر"),
        "unknown": ("Unknown", "غير معروف"),
    },
    "age_band": {
        "0-4": ("0-4 years", "0-4 سنوات"),
        "5-11": ("5-11 years", "5-11 سنة"),
        "12-17": ("12-17 years", "12-17 سنة"),
        "18-59": ("18-59 years", "18-59 سنة"),
        "60+": ("60 years or more", "60 سنة فأكثر"),
        "unknown": ("Unknown", "غير معروف"),
    },
    "vulnerabilities": {
        "wounded": ("Wounded", "جريح"),
        "stretcher": ("Needs a stretcher", "يحتاج نقالة"),
        "wheelchair": ("Wheelchair", "كرسي متحرك"),
        "unaccompanied_child": ("Unaccompanied child", "طفل غير مصحوب"),
        "pregnant": ("Pregnant", "حامل"),
        "elderly": ("Elderly", "مسن"),
    },
}


@dataclass(frozen=True)
class Codes:
    """The codes the service accepts, list by list (each must have its labels in ``LABELS``)."""

    sexes: Sequence[str]
    age_bands: Sequence[str]
    vulnerabilities: Sequence[str]


def _question(kind: str, name: str, en: str, ar: str, **more: str) -> dict[str, str]:
    return {"type": kind, "name": name, EN: en, AR: ar, **more}


def survey(codes: Codes) -> list[dict[str, str]]:
    """The survey sheet's rows."""
    del codes  # the questions are the same whatever the codes; the choices hold them
    return [
        _question("begin_group", "household", "Household", "الأسرة"),
        _question(
            "text",
            "household_id",
            "Household reference",
            "رقم الأسرة",
            required="yes",
            **{
                HINT_EN: "The same for everyone of one household (the household card).",
                HINT_AR: "نفسه لكل أفراد الأسرة الواحدة (بطاقة الأسرة).",
            },
        ),
        _question("text", "gathering_point", "Gathering point", "نقطة التجمع"),
        _question("end_group", "", "", ""),
        _question("begin_group", "person", "Person", "الشخص"),
        _question("text", "name", "Full name", "الاسم الكامل", required="yes"),
        _question("select_one sex", "sex", "Sex", "الجنس", required="yes"),
        _question("select_one age_band", "age_band", "Age", "العمر", required="yes"),
        _question("select_multiple vulnerabilities", "vulnerabilities", "Needs", "الاحتياجات"),
        _question("barcode", "wristband", "Wristband (scan)", "السوار (امسح الرمز)"),
        _question("text", "phone", "Phone", "الهاتف", appearance="numbers"),
        _question("end_group", "", "", ""),
    ]


def choices(codes: Codes) -> list[dict[str, str]]:
    """The choices sheet's rows: our codes, labelled."""
    rows = []
    for list_name, values in (
        ("sex", codes.sexes),
        ("age_band", codes.age_bands),
        ("vulnerabilities", codes.vulnerabilities),
    ):
        for code in values:
            en, ar = LABELS[list_name][code]
            rows.append({"list_name": list_name, "name": code, EN: en, AR: ar})
    return rows


def settings(title: str, version: str) -> list[dict[str, str]]:
    return [
        {
            "form_title": title,
            "form_id": FORM_ID,
            "version": version,
            "default_language": "English (en)",
        }
    ]


def sheets(codes: Codes, *, title: str, version: str) -> dict[str, list[dict[str, str]]]:
    return {"survey": survey(codes), "choices": choices(codes), "settings": settings(title, version)}


def xlsform_bytes(codes: Codes, *, title: str = "Registration", version: str = "1") -> bytes:
    """The XLSForm as an .xlsx file (three sheets: survey, choices, settings)."""
    openpyxl = importlib.import_module("openpyxl")  # no type stubs are installed
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets(codes, title=title, version=version).items():
        sheet = book.create_sheet(name)
        header = _header(rows)
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(column, "") for column in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    header: list[str] = []
    for row in rows:
        header += [key for key in row if key not in header]
    return header


def to_xform(data: bytes, *, validate: bool = False) -> str:
    """The XForm (XML) pyxform makes of an XLSForm; with ``validate``, ODK Validate (Java)
    checks it too. Raises ``pyxform.errors.PyXFormError`` for a form pyxform refuses."""
    convert = importlib.import_module("pyxform.xls2xform").convert
    result = convert(xlsform=data, validate=validate, file_type=".xlsx", form_name="data")
    return str(result.xform)
