"""Notes on intelligence items (who wrote what, when) and an item's decision
history, for the app's detail pane and the CLI's ``triage note``.

A note is never edited or deleted: a correction is a new note. Each note is
written with its audit entry in one transaction. The author is an explicit
parameter (the front end says who is acting).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from triage import clock
from triage.store import audit
from triage.store.db import Database
from triage.store.models import Base, IntelItem, TaskingMeeting, TaskingOutcome
from triage.users import Action, Actor, require

# Long enough for a paragraph, short enough that a pasted document is refused.
MAX_NOTE_CHARS = 4000


class ItemNote(Base):
    """One note on an intelligence item."""

    __tablename__ = "item_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("intel_item.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(128))
    written_at: Mapped[datetime] = mapped_column(DateTime)
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_item_note_item", "item_id", "written_at"),)


class NoteError(ValueError):
    """A note that cannot be stored; the message says why."""


def add_note(db: Database, item_id: int, text: str, *, actor: Actor) -> int:
    """Store a note on an item by ``actor``; returns its id."""
    require(db, actor, Action.NOTES)
    author = actor.name
    body = (text or "").strip()
    if not body:
        raise NoteError("a note needs some text")
    if len(body) > MAX_NOTE_CHARS:
        raise NoteError(f"a note is at most {MAX_NOTE_CHARS:,} characters (this is {len(body):,})")
    if not author or not author.strip():
        raise NoteError("a note needs an author")
    with db.transaction() as session:
        if session.get(IntelItem, item_id) is None:
            raise NoteError(f"no intelligence item with id {item_id}")
        note = ItemNote(item_id=item_id, author=author.strip(), written_at=clock.now(), text=body)
        session.add(note)
        session.flush()
        # The audit entry names the note, not its text (which may name people).
        audit.record(session, "item.note", "intel_item", item_id, "note", None, note.id, who=author)
        return note.id


def notes(session: Session, item_id: int) -> list[dict[str, Any]]:
    """An item's notes, oldest first."""
    rows = session.scalars(
        select(ItemNote)
        .where(ItemNote.item_id == item_id)
        .order_by(ItemNote.written_at, ItemNote.id)
    )
    return [
        {"id": n.id, "author": n.author, "written_at": n.written_at, "text": n.text} for n in rows
    ]


def decision_history(session: Session, item_id: int) -> list[dict[str, Any]]:
    """Every meeting decision on an item, oldest first: the meeting's date,
    team, the decision and its reason, who recorded it and when, and the
    result of an accepted task."""
    rows = session.execute(
        select(TaskingOutcome, TaskingMeeting.team)
        .outerjoin(TaskingMeeting, TaskingMeeting.id == TaskingOutcome.meeting_id)
        .where(TaskingOutcome.item_id == item_id)
        .order_by(TaskingOutcome.decided_at, TaskingOutcome.id)
    )
    return [
        {
            "meeting_date": o.meeting_date,
            "team": team,
            "decision": o.decision,
            "reason": o.reason,
            "note": o.note,
            "decided_by": o.decided_by,
            "decided_at": o.decided_at,
            "result": o.result,
            "result_at": o.result_at,
        }
        for o, team in rows
    ]
