"""The sitrep as a PDF (A4, one or two pages) in English or Arabic.

Text is set in DejaVu Sans, a Unicode font that covers Latin and Arabic, with HarfBuzz text shaping
so Arabic letters join and run right to left. The font comes from Debian's ``fonts-dejavu-core``;
without it no PDF can be made, and the error says how to install it. The clearance curve is drawn
with lines (no image, no matplotlib), so the file stays small enough for a 2G link.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from corridor.core.errors import CorridorError
from corridor.reports.sitrep import (
    Sitrep,
    Text,
    curve_points,
    gaps,
    highlights,
    isolating,
    key_figures,
    overview,
    stamp,
)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT = "dejavu"
BLUE = (0, 84, 147)  # title bar and headings; white on it has a contrast of 7.9:1
GREY = (90, 90, 90)
RED = (176, 0, 32)


class FontMissingError(CorridorError):
    """The Unicode font the PDF needs is not installed on the server."""


def sitrep_pdf(sitrep: Sitrep, text: Text, *, rtl: bool, font_dir: Path = FONT_DIR) -> bytes:
    """The sitrep as PDF bytes, its words from ``text``; ``rtl`` for right-to-left languages."""
    pdf = _document(font_dir, rtl)
    if rtl:
        text = isolating(text)
    pdf.set_title(f"{text('sitrep.title')}: {sitrep.operation}")
    pdf.add_page()
    page = _Page(pdf, rtl)
    page.banner(text("sitrep.title"), sitrep.operation)
    page.line(text("sitrep.period", start=stamp(sitrep.period_start), end=stamp(sitrep.period_end)), size=10)
    page.heading(text("sitrep.highlights"))
    for item in highlights(sitrep, text):
        page.line("• " + item)
    page.heading(text("sitrep.key_figures"))
    page.figures(key_figures(sitrep, text))
    page.heading(text("sitrep.overview"))
    page.line(overview(sitrep, text))
    page.curve(sitrep, text("sitrep.curve_title"))
    page.heading(text("sitrep.gaps"))
    for item in gaps(sitrep, text):
        page.line("• " + item)
    page.heading(text("sitrep.next_report"))
    page.line(text("sitrep.next_report_at", time=stamp(sitrep.next_report)))
    return bytes(pdf.output())


def _document(font_dir: Path, rtl: bool) -> FPDF:
    missing = [name for name in FONT_FILES.values() if not (font_dir / name).is_file()]
    if missing:
        raise FontMissingError(
            f"the PDF needs the font files {', '.join(missing)} in {font_dir}",
            where="sitrep.pdf",
            hint="install Debian's fonts-dejavu-core on the server (apt-get install fonts-dejavu-core, "
            "or make setup-fonts); the page itself works without it",
        )
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(auto=True, margin=12)
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT, style, str(font_dir / name))
    if rtl:
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language="ara")
    else:
        pdf.set_text_shaping(use_shaping_engine=True, direction="ltr")
    return pdf


class _Page:
    """Writes blocks down the page, aligned to the reading side."""

    def __init__(self, pdf: FPDF, rtl: bool) -> None:
        self.pdf = pdf
        self.rtl = rtl
        self.align = "R" if rtl else "L"

    def isolate(self, words: str) -> str:
        """``words`` in their own order inside right-to-left text (see ``sitrep.isolating``)."""
        return f"\u2068{words}\u2069" if self.rtl else words

    @property
    def width(self) -> float:
        return float(self.pdf.epw)

    def banner(self, title: str, subtitle: str) -> None:
        pdf = self.pdf
        pdf.set_fill_color(*BLUE)
        pdf.set_text_color(255, 255, 255)
        pdf.set_font(FONT, "B", 18)
        pdf.cell(self.width, 11, title, align=self.align, fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 12)
        pdf.cell(self.width, 8, subtitle, align=self.align, fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(2)

    def heading(self, words: str) -> None:
        pdf = self.pdf
        pdf.ln(3)
        pdf.set_font(FONT, "B", 13)
        pdf.set_text_color(*BLUE)
        pdf.cell(self.width, 8, words, align=self.align, new_x="LMARGIN", new_y="NEXT")
        y = pdf.get_y()
        pdf.set_draw_color(*BLUE)
        pdf.line(pdf.l_margin, y, pdf.l_margin + self.width, y)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1.5)

    def line(self, words: str, *, size: float = 10.5) -> None:
        self.pdf.set_font(FONT, "", size)
        self.pdf.multi_cell(self.width, 5.5, words, align=self.align, new_x="LMARGIN", new_y="NEXT")

    def figures(self, items: list[tuple[str, int]], columns: int = 4) -> None:
        """Boxes of a big number over its label, in rows, first box on the reading side."""
        pdf = self.pdf
        gap = 3.0
        box_w = (self.width - gap * (columns - 1)) / columns
        box_h = 16.0
        top = pdf.get_y()
        if top + box_h * ((len(items) + columns - 1) // columns) > pdf.h - pdf.b_margin:
            pdf.add_page()
            top = pdf.get_y()
        pdf.set_draw_color(200, 200, 200)
        for index, (label, value) in enumerate(items):
            row, column = divmod(index, columns)
            if self.rtl:
                column = columns - 1 - column
            x = pdf.l_margin + column * (box_w + gap)
            y = top + row * (box_h + gap)
            pdf.rect(x, y, box_w, box_h)
            pdf.set_xy(x, y + 1)
            pdf.set_font(FONT, "B", 16)
            pdf.set_text_color(*BLUE)
            pdf.cell(box_w, 8, str(value), align="C")
            pdf.set_xy(x + 1, y + 9)
            pdf.set_font(FONT, "", 8)
            pdf.set_text_color(*GREY)
            pdf.multi_cell(box_w - 2, 3.6, label, align="C")
        rows = (len(items) + columns - 1) // columns
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(pdf.l_margin, top + rows * (box_h + gap))

    def curve(self, sitrep: Sitrep, title: str, height: float = 36.0) -> None:
        """People arrived against time over the report's period, as a step line."""
        pdf = self.pdf
        if pdf.get_y() + height + 12 > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(self.width, 5, title, align=self.align, new_x="LMARGIN", new_y="NEXT")
        left, top = pdf.l_margin + 12, pdf.get_y() + 2
        width, bottom = self.width - 16, pdf.get_y() + 2 + height
        start, end = sitrep.period_start, sitrep.curve_until
        span = max((end - start).total_seconds(), 1.0)
        peak = max(sitrep.people_total, 1)

        def x_of(seconds: float) -> float:
            return left + min(max(seconds / span, 0.0), 1.0) * width

        def y_of(count: int) -> float:
            return bottom - count / peak * height

        pdf.set_draw_color(*GREY)
        pdf.set_line_width(0.2)
        pdf.line(left, bottom, left + width, bottom)
        pdf.line(left, bottom, left, top)
        pdf.set_font(FONT, "", 7)
        pdf.set_text_color(*GREY)
        pdf.set_xy(pdf.l_margin, top - 1.5)
        pdf.cell(11, 3, str(peak), align="R")
        pdf.set_xy(left - 6, bottom + 1)
        pdf.cell(30, 3, self.isolate(stamp(start)), align="L")
        pdf.set_xy(left + width - 30, bottom + 1)
        pdf.cell(30, 3, self.isolate(stamp(end)), align="R")
        pdf.set_draw_color(*RED)
        pdf.set_line_width(0.6)
        x, y = x_of(0), y_of(0)
        for moment, count in curve_points(sitrep):
            nx = x_of((moment - start).total_seconds())
            pdf.line(x, y, nx, y)
            pdf.line(nx, y, nx, y_of(count))
            x, y = nx, y_of(count)
        pdf.line(x, y, x_of(span), y)
        pdf.set_line_width(0.2)
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(pdf.l_margin, bottom + 5)
