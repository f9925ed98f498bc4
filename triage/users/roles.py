"""Roles and what each may do: the one table every permission check reads.

A core operation is given the acting user (an ``Actor``: the signed-in user's
name and roles) as an explicit parameter and calls ``guard.require`` before it
changes anything, so the CLI and the app are refused alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from triage.store import audit
from triage.store.db import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Action(StrEnum):
    """What a role may be allowed to do; the value reads in "NAME may not ..."."""

    READ = "read the queues"
    IMPORT = "import extracts"
    NOTES = "add notes"
    RUN_MEETINGS = "run meetings"
    EM_ACTIONS = "act on EM cases"
    RULES = "change rule packs"
    MODEL = "manage the model"
    READ_AUDIT = "read the audit"
    READ_STATISTICS = "read the statistics"
    MANAGE_USERS = "manage users"
    PURGE = "purge data"
    QA_REVIEW = "review decisions for quality assurance"


# Role name -> actions. Reading the queues is every role's; the rest follow
# the list (team leader: meetings; officer: import and notes; EM
# caseworker: EM actions; rules owner: rule packs and the model; auditor: the
# audit and the statistics; admin: users and the retention purge). QA review
# (drawing samples, scoring decisions: 003 Annex D) is the team leader's, who
# reviews other people's decisions, and the auditor's, for an independent
# second line; nobody may score a decision they made (triage.qa).
ROLES: dict[str, frozenset[Action]] = {
    "team-leader": frozenset(
        {Action.READ, Action.RUN_MEETINGS, Action.READ_STATISTICS, Action.QA_REVIEW}
    ),
    "officer": frozenset({Action.READ, Action.IMPORT, Action.NOTES}),
    "em-caseworker": frozenset({Action.READ, Action.EM_ACTIONS, Action.NOTES}),
    "rules-owner": frozenset({Action.READ, Action.RULES, Action.MODEL, Action.READ_STATISTICS}),
    "auditor": frozenset(
        {Action.READ, Action.READ_AUDIT, Action.READ_STATISTICS, Action.QA_REVIEW}
    ),
    "admin": frozenset({Action.READ, Action.MANAGE_USERS, Action.PURGE}),
}
ALL_ROLES: frozenset[str] = frozenset(ROLES)


@dataclass(frozen=True)
class Actor:
    """The user a core operation acts for: recorded in the audit as ``name``."""

    name: str
    roles: frozenset[str]

    def describe(self) -> str:
        """``NAME (role, role)`` as refusal messages show it."""
        return f"{self.name} ({', '.join(sorted(self.roles)) or 'no role'})"


class NotPermitted(Exception):
    """The acting user may not do this (CLI exit status 4)."""


def permitted(actor: Actor, action: Action) -> bool:
    return any(action in ROLES.get(role, frozenset()) for role in actor.roles)


def require(db: Database | Session, actor: Actor, action: Action) -> None:
    """Refuse (``NotPermitted``) unless one of ``actor``'s roles allows ``action``.

    The refusal is itself audited, in its own transaction (the caller's, if
    any, is about to be rolled back by the exception). Call it before any write.
    """
    if permitted(actor, action):
        return
    # Imported for a refusal only: most commands never load the ORM.
    from sqlalchemy.orm import Session

    engine = db.engine if isinstance(db, Database) else db.get_bind()
    with Session(engine) as session, session.begin():
        audit.record(
            session,
            "permission.refused",
            "action",
            action.name.lower(),
            new=f"{actor.describe()} may not {action}",
            who=actor.name,
        )
    raise NotPermitted(f"{actor.describe()} may not {action}")
