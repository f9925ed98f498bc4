"""The EM caseload against the calibrated demo data (EM report figures)."""

from __future__ import annotations

from triage.demo.generator import fill_database
from triage.em.battery import battery_saving
from triage.em.queue import build_queue


def test_demo_review_backlog_and_battery_saving(db):
    fill_database(db, intel=60)
    with db.transaction() as session:
        saving = battery_saving(session)
        queue = build_queue(session)
    # Figure 6: 4,967 battery notifications, every one still counted.
    assert saving.raw_events == 4967
    # The Inspectorate estimated consolidation would save about 75%.
    assert 0.70 <= saving.saving_ratio <= 0.80
    # Figure 14 / ¶5.81: 818 of the 1,622 active cases have a review overdue.
    overdue = [i for i in queue.items if i.workstream == "reviews" and i.due_state == "overdue"]
    assert len(overdue) == 818


def test_demo_reviews_end_on_each_case_last_review(db):
    from sqlalchemy import func, select

    from triage.em.models import EmReview
    from triage.store.models import EmCase

    summary = fill_database(db, intel=60)
    with db.transaction() as session:
        latest = dict(
            session.execute(
                select(EmReview.case_id, func.max(EmReview.completed_on)).group_by(EmReview.case_id)
            ).all()
        )
        last_review = dict(
            session.execute(
                select(EmCase.case_id, EmCase.last_review_at).where(
                    EmCase.case_id.in_(list(latest))
                )
            ).all()
        )
        triggers = set(session.scalars(select(EmReview.trigger)))
    # Figure 14: 338 + 162 reviews, and recording them moved no case's last review.
    assert summary.reviews == 500
    assert latest == last_review
    assert triggers == {"scheduled", "representation"}
