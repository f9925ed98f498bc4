"""Intelligence items linked to one another: the same subject or premises."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from triage.store.models import IntelItem


def linked_items(session: Session, item_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """Other items about the same subject or the same premises, newest first.

    Same premises means the same postcode and, when both name one, the same
    business (case-insensitive); a shared subject_ref alone is enough.
    """
    item = session.get(IntelItem, item_id)
    if item is None:
        raise LookupError(f"no intelligence item with id {item_id}")
    conditions = []
    if item.subject_ref:
        conditions.append(IntelItem.subject_ref == item.subject_ref)
    if item.postcode:
        same_place = IntelItem.postcode == item.postcode
        if item.business_name:
            same_place = same_place & (
                IntelItem.business_name.is_(None)
                | (func.lower(IntelItem.business_name) == item.business_name.lower())
            )
        conditions.append(same_place)
    if not conditions:
        return []
    rows = session.execute(
        select(IntelItem)
        .where(or_(*conditions), IntelItem.id != item.id)
        .order_by(IntelItem.received_at.desc())
        .limit(limit)
    ).scalars()
    return [
        {
            "item_id": other.id,
            "intel_id": other.intel_id,
            "received_at": other.received_at,
            "status": other.status,
            "why": "same subject"
            if item.subject_ref and other.subject_ref == item.subject_ref
            else "same premises",
            "allegation": other.allegation,
            "business_name": other.business_name,
            "postcode": other.postcode,
        }
        for other in rows
    ]
