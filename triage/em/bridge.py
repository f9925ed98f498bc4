"""The bridge from EM to ICE tasking.

An EM case out of contact for 7 days or more (at least 7 x 24 hours since its
last contact: the later of its ``last_contact_at`` and its latest
``contact_made`` event, ``triage.em.contact``) becomes, once, a bucket-4
intelligence item for its region: ``intel_id`` ``EM-<case_id>``,
``em_case_id`` set, harm flag ``fno`` (EM cases are foreign national
offenders, which is what puts the item in bucket 4 under the bucket rules)
and ``em_bridge`` in ``extra``. When the case is back in contact the item
says so in its summary and ``extra`` and, if no meeting has decided it yet,
closes (status ``closed``, with when and why): it leaves the queue. If
contact is lost again the item says that too and an item the bridge closed
opens again. Times in summaries and reasons are UK local time with the zone;
``extra`` keeps UTC. Each change is audited.

Running it again changes nothing. Portable SQL (SQLAlchemy Core); the
wording is done in Python, over the bridge's few items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from triage import clock
from triage.em.contact import last_contact_sql
from triage.em.pack import EmPack, default_pack
from triage.store import audit
from triage.store.db import Database
from triage.store.models import EmCase, IntelItem

PREFIX = "EM-"
# The longest case id whose bridge item's id (PREFIX + case id) fits the
# store's intel_id: the EM cases import quarantines a longer one.
_INTEL_ID = IntelItem.__table__.c.intel_id.type
assert isinstance(_INTEL_ID, String) and _INTEL_ID.length
LONGEST_CASE_ID = _INTEL_ID.length - len(PREFIX)
WHO = "triage (EM bridge)"
CLOSED_REASON = "EM case back in contact (last contact {when}): locating them is no longer needed"


@dataclass(frozen=True)
class BridgeRun:
    created: int
    back_in_contact: int
    lost_again: int
    without_region: int
    closed: int = 0
    reopened: int = 0


def _stamp(moment: datetime) -> str:
    """A UTC instant as stored in ``extra``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def sync_bridge(
    db: Database, *, as_of: datetime | None = None, pack: EmPack | None = None
) -> BridgeRun:
    """Create missing bridge items and update the contact state of existing ones."""
    pack = pack or default_pack()
    as_of = as_of or clock.now()
    cutoff = as_of - timedelta(hours=pack.out_of_contact_hours)
    limit = f"{pack.out_of_contact_hours / 24:g} days"  # the pack's, 7 by default
    contact = last_contact_sql(as_of)
    out_of_contact = and_(
        contact.is_not(None),
        contact <= cutoff,
        func.coalesce(EmCase.em_status, "active") != "ceased",
    )
    # An item already holding the bridge's intel_id counts as linked too, so
    # the insert below and its audit entries always agree.
    linked = exists().where(
        or_(
            IntelItem.em_case_id == EmCase.case_id,
            IntelItem.intel_id == literal(PREFIX) + EmCase.case_id,
        )
    )
    with db.transaction() as session:
        without_region = session.execute(
            select(func.count())
            .select_from(EmCase)
            .where(out_of_contact, EmCase.region.is_(None), ~linked)
        ).scalar_one()
        new_cases = session.execute(
            select(
                EmCase.case_id,
                EmCase.region,
                EmCase.person_ref,
                EmCase.nationality,
                contact.label("contact"),
            ).where(out_of_contact, EmCase.region.is_not(None), ~linked)
        ).all()
        if new_cases:
            session.execute(
                insert(IntelItem),
                [_new_item(row, as_of, limit) for row in new_cases],
            )
            audit.record_many(
                session,
                [
                    {
                        "who": WHO,
                        "action": "em.bridge.create",
                        "entity": "intel_item",
                        "entity_id": PREFIX + row.case_id,
                        "field": "em_case_id",
                        "new": row.case_id,
                    }
                    for row in new_cases
                ],
            )
        moves = _contact_moves(session, as_of, cutoff, limit)
    return BridgeRun(
        len(new_cases),
        moves["back_in_contact"],
        moves["lost_again"],
        without_region,
        moves["closed"],
        moves["reopened"],
    )


