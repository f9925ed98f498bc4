"""Tasking outcomes written out in the canonical ``outcomes.csv`` columns
(docs/formats.md section 4), as CSV or XLSX: the file ``triage import
outcomes`` reads, so an export imported again changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from triage import spreadsheet
from triage.imports.columns import OUTCOMES
from triage.store.db import Database
from triage.store.models import IntelItem, TaskingOutcome

COLUMNS = tuple(column.name for column in OUTCOMES.columns)
FORMATS = ("csv", "xlsx")


def outcome_rows(
    db: Database, *, start: date | None = None, end: date | None = None
) -> list[dict[str, Any]]:
    """Every outcome whose meeting date is from ``start`` to ``end`` (inclusive;
    either may be open), by meeting date then intel_id."""
    query = (
        select(
            IntelItem.intel_id,
            TaskingOutcome.meeting_date,
            TaskingOutcome.decision,
            TaskingOutcome.reason,
            TaskingOutcome.decided_by,
            TaskingOutcome.result,
            TaskingOutcome.result_at,
        )
        .join(IntelItem, IntelItem.id == TaskingOutcome.item_id)
        .order_by(TaskingOutcome.meeting_date, IntelItem.intel_id)
    )
    if start is not None:
        query = query.where(TaskingOutcome.meeting_date >= start)
    if end is not None:
        query = query.where(TaskingOutcome.meeting_date <= end)
    with db.sessions() as session:
        return [dict(row._mapping) for row in session.execute(query)]


def export_outcomes(
    db: Database,
    path: str | Path,
    *,
    start: date | None = None,
    end: date | None = None,
    file_format: str | None = None,
) -> int:
    """Write the outcomes to ``path`` as ``file_format`` ("csv" or "xlsx", else
    the file's suffix); returns how many rows were written."""
    target = Path(path)
    fmt = file_format or target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"{target.name}: export outcomes to .csv or .xlsx, not {fmt or 'no suffix'}"
        )
    if start is not None and end is not None and start > end:
        raise ValueError(f"--from {start} is after --to {end}")
    rows = outcome_rows(db, start=start, end=end)
    if fmt == "csv":
        with open(target, "w", encoding="utf-8", newline="") as handle:
            writer = spreadsheet.csv_writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows([_csv_text(row[c]) for c in COLUMNS] for row in rows)
    else:
        _write_xlsx(target, rows)
    return len(rows)


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else value


def _write_xlsx(target: Path, rows: list[dict[str, Any]]) -> None:
    workbook = spreadsheet.workbook(target)
    header = workbook.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("outcomes")
    sheet.write_row(0, 0, COLUMNS, header)
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(COLUMNS):
            value = row[name]
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, day)
            elif value is not None:
                sheet.write_string(r, c, str(value))
    for c, name in enumerate(COLUMNS):
        sheet.set_column(c, c, max(len(name), 12) + 2)
    sheet.freeze_panes(1, 0)
    # Printed: A4 landscape, one page wide, the header row on every page.
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    spreadsheet.close(workbook)
