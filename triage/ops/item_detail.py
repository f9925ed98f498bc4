"""One intelligence item as the app's detail pane shows it: the stored item
and the other items about the same subject or premises."""

from __future__ import annotations

from typing import Any

from triage.intel.linked import linked_items
from triage.store.db import Database
from triage.store.models import IntelItem


def item_detail(db: Database, item_id: int) -> tuple[IntelItem | None, list[dict[str, Any]]]:
    """The item (None if it is gone) and its linked items."""
    with db.sessions() as session:
        item = session.get(IntelItem, item_id)
        linked = linked_items(session, item_id) if item is not None else []
    return item, linked
