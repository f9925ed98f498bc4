"""Reading and checking the audit log: for auditors (``Action.READ_AUDIT``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from triage.store import audit
from triage.store.db import Database
from triage.store.models import AuditEntry
from triage.users.roles import Action, Actor, require


def verify(db: Database, *, actor: Actor, expected_head: str | None = None) -> audit.Verification:
    """Walk the hash chain; also a break if an append-only trigger is missing."""
    require(db, actor, Action.READ_AUDIT)
    with db.engine.connect() as connection:
        result = audit.verify(connection, expected_head=expected_head)
        missing = audit.missing_triggers(connection)
    if result.ok and missing:
        problem = f"append-only trigger missing or changed: {', '.join(missing)}"
        return audit.Verification(result.entries, result.head, problem)
    return result


def entries(
    db: Database,
    *,
    actor: Actor,
    since: datetime | None = None,
    user: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Audit entries, oldest first, from ``since`` (UTC) and by ``user`` if given."""
    require(db, actor, Action.READ_AUDIT)
    query = select(AuditEntry).order_by(AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if user is not None:
        query = query.where(AuditEntry.who == user)
    if limit is not None:
        query = query.limit(limit)
    with db.sessions() as session:
        return [
            {
                "id": e.id,
                "at": e.at,
                "who": e.who,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "field": e.field,
                "old": e.old_value,
                "new": e.new_value,
                "entry_hash": e.entry_hash,
            }
            for e in session.scalars(query)
        ]
