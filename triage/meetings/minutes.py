"""A meeting's agenda (before) and minutes (after) as CSV or PDF files, in the
words a reader of the minutes knows: region names, reason labels, people's
names, never codes or an account name."""

from __future__ import annotations

import getpass
from pathlib import Path

from triage import spreadsheet
from triage.intel import regions
from triage.meetings.operations import (
    PERSONAL_FIELDS,
    AgendaRow,
    MeetingError,
    MeetingSummary,
    agenda,
    load_reasons,
    summary,
)
from triage.store import audit
from triage.store.db import Database

AGENDA_COLUMNS = (
    "position",
    "fits",
    "intel_id",
    "bucket",
    "score",
    "age_days",
    "flags",
    "carry_over_count",
    "region",
    "team",
    "allegation",
    "sector",
    "persons_estimated",
    "subject_ref",
    "nationality",
    "postcode",
    "business_name",
    "summary",
)
MINUTES_COLUMNS = AGENDA_COLUMNS[:9] + (
    "team",
    "decision",
    "reason",
    "note",
    "result",
    "result_at",
)


def _cells(row: AgendaRow, columns: tuple[str, ...]) -> list[str]:
    out = []
    for name in columns:
        value = getattr(row, name)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, float):
            value = f"{value:.2f}"
        elif isinstance(value, list):
            value = ";".join(value)
        elif value is None:
            value = ""
        out.append(str(value))
    return out


def export(
    db: Database,
    *,
    meeting_id: int,
    path: str | Path,
    kind: str = "agenda",
    presenter: bool = False,
) -> Path:
    """Write the agenda (before) or minutes (after) as CSV or PDF by suffix."""
    if kind not in ("agenda", "minutes"):
        raise MeetingError(f"unknown export {kind!r} (agenda or minutes)")
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("csv", "pdf"):
        raise MeetingError(f"{target}: export to .csv or .pdf, not {target.suffix or 'no suffix'}")
    columns: tuple[str, ...] = AGENDA_COLUMNS if kind == "agenda" else MINUTES_COLUMNS
    if presenter:
        columns = tuple(c for c in columns if c not in PERSONAL_FIELDS)
    with db.sessions() as session:
        rows = agenda(session, meeting_id)
        info = summary(session, meeting_id)
        # On the minutes: a later cut of the audit log back past this
        # meeting's entries is caught by `triage audit verify --head`.
        head = audit.chain_head(session) if kind == "minutes" else None
    if kind == "minutes":
        table = [_minutes_cells(row, columns) for row in rows]
    else:
        table = [_cells(row, columns) for row in rows]
    if fmt == "csv":
        with open(target, "w", newline="", encoding="utf-8") as handle:
            writer = spreadsheet.csv_writer(handle)
            writer.writerow(columns)
            writer.writerows(table)
            if head is not None:
                writer.writerow(["audit chain head", head])
    else:
        _write_pdf(target, kind, info, rows, columns, table, head)
    return target


def _minutes_cells(row: AgendaRow, columns: tuple[str, ...]) -> list[str]:
    """A minutes line in words a reader of the minutes knows: the region's
    name, the reason's label, "not discussed"; never a code."""
    cells = dict(zip(columns, _cells(row, columns), strict=True))
    words = {
        "region": _region_name(row.region),
        "reason": _reason_label(row.reason) if row.reason else "",
        "decision": (row.decision or "undecided").replace("_", " "),
        "result": (row.result or "").replace("_", " "),
        "flags": ", ".join(flag.replace("_", " ") for flag in row.flags),
    }
    return [words.get(name, cells[name]) for name in columns]


def _region_name(code: str) -> str:
    try:
        return regions.region_by_code(code).name
    except KeyError:  # a region no longer in organisation.toml
        return code


def _reason_label(code: str) -> str:
    labels = {reason.code: reason.label for reason in load_reasons()}
    return labels.get(code, code.replace("_", " "))


def _person(name: str | None) -> str:
    """A name for the minutes: never the computer's account name (what the
    chair defaults to when no display name is set in Settings)."""
    if not name:
        return "not recorded"
    if name == getpass.getuser():
        return "not recorded (no display name set)"
    return name


def _write_pdf(
    target: Path,
    kind: str,
    info: MeetingSummary,
    rows: list[AgendaRow],
    columns: tuple[str, ...],
    table_cells: list[list[str]],
    head: str | None = None,
) -> None:
    from triage.pdf import FAMILY, new_pdf

    pdf = new_pdf(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 15)
    title = "Tasking meeting agenda" if kind == "agenda" else "Tasking meeting minutes"
    pdf.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    # Imported meetings have no capacity on record: not "capacity None".
    capacity = "not recorded" if info.capacity is None else info.capacity
    lines = [
        f"{_region_name(info.region)} / {info.team or 'whole region'} - "
        f"{info.held_on.isoformat()} - {info.status} - capacity {capacity}",
        f"Chair: {_person(info.chair)}; attendees: {', '.join(info.attendees) or 'not recorded'}",
    ]
    if kind == "agenda":
        lines.append(f"Rule pack version: {(info.rules_version or 'unknown')[:12]}")
    else:
        of_capacity = "" if info.capacity is None else f" of capacity {info.capacity}"
        lines.append(
            f"Accepted {info.accepted}{of_capacity}; rejected {info.rejected}; "
            f"not discussed {info.not_discussed}; undecided {info.undecided}"
        )
        carried = info.not_discussed + info.undecided
        lines.append(f"Carried over to the next meeting: {carried} item(s)")
    if head is not None:
        lines.append(f"Audit chain head: {head}")
    for line in lines:
        pdf.cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 7.5)
    # Ids, codes and postcodes wide enough not to break mid-word ("INT-00287 / 67");
    # the short numbers narrower to make the room.
    widths = {
        "summary": 3.0, "business_name": 2.0, "flags": 2.2, "team": 1.6, "note": 2.0,
        "intel_id": 1.6, "decision": 1.6, "allegation": 1.8, "subject_ref": 1.3,
        "postcode": 1.2, "fits": 0.7, "bucket": 0.8, "score": 0.9, "age_days": 0.9,
        # The minutes name the region and the reason in words.
        "region": 0.9 if kind == "agenda" else 1.8, "reason": 2.2,
    }  # fmt: skip
    col_widths = tuple(widths.get(c, 1.0) for c in columns)
    with pdf.table(col_widths=col_widths, text_align="LEFT", line_height=4) as table:
        table.row([c.replace("_", " ") for c in columns])
        line_drawn = False
        for row, cells in zip(rows, table_cells, strict=True):
            if not row.fits and not line_drawn and kind == "agenda":
                line_drawn = True
                marker = table.row()
                marker.cell(
                    "---- capacity line: items below do not fit this week ----",
                    colspan=len(columns),
                )
            table.row(cells)
    pdf.output(str(target))
