"""Writing statistics tables out: CSV and a formatted XLSX workbook.

Exports hold aggregates only: every cell comes from a ``StatTable`` (counts,
percentages, ages), never an item, person or case reference. Small counts
are suppressed before writing when asked (``table.suppress``). The XLSX has
one sheet per table with a native chart and a "Definitions" sheet, written
with XlsxWriter so it opens cleanly in Excel and LibreOffice. The one-page
PDF summary is in ``triage.stats.summary_pdf``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from triage import clock, spreadsheet
from triage.stats.period import Period
from triage.stats.report import StatsReport
from triage.stats.table import StatTable

GENERAL_DEFINITIONS = (
    (
        "Period",
        "Items (or events) received from the first to the last day given, UK dates, "
        "inclusive; decisions and results recorded after the as-of date are ignored.",
    ),
    (
        "Latest decision",
        "Each item counts once, by its latest decision (latest meeting date) "
        "on or before the as-of date.",
    ),
    (
        "Not discussed",
        "An item without an accepted or rejected latest decision, whether or not "
        "a not_discussed record exists.",
    ),
    (
        "Bucket",
        "The computed bucket (intel_rank) when the item has been ranked, else the bucket "
        "given upstream. High priority = buckets 1-4, low = 5-6.",
    ),
    (
        "Percentages",
        "Whole numbers rounded half-up, each on its own; they are never adjusted to "
        "sum to 100 (NAO Figure 9's Scotland and Northern Ireland high row sums to 101).",
    ),
    (
        "Suppression",
        "With a threshold N, counts from 1 to N-1 are shown as '<N' and a "
        "percentage whose count or denominator is hidden as 'c'. Zero is shown. Totals are not "
        "suppressed (no secondary suppression).",
    ),
    ("Content", "Aggregates only: no item, person or case reference is exported."),
)


# The tables of the one-page PDF summary (after the lead indicators), where present.
SUMMARY_TABLES = ("figure9", "conversion", "pass_on_48h", "figure6", "figure14", "figure5")


def write_report(path: Path, report: StatsReport, *, file_format: str | None = None) -> Path:
    """A statistics report to pass on: "xlsx" every table, "pdf" the one-page
    summary (``file_format``, else the file's suffix). The report comes
    released (``StatsReport.released``: suppressed at the threshold its notes
    name); this only renders it. Used by the CLI and the Statistics screen alike."""
    lead, tables, period, title = report.lead, report.tables, report.period, report.title
    suppress_below = report.suppress_below
    suffix = f".{file_format}" if file_format else path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(
            [lead, *tables], path, period=period, title=title, suppress_below=suppress_below
        )
    if suffix == ".pdf":
        from triage.stats.summary_pdf import write_summary_pdf

        return write_summary_pdf(
            path,
            title=title,
            period=period,
            lead=lead,
            tables=[t for t in tables if t.name in SUMMARY_TABLES],
            suppress_below=suppress_below,
        )
    raise ValueError(f"{path.name}: export to .xlsx or .pdf, not {suffix or 'no extension'}")


def write_csv(table: StatTable, target: Path | IO[str]) -> None:
    """One table as CSV: a header of column titles' keys, then the shown columns."""
    if isinstance(target, Path):
        with open(target, "w", encoding="utf-8", newline="") as handle:
            write_csv(table, handle)
        return
    writer = spreadsheet.csv_writer(target)
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in table.columns])


def _sheet_name(name: str, used: set[str]) -> str:
    base = name[:31]
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base[:28]}_{n}"
    used.add(candidate.lower())
    return candidate


