"""Minutes a reader understands: names, not codes, hashes or the computer's
account name; capacity and carry-overs (issue 15, item 5)."""

from __future__ import annotations

import csv
import getpass
from datetime import date

import pytest
from actors import EVERYONE
from meeting_fixtures import REGION, TEAM, ranked, standard_items
from pypdf import PdfReader

from triage.meetings import minutes
from triage.meetings import operations as meetings


@pytest.fixture
def closed_meeting(db):
    standard_items(db, 8)
    ranked(db)
    meeting_id = meetings.start_meeting(
        db, actor=EVERYONE, region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3,
        attendees=["Ben Okafor"], chair=getpass.getuser(),
    )  # fmt: skip
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
    return db, meeting_id, len(rows)


def pdf_text(path) -> str:
    """The PDF's words, with table cells' line breaks as spaces."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def test_minutes_pdf_names_region_capacity_and_carry_overs(closed_meeting, tmp_path):
    db, meeting_id, agenda_length = closed_meeting
    path = minutes.export(db, meeting_id=meeting_id, path=tmp_path / "m.pdf", kind="minutes")
    text = pdf_text(path)
    assert "London and South East / London North" in text
    assert "capacity 3" in text and "Accepted 1 of capacity 3" in text
    assert f"Carried over to the next meeting: {agenda_length - 2} item(s)" in text
    assert "Out of date" in text  # the reason's label, not its code
    assert "not discussed" in text and "not_discussed" not in text
    # No OS account name (the chair defaulted to it: no display name set), no hash.
    assert f"Chair: {getpass.getuser()}" not in text and "Chair: not recorded" in text
    assert "Rule pack version" not in text


def test_minutes_show_the_chair_s_display_name(db, tmp_path):
    standard_items(db, 3)
    ranked(db)
    meeting_id = meetings.start_meeting(
        actor=EVERYONE, db=db, region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=2,
        chair="Ana Silva",
    )  # fmt: skip
    path = minutes.export(db, meeting_id=meeting_id, path=tmp_path / "m.pdf", kind="minutes")
    assert "Chair: Ana Silva" in pdf_text(path)


def test_minutes_csv_in_words(closed_meeting, tmp_path):
    db, meeting_id, _ = closed_meeting
    path = minutes.export(db, meeting_id=meeting_id, path=tmp_path / "m.csv", kind="minutes")
    with open(path, encoding="utf-8", newline="") as handle:
        # The last line is the audit chain head (the audit's tamper check).
        rows = [row for row in csv.DictReader(handle) if row["position"] != "audit chain head"]
    assert {row["region"] for row in rows} == {"London and South East"}
    assert {row["team"] for row in rows} == {TEAM}
    assert {row["decision"] for row in rows} == {"accepted", "rejected", "not discussed"}
    assert {row["reason"] for row in rows} == {"", "Out of date: circumstances may have changed"}
    assert all(row["carry_over_count"].isdigit() for row in rows)