def _new_item(case: Any, as_of: datetime, limit: str) -> dict[str, Any]:
    """The item for a case out of contact (a row of the select above)."""
    case_id, since = case.case_id, case.contact
    return {
        "intel_id": PREFIX + case_id,
        "received_at": as_of,
        "passed_at": as_of,
        "region": case.region,
        "source_type": "internal",
        "subject_named": True,
        "subject_ref": case.person_ref,
        "nationality": case.nationality,
        "whereabouts": "unknown",
        "allegation": "fno",
        "harm_flags": ";fno;",
        "summary": (
            f"EM case {case_id} out of contact since {clock.local_text(since)} ({limit} or "
            "more): locate and re-establish contact; FNO, coordinate with police."
        ),
        "extra": {
            "em_bridge": "true",
            "em_case_id": case_id,
            "em_contact": "out_of_contact",
            "out_of_contact_since": _stamp(since),
        },
        "status": "open",
        "carry_over_count": 0,
        "em_case_id": case_id,
        "created_at": as_of,
        "updated_at": as_of,
    }


def _contact_moves(
    session: Session, as_of: datetime, cutoff: datetime, limit: str
) -> dict[str, int]:
    """Move linked items between contact states where their case's last
    contact says so: the summary says it first, ``extra`` records the state
    and when; back in contact closes an undecided item, lost again reopens
    one the bridge closed. Each move is audited."""
    items = session.execute(
        select(
            IntelItem.id,
            IntelItem.intel_id,
            IntelItem.em_case_id,
            IntelItem.status,
            IntelItem.summary,
            IntelItem.extra,
            last_contact_sql(as_of).label("contact"),
        )
        .join(EmCase, EmCase.case_id == IntelItem.em_case_id)
        # An earlier as_of never rewrites a later state.
        .where(IntelItem.em_case_id.is_not(None), IntelItem.updated_at <= as_of)
    ).all()
    counts = {"back_in_contact": 0, "lost_again": 0, "closed": 0, "reopened": 0}
    entries: list[dict[str, Any]] = []
    for item in items:
        extra = dict(item.extra or {})
        state, contact = extra.get("em_contact"), item.contact
        if contact is None:
            continue
        when = clock.local_text(contact)
        values: dict[str, Any] = {"updated_at": as_of}
        if state == "out_of_contact" and contact > cutoff:
            counts["back_in_contact"] += 1
            extra.update(em_contact="back_in_contact", back_in_contact_at=_stamp(contact))
            lead = f"EM case {item.em_case_id} back in contact (last contact {when}). "
            entries.append(
                _entry(item.intel_id, "em.bridge.back_in_contact", "em_contact", state,
                       f"back_in_contact (last contact {contact.isoformat()})")
            )  # fmt: skip
            if item.status == "open":
                counts["closed"] += 1
                reason = CLOSED_REASON.format(when=when)
                values.update(status="closed", closed_at=as_of, closed_reason=reason)
                extra["closed_by_bridge"] = "true"
                entries.append(_entry(item.intel_id, "em.bridge.close", "status", "open", "closed"))
        elif state == "back_in_contact" and contact <= cutoff:
            counts["lost_again"] += 1
            extra.update(em_contact="out_of_contact", out_of_contact_since=_stamp(contact))
            lead = (
                f"EM case {item.em_case_id} out of contact again since {when} ({limit} or more). "
            )
            entries.append(
                _entry(item.intel_id, "em.bridge.out_of_contact_again", "em_contact", state,
                       "out_of_contact")
            )  # fmt: skip
            if item.status == "closed" and extra.pop("closed_by_bridge", None):
                counts["reopened"] += 1
                values.update(status="open", closed_at=None, closed_reason=None)
                entries.append(
                    _entry(item.intel_id, "em.bridge.reopen", "status", "closed", "open")
                )
        else:
            continue
        values.update(summary=lead + (item.summary or ""), extra=extra)
        session.execute(update(IntelItem).where(IntelItem.id == item.id).values(**values))
    audit.record_many(session, entries)
    return counts


def _entry(intel_id: str, action: str, field: str, old: str, new: str) -> dict[str, Any]:
    return {
        "who": WHO,
        "action": action,
        "entity": "intel_item",
        "entity_id": intel_id,
        "field": field,
        "old": old,
        "new": new,
    }
