"""The bridge from EM to ICE tasking.

An EM case out of contact for 7 days or more (at least 7 x 24 hours since its
last contact or device signal) becomes, once, a bucket-4 intelligence item
for its region: ``intel_id`` ``EM-<case_id>``, ``em_case_id`` set, harm flag
``fno`` (EM cases are foreign national offenders, which is what puts the item
in bucket 4 under the bucket rules) and ``em_bridge`` in ``extra``. When the
case is back in contact the item says so in its summary and ``extra``, and if
contact is lost again it says that too. Each change is audited.

All of it is set-based SQL: running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from triage import clock
from triage.em.pack import EmPack, default_pack
from triage.store import audit
from triage.store.db import Database
from triage.store.models import EmCase, IntelItem

PREFIX = "EM-"
WHO = "triage (EM bridge)"


@dataclass(frozen=True)
class BridgeRun:
    created: int
    back_in_contact: int
    lost_again: int
    without_region: int


def sync_bridge(
    db: Database, *, as_of: datetime | None = None, pack: EmPack | None = None
) -> BridgeRun:
    """Create missing bridge items and update the contact state of existing ones."""
    pack = pack or default_pack()
    as_of = as_of or clock.now()
    cutoff = as_of - timedelta(hours=pack.out_of_contact_hours)
    limit = f"{pack.out_of_contact_hours / 24:g} days"  # the pack's, 7 by default
    out_of_contact = and_(
        EmCase.last_contact_at.is_not(None),
        EmCase.last_contact_at <= cutoff,
        func.coalesce(EmCase.em_status, "active") != "ceased",
    )
    # An item already holding the bridge's intel_id counts as linked too, so
    # the insert below (OR IGNORE) and its audit entries always agree.
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
        new_cases = list(
            session.execute(
                select(EmCase.case_id, EmCase.region).where(
                    out_of_contact, EmCase.region.is_not(None), ~linked
                )
            )
        )
        if new_cases:
            source = select(
                (literal(PREFIX) + EmCase.case_id).label("intel_id"),
                literal(as_of).label("received_at"),
                literal(as_of).label("passed_at"),
                EmCase.region,
                literal("internal").label("source_type"),
                literal(True).label("subject_named"),
                EmCase.person_ref.label("subject_ref"),
                EmCase.nationality,
                literal("unknown").label("whereabouts"),
                literal("fno").label("allegation"),
                literal(";fno;").label("harm_flags"),
                (
                    literal("EM case ")
                    + EmCase.case_id
                    + literal(" out of contact since ")
                    + func.strftime("%Y-%m-%d %H:%M UTC", EmCase.last_contact_at)
                    + literal(
                        f" ({limit} or more): locate and re-establish contact;"
                        " FNO, coordinate with police."
                    )
                ).label("summary"),
                func.json_object(
                    "em_bridge",
                    "true",
                    "em_case_id",
                    EmCase.case_id,
                    "em_contact",
                    "out_of_contact",
                    "out_of_contact_since",
                    func.strftime("%Y-%m-%dT%H:%M:%S", EmCase.last_contact_at),
                ).label("extra"),
                literal("open").label("status"),
                literal(0).label("carry_over_count"),
                EmCase.case_id.label("em_case_id"),
                literal(as_of).label("created_at"),
                literal(as_of).label("updated_at"),
            ).where(out_of_contact, EmCase.region.is_not(None), ~linked)
            columns = [
                "intel_id",
                "received_at",
                "passed_at",
                "region",
                "source_type",
                "subject_named",
                "subject_ref",
                "nationality",
                "whereabouts",
                "allegation",
                "harm_flags",
                "summary",
                "extra",
                "status",
                "carry_over_count",
                "em_case_id",
                "created_at",
                "updated_at",
            ]
            # OR IGNORE: intel_id is unique, so a concurrent run cannot duplicate.
            session.execute(insert(IntelItem).prefix_with("OR IGNORE").from_select(columns, source))
            audit.record_many(
                session,
                [
                    {
                        "who": WHO,
                        "action": "em.bridge.create",
                        "entity": "intel_item",
                        "entity_id": PREFIX + case_id,
                        "field": "em_case_id",
                        "new": case_id,
                    }
                    for case_id, _ in new_cases
                ],
            )

        back = _change_contact(session, as_of, cutoff, BACK_IN_CONTACT, limit)
        lost = _change_contact(session, as_of, cutoff, OUT_AGAIN, limit)
    return BridgeRun(len(new_cases), back, lost, without_region)


@dataclass(frozen=True)
class _ContactChange:
    """One move between contact states of a bridge item."""

    old: str
    new: str
    back: bool  # True: the case's last contact is now after the cutoff
    summary: tuple[str, str]  # the text around the last-contact time
    stamp_key: str
    action: str


BACK_IN_CONTACT = _ContactChange(
    "out_of_contact",
    "back_in_contact",
    True,
    (" back in contact (last contact ", "). "),
    "$.back_in_contact_at",
    "em.bridge.back_in_contact",
)
OUT_AGAIN = _ContactChange(
    "back_in_contact",
    "out_of_contact",
    False,
    (" out of contact again since ", " ({limit} or more). "),
    "$.out_of_contact_since",
    "em.bridge.out_of_contact_again",
)


def _change_contact(
    session: Session, as_of: datetime, cutoff: datetime, change: _ContactChange, limit: str
) -> int:
    """Move linked items between contact states where the case's last contact
    says so: the summary says it first, ``extra`` records the state and when,
    each move is audited. Returns how many items moved."""
    case_contact = (
        select(EmCase.last_contact_at)
        .where(EmCase.case_id == IntelItem.em_case_id)
        .scalar_subquery()
    )
    moving = [
        (intel_id, contact)
        for intel_id, contact in session.execute(
            select(IntelItem.intel_id, case_contact).where(
                IntelItem.em_case_id.is_not(None),
                func.json_extract(IntelItem.extra, "$.em_contact") == change.old,
                # An earlier as_of never rewrites a later state.
                IntelItem.updated_at <= as_of,
                case_contact > cutoff if change.back else case_contact <= cutoff,
            )
        )
        if contact is not None  # always: the comparison with the cutoff excludes NULL
    ]
    if not moving:
        return 0
    before, after = change.summary
    session.execute(
        update(IntelItem)
        .where(IntelItem.intel_id.in_([intel_id for intel_id, _ in moving]))
        .values(
            summary=literal("EM case ")
            + IntelItem.em_case_id
            + literal(before)
            + func.strftime("%Y-%m-%d %H:%M UTC", case_contact)
            + literal(after.format(limit=limit))
            + func.coalesce(IntelItem.summary, ""),
            extra=func.json_set(
                func.coalesce(IntelItem.extra, "{}"),
                "$.em_contact",
                change.new,
                change.stamp_key,
                func.strftime("%Y-%m-%dT%H:%M:%S", case_contact),
            ),
            updated_at=as_of,
        )
    )
    audit.record_many(
        session,
        [
            {
                "who": WHO,
                "action": change.action,
                "entity": "intel_item",
                "entity_id": intel_id,
                "field": "em_contact",
                "old": change.old,
                "new": (
                    f"back_in_contact (last contact {contact.isoformat()})"
                    if change.back
                    else change.new
                ),
            }
            for intel_id, contact in moving
        ],
    )
    return len(moving)
