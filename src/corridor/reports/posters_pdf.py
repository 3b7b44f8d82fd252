"""Notices as posters to print and put up at gathering points: PDF, A4 or A3, one language per
poster, with a QR code of the public page where the latest notices are.

Set in DejaVu Sans with HarfBuzz shaping, as the sitrep and trip sheets (see
:mod:`corridor.reports.sitrep_pdf`); the QR code is drawn as squares (no image), so the file
stays small and sharp at any size. A void notice is printed with a red banner saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import segno
from fpdf import FPDF

from corridor.reports.sitrep_pdf import BLUE, FONT, FONT_DIR, FONT_FILES, RED, FontMissingError

Size = Literal["A4", "A3"]
SIZES: tuple[Size, ...] = ("A4", "A3")


def poster_pdf(
    title: str,
    lines: Sequence[str],
    *,
    url: str,
    scan: str,
    rtl: bool,
    size: Size = "A4",
    void: str | None = None,
    font_dir: Path = FONT_DIR,
) -> bytes:
    """A poster of ``title`` and ``lines`` with the QR code of ``url`` (``scan`` under it);
    ``void``, when given, is printed in red across the top. A3 is A4 scaled up."""
    missing = [name for name in FONT_FILES.values() if not (font_dir / name).is_file()]
    if missing:
        raise FontMissingError(
            f"the poster needs the font files {', '.join(missing)} in {font_dir}",
            where="poster.pdf",
            hint="install Debian's fonts-dejavu-core on the server (make setup-fonts)",
        )
    scale = 1.414 if size == "A3" else 1.0
    pdf = FPDF(orientation="portrait", unit="mm", format=size)
    pdf.set_margins(15 * scale, 15 * scale, 15 * scale)
    pdf.set_auto_page_break(auto=True, margin=12 * scale)
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT, style, str(font_dir / name))
    if rtl:
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language="ara")
    else:
        pdf.set_text_shaping(use_shaping_engine=True, direction="ltr")
    pdf.set_title(title)
    pdf.add_page()
    align = "R" if rtl else "L"
    width = pdf.epw
    if void:
        pdf.set_fill_color(*RED)
        pdf.set_text_color(255, 255, 255)
        pdf.set_font(FONT, "B", 20 * scale)
        pdf.multi_cell(width, 12 * scale, void, align="C", fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3 * scale)
    pdf.set_fill_color(*BLUE)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FONT, "B", 26 * scale)
    pdf.multi_cell(width, 14 * scale, title, align=align, fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(5 * scale)
    for number, line in enumerate(lines):
        big = number < 2  # who it is for and when: the largest
        pdf.set_font(FONT, "B" if big else "", (18 if big else 14) * scale)
        pdf.multi_cell(width, (9 if big else 7.5) * scale, line, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2.5 * scale)
    _qr(pdf, url, scan, side=60 * scale)
    return bytes(pdf.output())


def _qr(pdf: FPDF, url: str, scan: str, *, side: float) -> None:
    """The QR code of ``url``, ``side`` mm wide, centred at the foot of the page, with ``scan``."""
    qr = segno.make_qr(url, error="m")
    matrix = [list(row) for row in qr.matrix_iter(border=2)]
    module = side / len(matrix)
    top = max(pdf.get_y() + 4, pdf.h - pdf.b_margin - side - 12)
    if top + side + 10 > pdf.h - pdf.b_margin + 8:
        pdf.add_page()
        top = pdf.get_y()
    left = (pdf.w - side) / 2
    pdf.set_fill_color(0, 0, 0)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pdf.rect(left + x * module, top + y * module, module + 0.01, module + 0.01, style="F")
    pdf.set_xy(pdf.l_margin, top + side + 1)
    pdf.set_font(FONT, "", 11)
    pdf.cell(pdf.epw, 6, scan, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.cell(pdf.epw, 5, url, align="C")
