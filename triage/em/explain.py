"""Why an EM case is where it is: the full trace for one case.

Its work items with the parts of each priority and the item ranked just
above, every deadline, raw and consolidated battery breaches, the escalation
ladder, the device recommendation (and any recorded decision), the claim and
the bridge item.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage import clock, vocab
from triage.em import contact, deadlines
from triage.em.battery import battery_with_pack
from triage.em.escalation import counted_breaches, ladder_steps
from triage.em.models import EmEscalation, EmRecommendation, EmReview, EmTrailRequest
from triage.em.pack import HARM_ORDER, EmPack, default_pack, harm_tier
from triage.em.queue import LEGAL_EVENTS, Queue, build_queue
from triage.em.recommend import recommend_stored
from triage.store.db import Database
from triage.store.models import EmCase, EmEvent, IntelItem

Row = TypeVar("Row")


def _of_case(session: Session, table: type[Row], case_id: str, *order: Any) -> list[Row]:
    """The rows of ``table`` about one case, in ``order``."""
    of_case = table.case_id == case_id  # type: ignore[attr-defined]  # every EM table has one
    return list(session.scalars(select(table).where(of_case).order_by(*order)))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def explain_case(
    db: Database,
    case_id: str,
    *,
    as_of: datetime | None = None,
    pack: EmPack | None = None,
    queue: Queue | None = None,
) -> dict[str, Any]:
    """The trace of one case. ``queue``: a queue already built for the same
    moment and pack (the app passes the one it shows, saving a rebuild)."""
    pack = pack or default_pack()
    as_of = as_of or clock.now()
    with db.transaction() as session:
        case = session.execute(select(EmCase).where(EmCase.case_id == case_id)).scalar_one_or_none()
        if case is None:
            raise KeyError(f"no EM case {case_id!r}")
        if queue is None:
            queue = build_queue(session, as_of=as_of, pack=pack)
        as_of = queue.as_of
        items = [i for i in queue.items if i.case_id == case_id]
        battery = battery_with_pack(session, pack, [case_id]).get(case_id)
        counts = counted_breaches(session, pack, [case_id]).get(case_id, 0)
        events = _of_case(session, EmEvent, case_id, EmEvent.started_at, EmEvent.event_id)
        escalations = _of_case(session, EmEscalation, case_id, EmEscalation.breach_count)
        reviews = _of_case(session, EmReview, case_id, EmReview.completed_on)
        recorded = session.execute(
            select(EmRecommendation)
            .where(EmRecommendation.case_id == case_id)
            .order_by(EmRecommendation.made_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        trail_requests = _of_case(
            session, EmTrailRequest, case_id, EmTrailRequest.requested_at, EmTrailRequest.id
        )
        bridge = session.execute(
            select(
                IntelItem.intel_id,
                IntelItem.extra,
                IntelItem.summary,
                IntelItem.status,
                IntelItem.closed_at,
                IntelItem.closed_reason,
            ).where(IntelItem.em_case_id == case_id)
        ).first()

    release_due = deadlines.release_deadline(case.bail_type, case.bail_granted_at, pack)
    review_due = deadlines.review_due(case.fitted_at, case.last_review_at, pack)
    cutoff_hours = pack.out_of_contact_hours
    contact_events = [e.started_at for e in events if e.event_type == contact.CONTACT_EVENT]
    last_contact = contact.last_contact(case.last_contact_at, contact_events, as_of)
    hours_out = (as_of - last_contact).total_seconds() / 3600 if last_contact else None
    breach_events = [e for e in events if e.event_type in vocab.BREACH_TYPES]
    return {
        "case_id": case_id,
        "as_of": as_of.isoformat(),
        "rules_version": pack.version,
        "harm_tier": harm_tier(case.harm_level, case.deportation_category),
        "harm_order": list(HARM_ORDER),
        "region": case.region,
        "em_status": case.em_status,
        "claimed_by": case.claimed_by,
        "claimed_at": _iso(case.claimed_at),
        "work": [
            {
                **item.row(),
                "components": [
                    {"part": label, "points": points} for label, points in item.components
                ],
                "below": item.above,
            }
            for item in items
        ],
        "not_evaluated": queue.not_evaluated.get(case_id, []),
        "deadlines": {
            "release_deadline": _iso(release_due),
            "release_state": (
                "done" if case.fitted_at else deadlines.deadline_state(release_due, as_of, pack)
            )
            if case.bail_type == "ij"
            else (
                "no statutory deadline (SoS bail)" if case.bail_type == "sos" else "not evaluated"
            ),
            "review_base": _iso(deadlines.review_base(case.fitted_at, case.last_review_at)),
            "review_due": _iso(review_due),
            "review_overdue": deadlines.review_overdue(review_due, as_of) if review_due else None,
            "representation_window_end": _iso(
                deadlines.representation_window_end(recorded.decided_at, pack)
                if recorded is not None and recorded.decided_em
                else None
            ),
            "legal": [
                {
                    "event_id": e.event_id,
                    "type": e.event_type,
                    "due_at": _iso(e.due_at),
                    "answered_at": _iso(e.responded_at),
                    "state": "answered"
                    if e.responded_at
                    else deadlines.deadline_state(e.due_at, as_of, pack),
                }
                for e in events
                if e.event_type in LEGAL_EVENTS
            ],
        },
        "contact": {
            # The later of the case's last_contact_at and its contact_made events.
            "last_contact_at": _iso(last_contact),
            "recorded_last_contact_at": _iso(case.last_contact_at),
            "hours_out_of_contact": round(hours_out, 1) if hours_out is not None else None,
            "out_of_contact": hours_out is not None and hours_out >= cutoff_hours,
            "threshold_hours": cutoff_hours,
        },
        "breaches_raw": len(breach_events),
        "battery_events_raw": len(battery.event_ids) if battery else 0,
        "consolidated_battery_breaches": battery.report_json() if battery else [],
        "battery_rule": f"{pack.battery_threshold_hours:g} h in a rolling "
        f"{pack.battery_window_hours / 24:g}-day window",
        "counted_breaches": counts,
        "escalation": {
            "required": [{"step": s, "at_count": n} for s, n in ladder_steps(counts, pack)],
            "recorded": [
                {
                    "id": e.id,
                    "step": e.step,
                    "at_count": e.breach_count,
                    "status": e.status,
                    "raised_at": _iso(e.raised_at),
                }
                for e in escalations
            ],
            "rule": f"warning letter every {pack.warning_letter_every} breaches; "
            f"prosecution referral at {pack.prosecution_referral_after}",
        },
        # The case and its counted breaches are already read: no second reading.
        "recommendation": recommend_stored(case, counts, pack).as_json(),
        "recorded_recommendation": None
        if recorded is None
        else {
            "id": recorded.id,
            "made_at": _iso(recorded.made_at),
            "em": recorded.em,
            "device": recorded.device,
            "minimum_months": recorded.minimum_months,
            "decision": None
            if recorded.decided_at is None
            else {
                "em": recorded.decided_em,
                "device": recorded.decided_device,
                "minimum_months": recorded.decided_months,
                "reason": recorded.decision_reason,
                "by": recorded.decided_by,
                "at": _iso(recorded.decided_at),
                "override": recorded.overridden,
            },
        },
        "reviews": [
            {
                "completed_on": r.completed_on.isoformat(),
                "trigger": r.trigger,
                "outcome": r.outcome,
                "by": r.completed_by,
            }
            for r in reviews
        ],
        "trail_requests": [
            {
                "id": t.id,
                "requested_at": _iso(t.requested_at),
                "requester_org": t.requester_org,
                "kind": t.kind,
                "ground": t.ground,
                "outcome": t.outcome,
            }
            for t in trail_requests
        ],
        "timeline": [
            {
                "event_id": e.event_id,
                "type": e.event_type,
                "started_at": _iso(e.started_at),
                "ended_at": _iso(e.ended_at),
                "actioned_at": _iso(e.responded_at),
            }
            for e in events
        ],
        "bridge": None
        if bridge is None
        else {
            "intel_id": bridge[0],
            "state": (bridge[1] or {}).get("em_contact"),
            "status": bridge[3],
            "closed_at": _iso(bridge[4]),
            "closed_reason": bridge[5],
            "summary": bridge[2],
        },
    }
