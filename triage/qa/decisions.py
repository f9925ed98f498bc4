"""The decisions a QA sample is drawn from: a period's tasking and EM decisions.

Each kind is one query, read in a fixed order (by the decision's own id) so
that the same seed over the same decisions draws the same sample:

- ``tasking``: a meeting decision to accept or reject an item (a
  ``tasking_outcome``; "not discussed" is no decision), by its meeting date;
- ``em_review``: a completed EM review, by the day it was completed;
- ``em_device``: a caseworker's decision on the tool's device recommendation;
- ``em_escalation``: an escalation step marked done or withdrawn;
- ``em_trail``: the outcome given to a trail-data request.

Instants are compared with the period's UTC bounds (UK days), dates with its
dates: plain comparisons, portable to any SQL database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage import clock
from triage.em.models import EmEscalation, EmRecommendation, EmReview, EmTrailRequest
from triage.store.models import EmCase, IntelItem, TaskingMeeting, TaskingOutcome


@dataclass(frozen=True)
class Decision:
    ref: str  # "kind:id"
    kind: str
    decided_on: date
    decided_by: str | None
    region: str | None
    team: str | None
    item_id: int | None
    subject: str
    decision: str


def _local_day(moment: datetime) -> date:
    return clock.to_local(moment).date()


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return clock.start_of_local_day(start), clock.start_of_local_day(end + timedelta(days=1))


def _tasking(session: Session, start: date, end: date) -> list[Decision]:
    rows = session.execute(
        select(
            TaskingOutcome.id,
            TaskingOutcome.meeting_date,
            TaskingOutcome.decided_by,
            TaskingOutcome.decision,
            TaskingOutcome.reason,
            TaskingOutcome.item_id,
            IntelItem.intel_id,
            func.coalesce(TaskingMeeting.region, IntelItem.region).label("region"),
            func.coalesce(TaskingMeeting.team, IntelItem.team).label("team"),
        )
        .join(IntelItem, IntelItem.id == TaskingOutcome.item_id)
        .outerjoin(TaskingMeeting, TaskingMeeting.id == TaskingOutcome.meeting_id)
        .where(
            TaskingOutcome.decision.in_(("accepted", "rejected")),
            TaskingOutcome.meeting_date >= start,
            TaskingOutcome.meeting_date <= end,
        )
        .order_by(TaskingOutcome.id)
    )
    return [
        Decision(
            f"tasking:{r.id}",
            "tasking",
            r.meeting_date,
            r.decided_by,
            r.region,
            r.team,
            r.item_id,
            r.intel_id,
            r.decision if r.decision == "accepted" else f"rejected ({r.reason})",
        )  # fmt: skip
        for r in rows
    ]


def _em_query(table: Any, at: Any, by: Any, details: tuple[Any, ...], *where: Any) -> Any:
    """The decisions in an EM table: id, case, when (``at``) and by whom (``by``),
    the ``details`` that describe it and the case's region, in id order."""
    return (
        select(table.id, table.case_id, at.label("at"), by.label("by"), *details, EmCase.region)
        .outerjoin(EmCase, EmCase.case_id == table.case_id)
        .where(*where)
        .order_by(table.id)
    )


def _em(
    session: Session, query: Any, kind: str, describe: Any, on_date: bool = False
) -> list[Decision]:
    found = []
    for r in session.execute(query):
        day = r.at if on_date else _local_day(r.at)
        found.append(
            Decision(
                f"{kind}:{r.id}", kind, day, r.by, r.region, None, None, r.case_id, describe(r)
            )
        )
    return found


def _reviews(session: Session, start: date, end: date) -> list[Decision]:
    query = _em_query(
        EmReview,
        EmReview.completed_on,
        EmReview.completed_by,
        (EmReview.trigger, EmReview.outcome),
        EmReview.completed_on >= start,
        EmReview.completed_on <= end,
    )
    return _em(session, query, "em_review", lambda r: f"{r.trigger} review: {r.outcome}", True)


def _devices(session: Session, start: date, end: date) -> list[Decision]:
    first, after = _bounds(start, end)
    query = _em_query(
        EmRecommendation,
        EmRecommendation.decided_at,
        EmRecommendation.decided_by,
        (EmRecommendation.decided_em, EmRecommendation.decided_device, EmRecommendation.overridden),
        EmRecommendation.decided_at >= first,
        EmRecommendation.decided_at < after,
    )

    def describe(r: Any) -> str:
        what = f"EM, device {r.decided_device}" if r.decided_em else "no EM"
        return what + (" (overriding the recommendation)" if r.overridden else "")

    return _em(session, query, "em_device", describe)


def _escalations(session: Session, start: date, end: date) -> list[Decision]:
    first, after = _bounds(start, end)
    query = _em_query(
        EmEscalation,
        EmEscalation.done_at,
        EmEscalation.done_by,
        (EmEscalation.step, EmEscalation.status),
        EmEscalation.status.in_(("done", "withdrawn")),
        EmEscalation.done_at >= first,
        EmEscalation.done_at < after,
    )
    return _em(session, query, "em_escalation", lambda r: f"{r.step} {r.status}")


def _trail(session: Session, start: date, end: date) -> list[Decision]:
    first, after = _bounds(start, end)
    query = _em_query(
        EmTrailRequest,
        EmTrailRequest.outcome_at,
        EmTrailRequest.outcome_by,
        (EmTrailRequest.kind, EmTrailRequest.outcome),
        EmTrailRequest.outcome.is_not(None),
        EmTrailRequest.outcome_at >= first,
        EmTrailRequest.outcome_at < after,
    )
    return _em(session, query, "em_trail", lambda r: f"{r.kind} request: {r.outcome}")


_READERS = {
    "tasking": _tasking,
    "em_review": _reviews,
    "em_device": _devices,
    "em_escalation": _escalations,
    "em_trail": _trail,
}


def decisions(session: Session, start: date, end: date) -> dict[str, list[Decision]]:
    """Every decision of each kind made from ``start`` to ``end`` (UK dates), in id order."""
    return {kind: read(session, start, end) for kind, read in _READERS.items()}
