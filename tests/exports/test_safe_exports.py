"""Every CSV and XLSX the project writes is safe to open in a spreadsheet:
text from extracts never arrives as a live formula (issue 14, item 6)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from actors import EVERYONE
from hypothesis import given
from hypothesis import strategies as st
from meeting_fixtures import REGION, TEAM, add_items, ranked
from sqlalchemy import update

from triage import spreadsheet
from triage.cli.main import main as cli
from triage.imports.importer import import_file
from triage.meetings import minutes
from triage.meetings import operations as meetings
from triage.stats import exports, tasking
from triage.stats.period import Period
from triage.store.models import IntelItem

HOSTILE = (
    '=HYPERLINK("http://x","Click")',
    "=cmd|'/C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
)


def read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def assert_csv_is_safe(text: str) -> list[list[str]]:
    """No cell a spreadsheet would run: each starting like a formula is a plain number."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row:
            if cell.startswith(spreadsheet.FORMULA_STARTS):
                float(cell)  # a number such as -1.5, else a live formula: fails
    return rows


def assert_xlsx_is_safe(path: Path) -> list[str]:
    """No formula cell anywhere in the workbook; returns every text cell."""
    texts = []
    workbook = openpyxl.load_workbook(path)  # not data_only: formulas stay visible
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts


@pytest.mark.parametrize("value", HOSTILE)
def test_a_text_cell_that_starts_like_a_formula_gets_an_apostrophe(value):
    assert spreadsheet.csv_cell(value) == "'" + value
    assert spreadsheet.unescape_csv_cell("'" + value) == value


@pytest.mark.parametrize("value", [12, -3, 2.5, "-1.5", "+44", "-7", "1e5", "", "INT-001", "'x"])
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert spreadsheet.csv_cell(value) == value


def test_a_carriage_return_in_a_cell_does_not_split_its_row():
    buffer = io.StringIO(newline="")
    writer = spreadsheet.csv_writer(buffer)
    writer.writerows([["a\rb", 1], ["c", "d\ne"]])
    assert list(csv.reader(io.StringIO(buffer.getvalue(), newline=""))) == [
        ["a\rb", "1"],
        ["c", "d\ne"],
    ]


@given(st.text())
def test_an_escaped_cell_reads_back_as_written(value):
    # Exact for any text, including text that already looks escaped ("'=x").
    assert spreadsheet.unescape_csv_cell(str(spreadsheet.csv_cell(value))) == value
    assert not str(spreadsheet.csv_cell(value)).startswith(("=", "@", "\t", "\r"))


# Cells an extract can hold: no control characters (the importer quarantines
# them) and no surrounding blanks (it strips them).
_CELL = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from(["=", "+", "-", "@", "'"]),
    max_size=12,
).map(str.strip)


@given(st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=8))
def test_a_csv_export_reads_back_through_the_importer_unchanged(tmp_path_factory, rows):
    from triage.imports.extracts import Extract

    path = tmp_path_factory.mktemp("csv") / "export.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = spreadsheet.csv_writer(handle)
        writer.writerow(["a", "b", "c"])
        writer.writerows(rows)
    # A line of empty cells (",,") is still a row: it reaches the checks.
    assert [cells for _, cells in Extract(path).rows()] == rows  # type: ignore[misc]


@given(st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=8))
def test_an_xlsx_export_reads_back_through_the_importer_unchanged(tmp_path_factory, rows):
    from triage.imports.extracts import Extract

    path = tmp_path_factory.mktemp("xlsx") / "export.xlsx"
    book = spreadsheet.workbook(path)
    sheet = book.add_worksheet()
    for number, row in enumerate([["a", "b", "c"], *rows]):
        for column, value in enumerate(row):
            sheet.write(number, column, value)
    spreadsheet.close(book)
    # A sheet row with nothing in it is not a row at all.
    expected = [row for row in rows if any(row)]
    assert [cells for _, cells in Extract(path).rows()] == expected  # type: ignore[misc]


