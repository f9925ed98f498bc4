"""The trail-data request register.

A request for a person's GPS trail must give one of the five DPIA grounds
[004 ¶5.34] and a specified period; the requester and the outcome are
recorded. No trail data is stored here, only the request. ``figure9`` counts
the answered requests in the shape of the EM report's Figure 9 (outcome by
attendance / trail monitoring).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from triage import clock
from triage.em.models import (
    TRAIL_GROUNDS,
    TRAIL_KINDS,
    TRAIL_OUTCOMES,
    TRAIL_REQUESTERS,
    EmTrailRequest,
)
from triage.store import audit
from triage.store.db import Database
from triage.store.models import EmCase
from triage.users import Action, Actor, require

OUTCOME_LABELS = {
    "provided": "Data provided",
    "partial": "Partial data provided",
    "rejected_insufficient_justification": "Rejected – insufficient justification",
    "rejected_other": "Rejected – other reason",
    "rejected_too_broad": "Rejected – too broad in scope",
    "withdrawn": "Request withdrawn",
}


class TrailRequestError(ValueError):
    """A request that cannot be registered; the message names the problem."""


def _check(name: str, value: str | None, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise TrailRequestError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def register_request(
    db: Database,
    *,
    case_id: str,
    requester_org: str,
    requester: str,
    kind: str,
    ground: str,
    period_from: datetime | None,
    period_to: datetime | None,
    justification: str | None = None,
    actor: Actor,
    requested_at: datetime | None = None,
) -> int:
    """Register a request; refused without a DPIA ground or a specified period."""
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
    _check("ground (DPIA)", ground, TRAIL_GROUNDS)
    _check("requester organisation", requester_org, TRAIL_REQUESTERS)
    _check("kind", kind, TRAIL_KINDS)
    if not requester or not requester.strip():
        raise TrailRequestError("the requester must be named")
    if period_from is None or period_to is None:
        raise TrailRequestError("a trail request needs a specified period (from and to)")
    if period_from > period_to:
        raise TrailRequestError(f"the period starts ({period_from}) after it ends ({period_to})")
    with db.transaction() as session:
        if session.execute(select(EmCase.id).where(EmCase.case_id == case_id)).first() is None:
            raise TrailRequestError(f"no EM case {case_id!r}")
        row = EmTrailRequest(
            case_id=case_id,
            requested_at=requested_at or clock.now(),
            requester_org=requester_org,
            requester=requester.strip(),
            kind=kind,
            ground=ground,
            period_from=period_from,
            period_to=period_to,
            justification=justification,
            recorded_by=who,
        )
        session.add(row)
        session.flush()
        audit.record(
            session, "em.trail.request", "em_trail_request", row.id, "ground", None, ground, who=who
        )
        return row.id


def record_outcome(db: Database, request_id: int, outcome: str, *, actor: Actor) -> None:
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
    _check("outcome", outcome, TRAIL_OUTCOMES)
    with db.transaction() as session:
        row = session.get(EmTrailRequest, request_id)
        if row is None:
            raise TrailRequestError(f"no trail request {request_id}")
        old = row.outcome
        row.outcome, row.outcome_at, row.outcome_by = outcome, clock.now(), who
        audit.record(
            session,
            "em.trail.outcome",
            "em_trail_request",
            request_id,
            "outcome",
            old,
            outcome,
            who=who,
        )


def figure9(
    db: Database, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Answered requests by outcome x kind (EM report Figure 9), plus requesters."""
    conditions: list[ColumnElement[bool]] = [EmTrailRequest.outcome.is_not(None)]
    if since is not None:
        conditions.append(EmTrailRequest.requested_at >= since)
    if until is not None:
        conditions.append(EmTrailRequest.requested_at < until)
    with db.transaction() as session:
        cells = dict(
            ((outcome, kind), n)
            for outcome, kind, n in session.execute(
                select(EmTrailRequest.outcome, EmTrailRequest.kind, func.count())
                .where(*conditions)
                .group_by(EmTrailRequest.outcome, EmTrailRequest.kind)
            )
        )
        by_org = dict(
            session.execute(
                select(EmTrailRequest.requester_org, func.count())
                .where(*conditions)
                .group_by(EmTrailRequest.requester_org)
            ).all()
        )
        pending = session.execute(
            select(func.count()).select_from(EmTrailRequest).where(EmTrailRequest.outcome.is_(None))
        ).scalar_one()
    rows: list[dict[str, Any]] = []
    for outcome in TRAIL_OUTCOMES:
        counts = {kind: cells.get((outcome, kind), 0) for kind in TRAIL_KINDS}
        rows.append({"outcome": OUTCOME_LABELS[outcome], **counts, "total": sum(counts.values())})
    totals = {kind: sum(r[kind] for r in rows) for kind in TRAIL_KINDS}
    rows.append({"outcome": "TOTAL", **totals, "total": sum(totals.values())})
    rejected = sum(
        cells.get((o, k), 0)
        for o in TRAIL_OUTCOMES
        if o.startswith("rejected")
        for k in TRAIL_KINDS
    )
    answered = rows[-1]["total"]
    return {
        "rows": rows,
        "requesters": {org: by_org.get(org, 0) for org in TRAIL_REQUESTERS},
        "rejected_in_full": rejected,
        "rejected_share": round(rejected / answered, 4) if answered else None,
        "awaiting_outcome": pending,
    }
