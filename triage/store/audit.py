"""The append-only audit log: who changed what, when, from what to what.

Every write that changes a stored decision or record goes through ``record``
in the same transaction as the change itself, so the log and the data can
never disagree. The table refuses UPDATE and DELETE (SQLite triggers in
migration 0002).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from triage import clock, settings
from triage.store.models import AuditEntry


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: object,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    who: str | None = None,
    batch_id: int | None = None,
) -> None:
    session.execute(
        insert(AuditEntry),
        [
            {
                "at": clock.now(),
                "who": who or settings.current_user(),
                "action": action,
                "entity": entity,
                "entity_id": str(entity_id),
                "field": field,
                "old_value": _text(old),
                "new_value": _text(new),
                "batch_id": batch_id,
            }
        ],
    )


def record_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk form for imports: each row has the keys of ``record``'s arguments."""
    if not rows:
        return
    now = clock.now()
    session.execute(
        insert(AuditEntry),
        [
            {
                "at": now,
                "who": row["who"],
                "action": row["action"],
                "entity": row["entity"],
                "entity_id": str(row["entity_id"]),
                "field": row.get("field"),
                "old_value": _text(row.get("old")),
                "new_value": _text(row.get("new")),
                "batch_id": row.get("batch_id"),
            }
            for row in rows
        ],
    )
