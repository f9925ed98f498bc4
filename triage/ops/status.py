"""The app's status line figures: how much the database holds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from triage.store.db import Database
from triage.store.models import EmCase, IntelItem


@dataclass(frozen=True)
class StoreCounts:
    items: int
    open_items: int
    em_cases: int

    def text(self) -> str:
        return f"{self.items:,} items ({self.open_items:,} open) · {self.em_cases:,} EM cases"


def store_counts(db: Database) -> StoreCounts:
    """Intelligence items (all and open) and EM cases, counted in SQL."""
    with db.sessions() as session:
        items = session.execute(select(func.count()).select_from(IntelItem)).scalar_one()
        open_items = session.execute(
            select(func.count()).select_from(IntelItem).where(IntelItem.status == "open")
        ).scalar_one()
        cases = session.execute(select(func.count()).select_from(EmCase)).scalar_one()
    return StoreCounts(items, open_items, cases)
