"""Caseworker actions on EM cases: reviews done, breaches actioned, replies sent.

Each is one transaction with its audit entries; the queue picks up the change
the next time it is built.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from triage import clock, vocab
from triage.em.models import REVIEW_OUTCOMES, REVIEW_TRIGGERS, EmReview
from triage.em.queue import LEGAL_EVENTS
from triage.store import audit
from triage.store.db import Database
from triage.store.models import EmCase, EmEvent
from triage.users import Action, Actor, require


def complete_review(
    db: Database,
    case_id: str,
    *,
    outcome: str,
    actor: Actor,
    trigger: str = "scheduled",
    completed_on: date | None = None,
    note: str | None = None,
) -> None:
    """Record a completed review; the case's last review date moves forward.

    The outcome "ceased" ends the monitoring: the case becomes inactive
    (``em_status`` ceased), so the queue stops raising its reviews, release
    deadline and breaches.
    """
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
    if trigger not in REVIEW_TRIGGERS:
        raise ValueError(f"trigger must be one of {', '.join(REVIEW_TRIGGERS)}")
    if outcome not in REVIEW_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(REVIEW_OUTCOMES)}")
    today = clock.to_local(clock.now()).date()
    day = completed_on or today
    if day > today:
        # A mistyped year would move the next review a year on and take the
        # case off the overdue list unseen.
        raise ValueError(f"a review cannot be completed on {day}, after today ({today})")
    with db.transaction() as session:
        case = session.execute(select(EmCase).where(EmCase.case_id == case_id)).scalar_one_or_none()
        if case is None:
            raise ValueError(f"no EM case {case_id!r}")
        session.add(
            EmReview(
                case_id=case_id,
                completed_on=day,
                trigger=trigger,
                outcome=outcome,
                note=note,
                completed_by=who,
                recorded_at=clock.now(),
            )
        )
        audit.record(
            session, "em.review", "em_case", case_id, "review_outcome", None, outcome, who=who
        )
        if case.last_review_at is None or day > case.last_review_at:
            audit.record(
                session,
                "em.review",
                "em_case",
                case_id,
                "last_review_at",
                case.last_review_at,
                day,
                who=who,
            )
            case.last_review_at = day
            case.updated_at = clock.now()
        if outcome == "ceased" and case.em_status != "ceased":
            audit.record(
                session,
                "em.review",
                "em_case",
                case_id,
                "em_status",
                case.em_status,
                "ceased",
                who=who,
            )
            case.em_status = "ceased"
            case.updated_at = clock.now()


def mark_breaches_actioned(db: Database, case_id: str, *, actor: Actor) -> int:
    """Mark every open breach notification of a case actioned; returns how many."""
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
    now = clock.now()
    with db.transaction() as session:
        # A mistyped case id is not "0 marked actioned".
        if session.scalar(select(EmCase.id).where(EmCase.case_id == case_id)) is None:
            raise ValueError(f"no EM case {case_id!r}")
        ids = list(
            session.execute(
                select(EmEvent.event_id).where(
                    EmEvent.case_id == case_id,
                    EmEvent.event_type.in_(vocab.BREACH_TYPES),
                    EmEvent.responded_at.is_(None),
                )
            ).scalars()
        )
        if ids:
            session.execute(
                update(EmEvent).where(EmEvent.event_id.in_(ids)).values(responded_at=now)
            )
            audit.record_many(
                session,
                [
                    {
                        "who": who,
                        "action": "em.breach.actioned",
                        "entity": "em_event",
                        "entity_id": event_id,
                        "field": "responded_at",
                        "new": now,
                    }
                    for event_id in ids
                ],
            )
    return len(ids)


def record_reply(db: Database, event_id: str, *, actor: Actor) -> None:
    """A reply sent to a representation, PAP letter or judicial review."""
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
    now = clock.now()
    with db.transaction() as session:
        event = session.execute(
            select(EmEvent).where(EmEvent.event_id == event_id)
        ).scalar_one_or_none()
        if event is None:
            raise ValueError(f"no EM event {event_id!r}")
        if event.event_type not in LEGAL_EVENTS:
            raise ValueError(f"event {event_id} is a {event.event_type}, not a legal challenge")
        if event.responded_at is not None:
            raise ValueError(
                f"event {event_id} was already answered on {event.responded_at:%Y-%m-%d}"
            )
        event.responded_at = now
        audit.record(
            session, "em.legal.reply", "em_event", event_id, "responded_at", None, now, who=who
        )
