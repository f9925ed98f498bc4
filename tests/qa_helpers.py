"""Test data for the QA tests: tasking outcomes and EM reviews, inserted with Core."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from em_helpers import add_case
from meeting_fixtures import add_items
from sqlalchemy import insert

from triage.em.models import EmReview
from triage.store.models import TaskingOutcome

FIRST_DAY = date(2026, 10, 1)


def add_decisions(db, tasking: int = 100, reviews: int = 20, by: str = "maker") -> None:
    """``tasking`` accept/reject decisions (every third rejected; every tenth
    by "other") on days from FIRST_DAY, items in two teams and two regions,
    and ``reviews`` EM reviews by ``by``."""
    specs = [
        {
            "intel_id": f"QA-{i:04d}",
            "region": "LSE" if i % 2 else "NW",
            "team": "Team A" if i % 4 < 2 else "Team B",
        }
        for i in range(tasking)
    ]
    ids = add_items(db, specs) if tasking else []
    outcomes = [
        {
            "item_id": item_id,
            "meeting_date": FIRST_DAY + timedelta(days=i % 30),
            "decision": "rejected" if i % 3 == 0 else "accepted",
            "reason": "insufficient_detail" if i % 3 == 0 else None,
            "decided_by": "other" if i % 10 == 0 else by,
            "decided_at": datetime(2026, 10, 1, 12) + timedelta(days=i % 30),
        }
        for i, item_id in enumerate(ids)
    ]
    with db.transaction() as session:
        if outcomes:
            session.execute(insert(TaskingOutcome), outcomes)
        for i in range(reviews):
            add_case(session, f"EM-{i:03d}", region="LSE")
        if reviews:
            session.execute(
                insert(EmReview),
                [
                    {
                        "case_id": f"EM-{i:03d}",
                        "completed_on": FIRST_DAY + timedelta(days=i),
                        "trigger": "scheduled",
                        "outcome": "continue",
                        "completed_by": by,
                        "recorded_at": datetime(2026, 10, 1, 12) + timedelta(days=i),
                    }
                    for i in range(reviews)
                ],
            )