@pytest.fixture
def hostile_meeting(db):
    """A held meeting whose items carry hostile text in every free-text field."""
    specs = [
        {
            "intel_id": f"INT-{i:03d}",
            "summary": value,
            "business_name": value,
            "allegation": "other",
            "team": TEAM,
            "age_days": 3 + i,
        }
        for i, value in enumerate(HOSTILE)
    ]
    ids = add_items(db, specs)
    ranked(db)
    meeting_id = meetings.start_meeting(
        db, actor=EVERYONE, region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3
    )
    # A team name as an extract could spell it (meetings take known teams only).
    with db.transaction() as session:
        session.execute(update(IntelItem).values(team="=cmd|'/C calc'!A0"))
    meetings.decide(db, actor=EVERYONE, meeting_id=meeting_id, item_id=ids[0], decision="accepted")
    meetings.decide(
        db,
        actor=EVERYONE,
        meeting_id=meeting_id,
        item_id=ids[1],
        decision="rejected",
        reason="stale",
        note="=1+1",
    )
    return db, meeting_id


@pytest.mark.parametrize("kind", ["agenda", "minutes"])
def test_meeting_agenda_and_minutes_csv_are_safe(hostile_meeting, tmp_path, kind):
    db, meeting_id = hostile_meeting
    path = minutes.export(db, meeting_id=meeting_id, path=tmp_path / f"{kind}.csv", kind=kind)
    rows = assert_csv_is_safe(read(path))
    cells = {cell for row in rows for cell in row}
    if kind == "agenda":
        assert "'=cmd|'/C calc'!A0" in cells  # the team
        assert '\'=HYPERLINK("http://x","Click")' in cells  # a summary
    else:
        assert "'=1+1" in cells  # the rejection's note


def test_statistics_csv_and_xlsx_are_safe(hostile_meeting, tmp_path):
    db, meeting_id = hostile_meeting
    meetings.close_meeting(db, actor=EVERYONE, meeting_id=meeting_id)
    period = Period.resolve()
    stats = tasking.compute(db, period)
    by_team = tasking.by_team(stats)
    assert any(row.get("team") == "=cmd|'/C calc'!A0" for row in by_team.rows)
    buffer = io.StringIO()
    exports.write_csv(by_team, buffer)
    assert "'=cmd|'/C calc'!A0" in buffer.getvalue()
    assert_csv_is_safe(buffer.getvalue())
    target = exports.write_xlsx([by_team], tmp_path / "stats.xlsx", period=period)
    assert "=cmd|'/C calc'!A0" in assert_xlsx_is_safe(target)
    # Set up to print: A4 landscape, one page wide, the header row on every page.
    sheet = openpyxl.load_workbook(target)["by_team"]
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize) == ("landscape", 9)
    assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0  # None: the default, 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$4:$4"


def test_cli_csv_listings_are_safe(hostile_meeting, capsys):
    db, _meeting_id = hostile_meeting
    for command in (["rank", "intel", "--format", "csv"], ["meeting", "list", "--format", "csv"]):
        assert cli(["--db", db.location, *command]) == 0
        out = capsys.readouterr().out
        assert_csv_is_safe(out)
        if command[0] == "rank":
            assert "'=cmd|" in out


def test_quarantine_export_is_safe_and_reads_back(db, tmp_path, capsys):
    extract = tmp_path / "bad.csv"
    extract.write_text(
        'intel_id,received_at,region,summary\nQ-1,not a date,LSE,"=HYPERLINK(""http://x"")"\n',
        encoding="utf-8",
    )
    assert import_file(db, "intel", extract, actor=EVERYONE).quarantined == 1
    out = tmp_path / "quarantine.csv"
    assert cli(["--db", db.location, "quarantine", "export", "--out", str(out)]) == 0
    rows = assert_csv_is_safe(read(out))
    raw = rows[1][rows[0].index("raw")]
    assert '=HYPERLINK(""http://x"")' in raw and not raw.startswith("=")
