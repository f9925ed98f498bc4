"""PDF documents with a Unicode font shipped in the package.

The PDF core fonts (Helvetica, ...) hold Latin-1 only: curly quotes, dashes
and accented names printed as "?". Every PDF Triage writes is made by
``new_pdf``, which embeds DejaVu Sans (regular, bold, oblique; from Debian's
fonts-dejavu-core 2.37, Bitstream Vera licence with DejaVu's changes in the
public domain, ``triage/fonts/LICENSE-DejaVu.txt``). fpdf2 embeds only the
glyphs a document uses, so a page stays small.
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF

from triage import paths

FAMILY = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}


def font_folder() -> Any:
    return paths.bundled("triage", "fonts")


def new_pdf(**options: Any) -> FPDF:
    """An ``FPDF`` (``options`` as its own) with the Unicode font set."""
    pdf = FPDF(**options)
    for style, name in FONT_FILES.items():
        pdf.add_font(FAMILY, style, str(font_folder() / name))
    pdf.set_font(FAMILY, size=10)
    return pdf
