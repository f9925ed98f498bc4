"""One intelligence item as the app's detail pane shows it: the stored item
and the other items about the same subject or premises; and its history:
meeting decisions, notes, and the QA reviews of its decisions (the feedback
the decision maker sees, 003 Annex D)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from triage.intel import notes
from triage.intel.linked import linked_items
from triage.qa import operations as qa
from triage.store.db import Database
from triage.store.models import IntelItem


@dataclass(frozen=True)
class ItemHistory:
    decisions: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    qa_reviews: list[dict[str, Any]]


def item_detail(db: Database, item_id: int) -> tuple[IntelItem | None, list[dict[str, Any]]]:
    """The item (None if it is gone) and its linked items."""
    with db.sessions() as session:
        item = session.get(IntelItem, item_id)
        linked = linked_items(session, item_id) if item is not None else []
    return item, linked


def item_history(db: Database, item_id: int) -> ItemHistory:
    """An item's decisions, notes and scored QA reviews, each oldest first."""
    with db.sessions() as session:
        return ItemHistory(
            notes.decision_history(session, item_id),
            notes.notes(session, item_id),
            qa.feedback(session, item_id=item_id),
        )


def case_qa_reviews(db: Database, case_id: str) -> list[dict[str, Any]]:
    """The scored QA reviews of an EM case's decisions (reviews, device
    decisions, escalations, trail requests), oldest first."""
    with db.sessions() as session:
        return qa.feedback(session, case_id=case_id)
