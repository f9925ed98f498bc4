"""The escalation ladder: warning letters and prosecution referrals.

The same rule for every case [004 ¶5.83 found it "not consistent practice"]:
a warning letter at every Nth counted breach and a prosecution referral once
the count reaches the pack's threshold. Counted breaches are the breach
notifications other than battery, plus consolidated battery reports (raw
battery periods count only through the reports they make). Each step is
recorded once per (case, step, count) with an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from triage import clock, vocab
from triage.em.battery import battery_with_pack
from triage.em.models import EmEscalation
from triage.em.pack import EmPack, default_pack
from triage.store import audit
from triage.store.db import Database
from triage.store.models import EmEvent
from triage.users import Action, Actor, require

NON_BATTERY_BREACHES = tuple(t for t in vocab.BREACH_TYPES if t != "battery")


def counted_breaches(
    session: Session, pack: EmPack, case_ids: list[str] | None = None
) -> dict[str, int]:
    """Counted breaches per case: non-battery notifications + battery reports."""
    query = (
        select(EmEvent.case_id, func.count())
        .where(EmEvent.event_type.in_(NON_BATTERY_BREACHES))
        .group_by(EmEvent.case_id)
    )
    if case_ids is not None:
        query = query.where(EmEvent.case_id.in_(case_ids))
    counts: dict[str, int] = dict(session.execute(query).all())
    for case_id, view in battery_with_pack(session, pack, case_ids).items():
        counts[case_id] = counts.get(case_id, 0) + len(view.reports)
    return counts


def ladder_steps(count: int, pack: EmPack) -> list[tuple[str, int]]:
    """Every (step, at_count) the ladder requires for a breach count."""
    every = pack.warning_letter_every
    steps = [("warning_letter", n) for n in range(every, count + 1, every)]
    if count >= pack.prosecution_referral_after:
        steps.append(("prosecution_referral", pack.prosecution_referral_after))
    return steps


@dataclass(frozen=True)
class EscalationRun:
    raised: int
    warning_letters: int
    prosecution_referrals: int


def apply_escalations(
    db: Database, *, pack: EmPack | None = None, as_of: datetime | None = None
) -> EscalationRun:
    """Raise every ladder step that is due and not yet recorded (idempotent)."""
    pack = pack or default_pack()
    as_of = as_of or clock.now()
    with db.transaction() as session:
        counts = counted_breaches(session, pack)
        existing = set(
            session.execute(
                select(EmEscalation.case_id, EmEscalation.step, EmEscalation.breach_count)
            )
        )
        new_rows = [
            {
                "case_id": case_id,
                "step": step,
                "breach_count": at,
                "status": "open",
                "raised_at": as_of,
                "rules_version": pack.version,
            }
            for case_id, count in sorted(counts.items())
            for step, at in ladder_steps(count, pack)
            if (case_id, step, at) not in existing
        ]
        if new_rows:
            session.execute(insert(EmEscalation), new_rows)
            who = "triage (escalation ladder)"
            audit.record_many(
                session,
                [
                    {
                        "who": who,
                        "action": f"em.escalation.{row['step']}",
                        "entity": "em_case",
                        "entity_id": row["case_id"],
                        "field": "breach_count",
                        "new": row["breach_count"],
                    }
                    for row in new_rows
                ],
            )
    letters = sum(1 for r in new_rows if r["step"] == "warning_letter")
    return EscalationRun(len(new_rows), letters, len(new_rows) - letters)


def mark_done(db: Database, escalation_id: int, *, actor: Actor, status: str = "done") -> None:
    """Record that a letter was sent or a referral made (or withdrawn)."""
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
    if status not in ("done", "withdrawn"):
        raise ValueError(f"status must be done or withdrawn, not {status!r}")
    with db.transaction() as session:
        row = session.get(EmEscalation, escalation_id)
        if row is None:
            raise ValueError(f"no escalation record {escalation_id}")
        old = row.status
        row.status, row.done_at, row.done_by = status, clock.now(), who
        audit.record(
            session,
            "em.escalation.update",
            "em_escalation",
            escalation_id,
            "status",
            old,
            status,
            who=who,
        )
