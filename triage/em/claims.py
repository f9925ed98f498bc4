"""One owner at a time: claiming and releasing an EM case.

The claim is a single conditional UPDATE (``WHERE claimed_by IS NULL``), so
when two people (or two processes) claim the same case at once the database
lets exactly one win; the other is told who holds it.
"""

from __future__ import annotations

from sqlalchemy import select, update

from triage import clock
from triage.store import audit
from triage.store.db import Database, rows_changed
from triage.store.models import EmCase
from triage.users import Action, Actor, require


class ClaimError(Exception):
    """A claim or release that cannot be done; the message says why."""


def holder(db: Database, case_id: str) -> tuple[str, object] | None:
    with db.transaction() as session:
        row = session.execute(
            select(EmCase.claimed_by, EmCase.claimed_at).where(EmCase.case_id == case_id)
        ).one_or_none()
    if row is None:
        raise ClaimError(f"no EM case {case_id!r}")
    return (row[0], row[1]) if row[0] else None


def claim(db: Database, case_id: str, *, actor: Actor) -> None:
    """Claim ``case_id`` for ``actor``; refused (ClaimError) if someone else holds it."""
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
    now = clock.now()
    with db.transaction() as session:
        won = rows_changed(
            session.execute(
                update(EmCase)
                .where(EmCase.case_id == case_id, EmCase.claimed_by.is_(None))
                .values(claimed_by=who, claimed_at=now)
            )
        )
        if won:
            audit.record(session, "em.claim", "em_case", case_id, "claimed_by", None, who, who=who)
            return
        row = session.execute(
            select(EmCase.claimed_by, EmCase.claimed_at).where(EmCase.case_id == case_id)
        ).one_or_none()
    if row is None:
        raise ClaimError(f"no EM case {case_id!r}")
    if row[0] == who:
        return  # already ours: claiming again changes nothing
    since = clock.to_display(row[1]).strftime("%Y-%m-%d %H:%M %Z") if row[1] else "unknown time"
    raise ClaimError(f"case {case_id} is already claimed by {row[0]} (since {since})")


def release(db: Database, case_id: str, *, actor: Actor, force: bool = False) -> None:
    """Give a case back. Only its holder may, unless ``force`` (recorded as such)."""
    require(db, actor, Action.EM_ACTIONS)
    who = actor.name
    with db.transaction() as session:
        current = session.execute(
            select(EmCase.claimed_by).where(EmCase.case_id == case_id)
        ).one_or_none()
        if current is None:
            raise ClaimError(f"no EM case {case_id!r}")
        if current[0] is None:
            raise ClaimError(f"case {case_id} is not claimed")
        condition = EmCase.claimed_by == (current[0] if force else who)
        done = rows_changed(
            session.execute(
                update(EmCase)
                .where(EmCase.case_id == case_id, condition)
                .values(claimed_by=None, claimed_at=None)
            )
        )
        if not done:
            raise ClaimError(f"case {case_id} is claimed by {current[0]}, not {who}")
        action = "em.release_forced" if force and current[0] != who else "em.release"
        audit.record(session, action, "em_case", case_id, "claimed_by", current[0], None, who=who)
