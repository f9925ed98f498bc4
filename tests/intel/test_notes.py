"""Notes on items (who, when) and each item's decision history."""

from __future__ import annotations

import json
from datetime import date

import pytest
from actors import EVERYONE, as_user
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from meeting_fixtures import REGION, TEAM, add_items, ranked
from sqlalchemy import select

from triage.cli.main import main
from triage.intel import notes
from triage.meetings import operations as meetings
from triage.store.models import AuditEntry
from triage.store.schema import metadata
from triage.users import accounts


def test_a_note_is_stored_with_its_author_and_time_and_audited(db):
    (item,) = add_items(db, [{"intel_id": "N-1"}])
    first = notes.add_note(
        db, item, "  Premises checked: closed down.  ", actor=as_user("Sam Patel")
    )
    notes.add_note(db, item, "Second look", actor=as_user("Jo"))
    with db.sessions() as session:
        written = notes.notes(session, item)
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "item.note")).all()
    assert [(n["author"], n["text"]) for n in written] == [
        ("Sam Patel", "Premises checked: closed down."),
        ("Jo", "Second look"),
    ]
    assert written[0]["id"] == first and written[0]["written_at"] is not None
    # The audit names the note, never its text.
    assert [(a.who, a.entity_id) for a in audit] == [("Sam Patel", str(item)), ("Jo", str(item))]
    assert all("Premises" not in str(a.new_value) for a in audit)


@pytest.mark.parametrize(
    ("text", "author", "problem"),
    [
        ("   ", "Sam", "a note needs some text"),
        ("x" * (notes.MAX_NOTE_CHARS + 1), "Sam", "at most 4,000 characters"),
        ("fine", " ", "a note needs an author"),
    ],
)
def test_a_bad_note_is_refused_and_nothing_stored(db, text, author, problem):
    (item,) = add_items(db, [{"intel_id": "N-2"}])
    with pytest.raises(notes.NoteError, match=problem):
        notes.add_note(db, item, text, actor=as_user(author))
    with pytest.raises(notes.NoteError, match="no intelligence item"):
        notes.add_note(db, 999_999, "text", actor=as_user("Sam"))
    with db.sessions() as session:
        assert notes.notes(session, item) == []


def test_decision_history_lists_each_meeting_decision(db):
    (item,) = add_items(db, [{"intel_id": "H-1", "team": TEAM}])
    ranked(db)
    for held_on, decision, reason in (
        (date(2026, 11, 12), "not_discussed", None),
        (date(2026, 11, 19), "rejected", None),
    ):
        meeting = meetings.start_meeting(
            db, region=REGION, team=TEAM, held_on=held_on, actor=EVERYONE
        )
        reason = reason or (sorted(meetings.reason_codes())[0] if decision == "rejected" else None)
        meetings.decide(
            db, meeting_id=meeting, item_id=item, decision=decision, reason=reason, actor=EVERYONE
        )
        meetings.close_meeting(db, meeting_id=meeting, actor=EVERYONE)
    with db.sessions() as session:
        history = notes.decision_history(session, item)
    assert [(h["meeting_date"], h["decision"], h["team"]) for h in history] == [
        (date(2026, 11, 12), "not_discussed", TEAM),
        (date(2026, 11, 19), "rejected", TEAM),
    ]
    assert history[1]["reason"]


def test_cli_note_add_and_list(db, capsys):
    add_items(db, [{"intel_id": "C-1"}])
    base = ["--db", db.location, "note"]
    me = accounts.sign_in(db, None, None).name  # the signed-in user is the author
    assert main([*base, "add", "C-1", "Owner spoken to"]) == 0
    assert "note 1 added to C-1" in capsys.readouterr().out
    assert main([*base, "list", "C-1", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(n["author"], n["text"]) for n in listed["notes"]] == [(me, "Owner spoken to")]
    assert listed["decisions"] == []
    assert main([*base, "add", "C-1", "  "]) == 2
    assert main([*base, "list", "NOPE"]) == 2


def test_the_migration_makes_the_notes_table_the_model_describes(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diff if "item_note" in repr(d)] == []
