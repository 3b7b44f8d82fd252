"""The sitrep model and its PDF: figures from the counts, text extracted back from the PDF."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from corridor.reports.sitrep import FIGURES, OverdueVehicle, Sitrep, gaps, highlights, key_figures, overview
from corridor.reports.sitrep_pdf import FONT_DIR, FONT_FILES, FontMissingError, sitrep_pdf
from corridor.server.web.i18n import languages

START = datetime(2016, 12, 15, 12, 30, tzinfo=UTC)
NOW = START + timedelta(hours=5)
OUT = Path(__file__).resolve().parents[2] / "out" / "sitrep"
needs_font = pytest.mark.skipif(
    not all((FONT_DIR / f).is_file() for f in FONT_FILES.values()),
    reason="fonts-dejavu-core is not installed (make setup-fonts installs it)",
)


def strict(code: str) -> Callable[..., str]:
    """The language's text function, failing on a key the language lacks."""
    language = languages()[code]

    def text(key: str, **values: object) -> str:
        assert key in language.messages, f"{code}.json lacks {key}"
        return language.text(key, **values)

    return text


def sample() -> Sitrep:
    people = {
        "registered": 40,
        "boarded": 7,
        "passed_checkpoint": 5,
        "arrived": 31,
        "returned": 2,
        "missing": 3,
        "detained": 1,
    }
    return Sitrep(
        operation="East Aleppo",
        period_start=START,
        period_end=NOW,
        next_report=NOW + timedelta(hours=24),
        people=people,
        vehicles={"registered": 4, "boarded": 2, "passed_checkpoint": 1, "arrived": 6},
        incidents={"shelling": 2, "detention": 1},
        overdue_vehicles=(OverdueVehicle("BUS-07", "ramouseh", "rashideen", NOW - timedelta(minutes=20)),),
        people_not_seen=4,
        not_seen_data_pending=1,
        scanners_pending=1,
        events_pending=3,
        open_alarms=4,
        window_end=NOW + timedelta(hours=2, minutes=15),
        minutes_left=135.0,
        people_inside=56,
        arrivals=tuple(START + timedelta(minutes=9 * i) for i in range(31)),
    )


def test_key_figures_are_the_counts() -> None:
    figures = dict(key_figures(sample(), strict("en")))
    assert figures["People registered"] == 89
    assert figures["Arrived"] == 31 and figures["Missing"] == 3 and figures["Detained"] == 1
    assert figures["Vehicles departed"] == 9 and figures["Vehicles arrived"] == 6
    assert figures["Vehicles overdue"] == 1 and figures["Incidents reported"] == 3
    assert len(figures) == len(FIGURES)


def test_highlights_say_what_matters_in_both_languages() -> None:
    lines = highlights(sample(), strict("en"))
    assert 3 <= len(lines) <= 5
    assert lines[0] == "Arrived at reception points: 31 of the 89 registered (35%)."
    assert lines[1] == "Missing or detained: 4 (missing 3, detained 1)."
    assert lines[2] == "The ceasefire window ends in 2 h 15 min; still inside: 56."
    assert lines[4] == "Incidents reported: 3 (1 detention, 2 shelling)."
    arabic = highlights(sample(), strict("ar"))
    assert len(arabic) == len(lines) and "31 من أصل 89" in arabic[0]
    assert "BUS-07" in gaps(sample(), strict("ar"))[0]
    assert "arrived 31, on the way 12, waiting to board 40" in overview(sample(), strict("en"))


def test_a_quiet_operation_says_so() -> None:
    quiet = Sitrep("Quiet", START, NOW, NOW, people={"registered": 5}, vehicles={}, incidents={})
    text = strict("en")
    assert gaps(quiet, text) == ["No gap or constraint is known."]
    lines = highlights(quiet, text)
    assert "No one is reported missing or detained." in lines and "No incident reported." in lines
    assert "No ceasefire window is open now; still inside: 0." in lines


def _text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@needs_font
def test_the_pdf_holds_every_key_figure() -> None:
    pdf = sitrep_pdf(sample(), strict("en"), rtl=False)
    assert pdf.startswith(b"%PDF")
    text = _text_of(pdf)
    for label, value in key_figures(sample(), strict("en")):
        assert label in text and str(value) in text
    assert "Situation report" in text and "East Aleppo" in text and "Gaps and constraints" in text
    assert "BUS-07" in text
    _keep(pdf, "sitrep-en.pdf")


@needs_font
def test_the_arabic_pdf_is_shaped_right_to_left_and_keeps_its_words() -> None:
    pdf = sitrep_pdf(sample(), strict("ar"), rtl=True)
    text = _text_of(pdf)
    assert "تقرير" in text and "الوضع" in text  # words come back as letters, not boxes
    assert "الأرقام" in text and "BUS-07" in text
    for _label, value in key_figures(sample(), strict("ar")):
        assert str(value) in text
    _keep(pdf, "sitrep-ar.pdf")


def test_without_the_font_the_error_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(FontMissingError) as caught:
        sitrep_pdf(sample(), strict("en"), rtl=False, font_dir=tmp_path)
    assert "fonts-dejavu-core" in (caught.value.hint or "")
    assert "DejaVuSans.ttf" in caught.value.message


def _keep(pdf: bytes, name: str) -> None:
    """Keep the PDF (and its first page as PNG when poppler's pdftoppm is there) for review."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    path.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(path.with_suffix(""))],
            check=True,
        )
