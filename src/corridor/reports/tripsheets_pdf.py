"""Trip sheets as a PDF (A4, a page or more per vehicle), with the sitrep PDF's fonts and shaping.

DejaVu Sans with HarfBuzz shaping (see :mod:`corridor.reports.sitrep_pdf`), so Arabic letters join
and run right to left; without the font no PDF can be made and the error says how to install it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF

from corridor.reports.sitrep_pdf import FONT, FONT_DIR, GREY, _document, _Page

if TYPE_CHECKING:
    from corridor.reports.tripsheets import Line, Rendered

LRI, PDI = "\u2066", "\u2069"  # a left-to-right isolate (as corridor.reports.tripsheets)

TIME_WIDTH = 34.0  # mm: the time column
LINE_HEIGHT = 5.2


def sheets_pdf(sheets: Sequence[Rendered], *, rtl: bool, title: str, font_dir: Path | None = None) -> bytes:
    """The rendered sheets as PDF bytes, each starting on a new page."""
    pdf = _document(font_dir or FONT_DIR, rtl)
    if not rtl:
        pdf.set_text_shaping(False)  # Latin text needs no shaping, and line breaking is much faster
    pdf.set_title(title)
    for sheet in sheets:
        pdf.add_page()
        page = _Page(pdf, rtl)
        page.banner(title, sheet.heading)
        for fact in sheet.facts:
            page.line(fact, size=9)
        for trip in sheet.trips:
            page.heading(trip.title)
            for line in trip.lines:
                _row(pdf, page, line)
        pdf.ln(3)
        pdf.set_font(FONT, "B", 10.5)
        pdf.multi_cell(page.width, 5.5, sheet.closing, align=page.align, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _row(pdf: FPDF, page: _Page, line: Line) -> None:
    """The time in its column, the instruction and its details beside it (mirrored for RTL)."""
    need = LINE_HEIGHT * (1 + len(line.details)) + 1.5
    if pdf.get_y() + need > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    text_w = page.width - TIME_WIDTH
    if page.rtl:
        time_x, text_x = pdf.l_margin + text_w, pdf.l_margin
    else:
        time_x, text_x = pdf.l_margin, pdf.l_margin + TIME_WIDTH
    pdf.set_xy(time_x, top)
    pdf.set_font(FONT, "B", 10)
    time = f"{LRI}{line.time}{PDI}" if page.rtl else line.time  # digits in their own order
    pdf.cell(TIME_WIDTH, LINE_HEIGHT, time, align=page.align)
    pdf.set_xy(text_x, top)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(text_w, LINE_HEIGHT, line.text, align=page.align, new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*GREY)
    for detail in line.details:
        pdf.set_x(text_x)
        pdf.multi_cell(text_w, LINE_HEIGHT - 0.8, "• " + detail, align=page.align, new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    bottom = max(pdf.get_y(), top + LINE_HEIGHT) + 0.8
    pdf.set_draw_color(210, 210, 210)
    pdf.line(pdf.l_margin, bottom, pdf.l_margin + page.width, bottom)
    pdf.set_xy(pdf.l_margin, bottom + 0.8)


__all__ = ["sheets_pdf"]