def write_xlsx(
    tables: Sequence[StatTable],
    path: Path,
    *,
    period: Period,
    title: str = "Triage outcome statistics",
    suppress_below: int = 0,
) -> Path:
    """A workbook: one formatted sheet (table + native chart) per table, then definitions."""
    workbook = spreadsheet.workbook(path)
    formats = {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "note": workbook.add_format({"italic": True, "font_color": "#444444"}),
        "header": workbook.add_format(
            {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "text": workbook.add_format({"border": 1}),
        "count": workbook.add_format({"border": 1, "num_format": "#,##0"}),
        "number": workbook.add_format({"border": 1, "num_format": "#,##0.0"}),
        "pct": workbook.add_format({"border": 1, "num_format": '0"%"'}),
        "hidden": workbook.add_format({"border": 1, "align": "right", "font_color": "#7F7F7F"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "bold": workbook.add_format({"bold": True, "valign": "top"}),
    }
    generated = clock.to_display(clock.now()).strftime("%Y-%m-%d %H:%M %Z")
    used: set[str] = set()
    for table in tables:
        _write_sheet(workbook, formats, table, _sheet_name(table.name, used), period, generated)
    sheet = workbook.add_worksheet(_sheet_name("Definitions", used))
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 110)
    sheet.write(0, 0, title, formats["title"])
    sheet.write(1, 0, f"{period.label}; generated {generated} (UK time)", formats["note"])
    if suppress_below > 1:
        sheet.write(2, 0, f"Counts below {suppress_below} suppressed.", formats["note"])
    row = 4
    sheet.write_row(row, 0, ["Term or table", "Definition"], formats["header"])
    for term, text in GENERAL_DEFINITIONS:
        row += 1
        sheet.write(row, 0, term, formats["bold"])
        sheet.write(row, 1, text, formats["wrap"])
    for table in tables:
        row += 1
        sheet.write(row, 0, f"{table.name}: {table.title}", formats["wrap"])
        sheet.write(row, 1, table.definition, formats["wrap"])
    spreadsheet.close(workbook)
    return path


def _cell_format(kind: str, value: Any) -> str:
    if isinstance(value, str) and kind != "text":
        return "hidden"
    if kind == "number" and isinstance(value, int):
        return "count"
    return {"count": "count", "pct": "pct", "number": "number"}.get(kind, "text")


def _write_sheet(
    workbook: Workbook,
    formats: dict[str, Format],
    table: StatTable,
    name: str,
    period: Period,
    generated: str,
) -> None:
    sheet = workbook.add_worksheet(name)
    # Printed (and converted to PDF) one page wide, landscape A4, the header
    # row repeated on every page.
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.write(0, 0, table.title, formats["title"])
    sheet.write(1, 0, f"{period.label}; generated {generated} (UK time)", formats["note"])
    header_row = 3
    for col, column in enumerate(table.columns):
        sheet.write(header_row, col, column.title or column.key, formats["header"])
        width = max(
            [min(len(column.title), 24)] + [len(str(r.get(column.key) or "")) for r in table.rows]
        )
        sheet.set_column(col, col, min(max(width + 2, 8), 60))
    sheet.set_row(header_row, 45)
    sheet.repeat_rows(header_row)
    for r, row in enumerate(table.rows, start=header_row + 1):
        for col, column in enumerate(table.columns):
            value = row.get(column.key)
            fmt = formats[_cell_format(column.kind, value)]
            if value is None:
                sheet.write_blank(r, col, None, fmt)
            else:
                sheet.write(r, col, value, fmt)
    sheet.freeze_panes(header_row + 1, 1)
    if table.chart and table.rows:
        _add_chart(workbook, sheet, table, name, header_row)


def _add_chart(
    workbook: Workbook, sheet: Worksheet, table: StatTable, name: str, header_row: int
) -> None:
    spec = table.chart
    assert spec is not None
    n = min(spec.rows if spec.rows is not None else len(table.rows), len(table.rows))
    if n <= 0:
        return
    keys = [c.key for c in table.columns]
    cat = keys.index(spec.category)
    values = [keys.index(v) for v in spec.values if v in keys]
    if not values:
        return
    chart = workbook.add_chart(
        {"type": "column", **({"subtype": "stacked"} if spec.stacked else {})}
    )
    first, last = header_row + 1, header_row + n
    if spec.by_row:
        lo, hi = min(values), max(values)
        for r in range(first, last + 1):
            chart.add_series(
                {
                    "name": [name, r, cat],
                    "categories": [name, header_row, lo, header_row, hi],
                    "values": [name, r, lo, r, hi],
                }
            )
    else:
        for v in values:
            chart.add_series(
                {
                    "name": [name, header_row, v],
                    "categories": [name, first, cat, last, cat],
                    "values": [name, first, v, last, v],
                }
            )
    chart.set_title({"name": spec.title or table.title})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 360})
    sheet.insert_chart(header_row + len(table.rows) + 3, 0, chart)
