"""The one-page PDF summary for a performance pack (fpdf2).

It leads with the lead indicators (what is waiting, overdue, due soon and
how old the oldest item is), then the headline tables (Figure 9 for tasking,
Figures 6 and 14 for EM). The NAO counted 738 lag measures out of 744 in ten
packs (Figure 15); this page puts the lead side first and stays on one page:
tables that would not fit are named at the foot instead of spilling over.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from triage import clock
from triage.pdf import FAMILY, new_pdf
from triage.stats.period import Period
from triage.stats.table import StatTable

PAGE_BOTTOM = 282  # mm on A4 portrait, above the footer line


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _cell(column_kind: str, value: Any) -> str:
    text = _text(value)
    if column_kind == "pct" and isinstance(value, int):
        return f"{text}%"
    return text


def _table(pdf: FPDF, table: StatTable, short_titles: dict[str, str] | None = None) -> None:
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(0, 6, _text(table.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 7)
    first_width = 52 if len(table.columns) > 4 else 80
    rest = (pdf.epw - first_width) / max(len(table.columns) - 1, 1)
    widths = [first_width] + [rest] * (len(table.columns) - 1)
    header = FontFace(emphasis="BOLD", fill_color=(217, 225, 242))
    with pdf.table(
        col_widths=widths,
        text_align=["LEFT"] + ["RIGHT"] * (len(table.columns) - 1),
        headings_style=header,
        line_height=3.6,
        width=pdf.epw,
        first_row_as_headings=True,
    ) as grid:
        row = grid.row()
        for column in table.columns:
            row.cell(_text((short_titles or {}).get(column.key, column.title)))
        for values in table.rows:
            row = grid.row()
            for column in table.columns:
                row.cell(_cell(column.kind, values.get(column.key)))
    pdf.set_font(FAMILY, "I", 6.5)
    pdf.multi_cell(0, 3, _text(table.definition), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _height(table: StatTable) -> float:
    """A generous estimate (mm) of the space a table takes, to keep to one page."""
    return 6 + 8 + 4.2 * len(table.rows) + 3 * (1 + len(table.definition) // 150) + 2


# Column headings short enough for the page's narrow columns.
SHORT_TITLES = {
    "received": "Total received",
    "high_available": "High avail.",
    "high_accepted_pct": "High % acc.",
    "high_rejected_pct": "High % rej.",
    "high_not_discussed_pct": "High % not disc.",
    "low_available": "Low avail.",
    "low_accepted_pct": "Low % acc.",
    "low_rejected_pct": "Low % rej.",
    "low_not_discussed_pct": "Low % not disc.",
    "unbucketed": "No bucket",
    "results_recorded": "Result recorded",
    "awaiting_result": "Awaiting result",
    "arrest_or_removal": "Arrest or removal",
    "conversion_pct": "% arrest or removal",
    "with_pass_time": "With pass time",
    "no_pass_time": "No pass time",
    "total_consolidated": "Total, battery consol.",
}


def write_summary_pdf(
    path: Path,
    *,
    title: str,
    period: Period,
    lead: StatTable,
    tables: Sequence[StatTable],
    suppress_below: int = 0,
) -> Path:
    """One A4 page: heading, lead indicators, then as many of ``tables`` as fit."""
    pdf = new_pdf(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(12, 12, 12)
    pdf.add_page()
    pdf.set_title(title)
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(0, 8, _text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 8.5)
    generated = clock.to_display(clock.now()).strftime("%d %b %Y %H:%M %Z")
    note = f"{period.label}. Generated {generated} (UK time). Aggregates only."
    if suppress_below > 1:
        note += f" Counts below {suppress_below} shown as <{suppress_below}."
    pdf.multi_cell(0, 4.5, _text(note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table(pdf, lead)
    left_out = []
    for table in tables:
        if pdf.get_y() + _height(table) > PAGE_BOTTOM:
            left_out.append(table.title)
            continue
        _table(pdf, table, SHORT_TITLES)
    pdf.set_y(PAGE_BOTTOM + 2)
    pdf.set_font(FAMILY, "I", 7)
    footer = "Percentages are rounded half-up each on its own and need not sum to 100."
    if left_out:
        footer += " Not shown for space (see the XLSX export): " + "; ".join(left_out) + "."
    pdf.multi_cell(0, 3.2, _text(footer))
    pdf.output(str(path))
    return path
