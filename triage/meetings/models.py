"""Tables of a live tasking meeting: its frozen agenda and its decision steps.

The agenda is snapshotted when the meeting starts so that the capacity line,
the order and "what was on the agenda" (the items closed as not discussed)
stay exactly what the room saw, even if the ranking is refreshed meanwhile.
Each decision is a step holding the outcome before and after it, so undo
restores the previous state exactly, however many times an item was changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from triage.store.models import Base


class MeetingAgendaItem(Base):
    """One item on a meeting's agenda, in ranked order, with its capacity line."""

    __tablename__ = "meeting_agenda_item"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("tasking_meeting.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("intel_item.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    # True for the items above the capacity line when the agenda was made.
    fits: Mapped[bool] = mapped_column(Boolean)
    bucket: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[str | None] = mapped_column(String(256))
    harm_score: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_agenda_position", "meeting_id", "position"),)


class MeetingStep(Base):
    """A decision taken in a meeting, kept so that it can be undone."""

    __tablename__ = "meeting_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("tasking_meeting.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("intel_item.id"))
    # Outcome fields and item status before the step (None: no outcome yet).
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_step_meeting", "meeting_id", "id"),)
