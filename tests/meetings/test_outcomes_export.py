"""``triage outcomes export``: the canonical outcomes columns, and an export
imported again changes nothing (issue 15, item 7)."""

from __future__ import annotations

import csv
from datetime import date

import openpyxl
import pytest
from actors import EVERYONE
from meeting_fixtures import REGION, TEAM, ranked, standard_items
from sqlalchemy import select, update

from triage.cli.main import main as cli
from triage.imports.importer import import_file
from triage.meetings import operations as meetings
from triage.meetings import outcomes
from triage.store.models import TaskingOutcome

CANONICAL = ("intel_id", "meeting_date", "decision", "reason", "decided_by", "result", "result_at")


@pytest.fixture
def decided(db):
    """A closed meeting: accepted (with a result), rejected, the rest not discussed."""
    standard_items(db, 12)
    ranked(db)
    meeting_id = meetings.start_meeting(
        db, actor=EVERYONE, region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3
    )
    with db.sessions() as session:
        rows = meetings.agenda(session, meeting_id)
    meetings.decide(
        db, actor=EVERYONE, meeting_id=meeting_id, item_id=rows[0].item_id, decision="accepted"
    )
    meetings.decide(
        db,
        actor=EVERYONE,
        meeting_id=meeting_id,
        item_id=rows[1].item_id,
        decision="rejected",
        reason="stale",
    )
    meetings.close_meeting(db, actor=EVERYONE, meeting_id=meeting_id)
    with db.transaction() as session:
        accepted = session.scalar(
            select(TaskingOutcome.id).where(TaskingOutcome.decision == "accepted")
        )
        # A name a spreadsheet would run as a formula: escaped and read back.
        session.execute(update(TaskingOutcome).values(decided_by="=Ana+Ben"))
    meetings.record_result(
        db, actor=EVERYONE, outcome_id=accepted, result="arrest", result_at=date(2026, 11, 25)
    )
    return db


def stored_outcomes(db) -> list[tuple]:
    with db.sessions() as session:
        return session.execute(
            select(
                TaskingOutcome.id,
                TaskingOutcome.item_id,
                TaskingOutcome.meeting_date,
                TaskingOutcome.decision,
                TaskingOutcome.reason,
                TaskingOutcome.decided_by,
                TaskingOutcome.result,
                TaskingOutcome.result_at,
                TaskingOutcome.extra,
                TaskingOutcome.batch_id,
            ).order_by(TaskingOutcome.id)
        ).all()


def test_the_columns_are_those_of_formats_md_section_4():
    assert outcomes.COLUMNS == CANONICAL


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_file_imported_again_changes_nothing(decided, tmp_path, capsys, fmt):
    db = decided
    before = stored_outcomes(db)
    target = tmp_path / f"outcomes.{fmt}"
    command = ["--db", db.location, "outcomes", "export", "--from", "2026-11-01"]
    assert cli([*command, "--to", "2026-11-30", "--format", fmt, "--out", str(target)]) == 0
    assert f"{len(before)} outcome(s) written" in capsys.readouterr().out
    result = import_file(db, "outcomes", target, actor=EVERYONE)
    assert (result.inserted, result.updated, result.quarantined) == (0, 0, 0)
    assert result.unchanged == len(before) > 2
    assert stored_outcomes(db) == before


def test_the_csv_holds_the_canonical_rows(decided, tmp_path):
    target = tmp_path / "outcomes.csv"
    assert outcomes.export_outcomes(decided, target) == 13  # the whole agenda
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CANONICAL
    by_decision = {row["decision"]: row for row in rows}
    assert by_decision["accepted"]["result"] == "arrest"
    assert by_decision["accepted"]["result_at"] == "2026-11-25"
    assert by_decision["rejected"]["reason"] == "stale"
    assert by_decision["not_discussed"]["meeting_date"] == "2026-11-20"
    assert rows[0]["decided_by"] == "'=Ana+Ben"  # not a live formula


def test_the_xlsx_is_set_up_to_print_and_holds_no_formula(decided, tmp_path):
    target = tmp_path / "outcomes.xlsx"
    outcomes.export_outcomes(decided, target)
    sheet = openpyxl.load_workbook(target).active
    assert tuple(c.value for c in sheet[1]) == CANONICAL
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$1:$1"


def test_the_period_selects_by_meeting_date(decided, tmp_path, capsys):
    path = decided.location
    assert cli(["--db", path, "outcomes", "export", "--to", "2026-11-19", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert cli(["--db", path, "outcomes", "export", "--from", "2026-11-20", "--json"]) == 0
    assert '"meeting_date": "2026-11-20"' in capsys.readouterr().out
    bad = ["--db", path, "outcomes", "export", "--from", "2026-11-21", "--to", "2026-11-20"]
    assert cli([*bad, "--out", str(tmp_path / "x.csv")]) == 2
    assert cli(["--db", path, "outcomes", "export", "--out", str(tmp_path / "x.docx")]) == 2
    assert cli(["--db", path, "outcomes", "export", "--format", "xlsx"]) == 2
