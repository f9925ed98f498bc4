"""The EM queue: one ranked list of work across the Hub's workstreams.

Work items come from a handful of set-based queries over cases, events,
escalations and decisions (no per-case queries): releases awaiting a device,
legal challenges awaiting a reply, breaches awaiting action (one row per
case), reviews due or overdue, warning letters and prosecution referrals
raised by the ladder. Each item's priority is the sum of parts read from the
pack and kept with the item, so every position can be explained:

    priority = kind points + harm points (harm order) + overdue or due-soon points

Order: priority descending, then the earliest deadline, then case id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from triage import clock, vocab
from triage.em import deadlines
from triage.em.battery import battery_with_pack
from triage.em.contact import last_contact_sql
from triage.em.models import EmEscalation, EmRecommendation
from triage.em.pack import EmPack, default_pack, harm_tier
from triage.store.models import EmCase, EmEvent

LEGAL_EVENTS = ("jr_lodged", "pap_received", "representation_received")
NAMED_BREACH_KINDS = (
    "strap_tamper",
    "full_curfew_missed",
    "partial_curfew_missed",
    "absence_15min",
)


# A row of the case columns build_queue reads (attribute access by column name).
CaseRow = Row[*tuple[Any, ...]]


def _shown(moment: datetime) -> str:
    """A stored (UTC) instant in the display time zone, for the detail text."""
    return clock.to_display(moment).strftime("%Y-%m-%d %H:%M %Z")


@dataclass
class WorkItem:
    case_id: str
    workstream: str
    kind: str
    priority: float
    due_at: datetime | None
    due_state: str
    flags: list[str]
    components: list[tuple[str, float]]
    detail: str
    ref: str | None = None
    region: str | None = None
    harm_tier: str | None = None
    claimed_by: str | None = None
    rank: int = 0
    above: dict[str, Any] | None = field(default=None)

    def sort_key(self) -> tuple[float, datetime, str, str, str]:
        return (
            -self.priority,
            self.due_at or datetime.max,
            self.case_id,
            self.kind,
            self.ref or "",
        )

    def reason(self) -> str:
        parts = " + ".join(f"{label} {points:g}" for label, points in self.components)
        return f"{parts} = {self.priority:g}"

    def row(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "case_id": self.case_id,
            "workstream": self.workstream,
            "kind": self.kind,
            "priority": self.priority,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "due_state": self.due_state,
            "flags": list(self.flags),
            "harm": self.harm_tier,
            "region": self.region,
            "claimed_by": self.claimed_by,
            "ref": self.ref,
            "detail": self.detail,
            "reason": self.reason(),
        }


@dataclass
class Queue:
    as_of: datetime
    rules_version: str
    items: list[WorkItem]
    not_evaluated: dict[str, list[str]]  # case_id -> what could not be worked out
    em_decided: dict[str, datetime]  # case_id -> latest decision imposing EM


def _item(
    pack: EmPack,
    case: CaseRow,
    kind: str,
    due_at: datetime | None,
    due_state: str,
    flags: list[str],
    detail: str,
    ref: str | None = None,
) -> WorkItem:
    spec = pack.kinds[kind]
    tier = harm_tier(case.harm_level, case.deportation_category)
    components = [(spec.label, spec.points)]
    if tier is not None:
        components.append((f"harm {tier}", pack.harm_points[tier]))
    else:
        flags = [*flags, "harm_unknown"]
    if due_state == "overdue":
        components.append(("overdue", pack.overdue_points))
    elif due_state == "due_soon":
        components.append(("due soon", pack.due_soon_points))
    if case.claimed_by:
        flags = [*flags, "claimed"]
    return WorkItem(
        case_id=case.case_id,
        workstream=spec.workstream,
        kind=kind,
        priority=sum(points for _, points in components),
        due_at=due_at,
        due_state=due_state,
        flags=sorted(set(flags)),
        components=components,
        detail=detail,
        ref=ref,
        region=case.region,
        harm_tier=tier,
        claimed_by=case.claimed_by,
    )


def build_queue(
    session: Session, *, as_of: datetime | None = None, pack: EmPack | None = None
) -> Queue:
    """Every open piece of EM work, ranked and explained."""
    pack = pack or default_pack()
    as_of = as_of or clock.now()
    today = clock.to_local(as_of).date()
    cutoff = as_of - timedelta(hours=pack.out_of_contact_hours)
    # Only the columns the rules read: plain rows, not ORM objects.
    case_columns = (
        EmCase.case_id,
        EmCase.region,
        EmCase.harm_level,
        EmCase.deportation_category,
        EmCase.bail_type,
        EmCase.bail_granted_at,
        EmCase.fitted_at,
        EmCase.em_status,
        EmCase.last_review_at,
        # A contact_made event counts as contact (issue 19.10).
        last_contact_sql(as_of).label("last_contact_at"),
        EmCase.claimed_by,
    )
    cases = {c.case_id: c for c in session.execute(select(*case_columns))}
    events = session.execute(
        select(
            EmEvent.case_id,
            EmEvent.event_id,
            EmEvent.event_type,
            EmEvent.started_at,
            EmEvent.due_at,
        )
        .where(EmEvent.responded_at.is_(None), EmEvent.event_type != "contact_made")
        .order_by(EmEvent.case_id, EmEvent.started_at, EmEvent.event_id)
    ).all()
    latest_representation = dict(
        session.execute(
            select(EmEvent.case_id, func.max(EmEvent.started_at))
            .where(EmEvent.event_type == "representation_received")
            .group_by(EmEvent.case_id)
        ).all()
    )
    # The latest caseworker decision imposing EM opens the representation window.
    em_decided = {
        case_id: decided_at
        for case_id, decided_at in session.execute(
            select(EmRecommendation.case_id, func.max(EmRecommendation.decided_at))
            .where(EmRecommendation.decided_em.is_(True))
            .group_by(EmRecommendation.case_id)
        ).all()
        if decided_at is not None
    }
    escalations = session.execute(
        select(
            EmEscalation.id, EmEscalation.case_id, EmEscalation.step, EmEscalation.breach_count
        ).where(EmEscalation.status == "open")
    ).all()
    battery = battery_with_pack(session, pack)
    items: list[WorkItem] = []
    not_evaluated: dict[str, list[str]] = defaultdict(list)

    # Releases: bail granted, no device fitted yet.
    for case in cases.values():
        if case.bail_granted_at is None or case.fitted_at is not None:
            continue
        if (case.em_status or "awaiting_fit") != "awaiting_fit":
            continue
        if case.bail_type is None:
            not_evaluated[case.case_id].append("release: bail type unknown")
            continue
        due = deadlines.release_deadline(case.bail_type, case.bail_granted_at, pack)
        kind = "release_ij" if case.bail_type == "ij" else "release_sos"
        state = deadlines.deadline_state(due, as_of, pack)
        detail = (
            f"IJ bail granted {_shown(case.bail_granted_at)}: device due by {_shown(due)}"
            if due
            else "SoS bail: no statutory deadline"
        )
        items.append(
            _item(pack, case, kind, due, state, [state] if due else ["no_deadline"], detail)
        )

    # Legal challenges and breaches from the open events.
    open_breaches: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
    open_event_ids: set[str] = set()
    for case_id, event_id, event_type, started_at, due_at in events:
        if case_id not in cases:
            continue
        case = cases[case_id]
        open_event_ids.add(event_id)
        if event_type in LEGAL_EVENTS:
            state = deadlines.deadline_state(due_at, as_of, pack)
            flags = [state] if due_at else ["no_due_date"]
            window_end = deadlines.representation_window_end(em_decided.get(case_id), pack)
            if event_type == "representation_received" and window_end is not None:
                flags.append("within_window" if started_at <= window_end else "after_window")
            if due_at is None:
                not_evaluated[case_id].append(f"{event_type} {event_id}: no reply due date")
            items.append(
                _item(
                    pack,
                    case,
                    event_type,
                    due_at,
                    state,
                    flags,
                    f"{event_type.replace('_', ' ')} received {started_at:%Y-%m-%d}",
                    ref=event_id,
                )
            )
        elif event_type in vocab.BREACH_TYPES and event_type != "battery":
            open_breaches[case_id].append((event_id, event_type, started_at))

    out_of_contact = {
        c.case_id
        for c in cases.values()
        if c.last_contact_at is not None and c.last_contact_at <= cutoff and c.em_status != "ceased"
    }
    breach_cases = set(open_breaches) | out_of_contact | set(battery)
    for case_id in sorted(breach_cases):
        # Monitoring that has ceased raises no breach work; its legal replies
        # above still have their deadlines.
        if case_id not in cases or cases[case_id].em_status == "ceased":
            continue
        case = cases[case_id]
        present: dict[str, int] = defaultdict(int)
        if case_id in out_of_contact:
            present["out_of_contact"] = 1
        for _, event_type, _ in open_breaches.get(case_id, []):
            present[event_type if event_type in NAMED_BREACH_KINDS else "other_breach"] += 1
        view = battery.get(case_id)
        if view is not None:
            open_reports = [
                r
                for r in view.reports
                if any(view.event_ids[i] in open_event_ids for i in r.periods)
            ]
            consumed = view.consumed
            loose = [
                i
                for i, event_id in enumerate(view.event_ids)
                if i not in consumed and event_id in open_event_ids
            ]
            if open_reports:
                present["battery_report"] = len(open_reports)
            if loose:
                present["battery"] = len(loose)
        if not present:
            continue
        kind = max(present, key=lambda k: (pack.kinds[k].points, k))
        flags = [k for k in present]
        parts = []
        if "out_of_contact" in present:
            hours = (as_of - case.last_contact_at).total_seconds() / 3600
            parts.append(f"out of contact {hours / 24:.1f} days")
        parts += [
            f"{k.replace('_', ' ')} x{n}"
            for k, n in sorted(present.items())
            if k != "out_of_contact"
        ]
        items.append(_item(pack, case, kind, None, "none", flags, "; ".join(parts)))

    # Escalation ladder: letters (breaches workstream) and referrals.
    for escalation_id, case_id, step, count in escalations:
        if case_id not in cases:
            continue
        case = cases[case_id]
        detail = f"{step.replace('_', ' ')} at {count} counted breaches"
        items.append(
            _item(
                pack, case, step, None, "none", ["escalation"], detail, ref=f"ESC-{escalation_id}"
            )
        )

    # Reviews: scheduled every 3 months, or at once after a representation.
    horizon = today + timedelta(days=pack.review_horizon_days)
    for case in cases.values():
        active = case.em_status == "active" or (
            case.em_status is None and case.fitted_at is not None
        )
        if not active:
            continue
        base = deadlines.review_base(case.fitted_at, case.last_review_at)
        representation = latest_representation.get(case.case_id)
        if representation is not None and (
            base is None or clock.to_local(representation).date() > base
        ):
            items.append(
                _item(
                    pack,
                    case,
                    "review_representation",
                    representation,
                    "overdue" if as_of > representation else "due_soon",
                    ["representation"],
                    f"representation received {representation:%Y-%m-%d}: review at once",
                )
            )
            continue
        review_day = deadlines.review_due(case.fitted_at, case.last_review_at, pack)
        if base is None or review_day is None:  # review_due is None exactly when base is
            not_evaluated[case.case_id].append("review: neither fitting date nor last review known")
            continue
        if review_day > horizon:
            continue
        state = "overdue" if deadlines.review_overdue(review_day, as_of) else "due_soon"
        items.append(
            _item(
                pack,
                case,
                "review",
                clock.start_of_local_day(review_day),
                state,
                [state],
                f"review due {review_day.isoformat()} (3 months after {base.isoformat()})",
            )
        )

    items.sort(key=WorkItem.sort_key)
    previous = None
    for position, item in enumerate(items, start=1):
        item.rank = position
        if previous is not None:
            item.above = _why_below(previous, item)
        previous = item
    return Queue(
        as_of=as_of,
        rules_version=pack.version,
        items=items,
        not_evaluated=dict(not_evaluated),
        em_decided=em_decided,
    )


def _why_below(above: WorkItem, item: WorkItem) -> dict[str, Any]:
    if above.priority > item.priority:
        why = f"higher priority ({above.priority:g} > {item.priority:g})"
    elif (above.due_at or datetime.max) < (item.due_at or datetime.max):
        why = "same priority, earlier deadline"
    else:
        why = "same priority and deadline, case id order"
    return {"rank": above.rank, "case_id": above.case_id, "kind": above.kind, "why": why}


# ``caseworker`` filter value for cases nobody has claimed.
UNCLAIMED = "(unclaimed)"
# ``due`` filter values: a deadline state, or "due" for overdue or due soon.
DUE_FILTERS = ("overdue", "due_soon", "due")


def queue_rows(
    queue: Queue,
    *,
    workstream: str | None = None,
    case_id: str | None = None,
    caseworker: str | None = None,
    due: str | None = None,
    harm: str | None = None,
) -> list[dict[str, Any]]:
    """Display rows; with a workstream, ranks are within it. The other
    filters (``filter_rows``) keep each row's rank."""
    items = [i for i in queue.items if workstream is None or i.workstream == workstream]
    rows = []
    for position, item in enumerate(items, start=1):
        row = item.row()
        if workstream is not None:
            row["overall_rank"] = row["rank"]
            row["rank"] = position
        rows.append(row)
    return filter_rows(rows, case_id=case_id, caseworker=caseworker, due=due, harm=harm)


def filter_rows(
    rows: list[dict[str, Any]],
    *,
    case_id: str | None = None,
    caseworker: str | None = None,
    due: str | None = None,
    harm: str | None = None,
) -> list[dict[str, Any]]:
    """Queue or deadline rows that match every filter given: ``case_id`` a
    case-insensitive part of the case id, ``caseworker`` who has claimed the
    case (``UNCLAIMED`` for nobody), ``due`` one of ``DUE_FILTERS`` and
    ``harm`` a harm tier (``pack.HARM_ORDER``)."""
    if due is not None and due not in DUE_FILTERS:
        raise ValueError(f"due must be one of {', '.join(DUE_FILTERS)}, not {due!r}")
    states = ("overdue", "due_soon") if due == "due" else (due,)
    needle = (case_id or "").strip().casefold()
    return [
        row
        for row in rows
        if (not needle or needle in row["case_id"].casefold())
        and (caseworker is None or (row["claimed_by"] or UNCLAIMED) == caseworker)
        and (due is None or row.get("due_state", row.get("state")) in states)
        and (harm is None or row.get("harm") == harm)
    ]


def caseworkers(queue: Queue) -> list[str]:
    """Everyone holding a claim on some open work, by name."""
    return sorted({i.claimed_by for i in queue.items if i.claimed_by})


def deadline_rows(
    queue: Queue, *, pack: EmPack | None = None, include_later: bool = False
) -> list[dict[str, Any]]:
    """Every dated deadline: releases, legal replies, reviews, representation windows."""
    pack = pack or default_pack()
    rows: list[dict[str, Any]] = [
        {
            "case_id": i.case_id,
            "deadline": i.kind,
            "due_at": i.due_at,
            "state": i.due_state,
            "workstream": i.workstream,
            "claimed_by": i.claimed_by,
            "harm": i.harm_tier,
            "detail": i.detail,
        }
        for i in queue.items
        if i.due_at is not None
    ]
    # Representation windows: 3 days after each decision imposing EM.
    for case_id, decided_at in sorted(queue.em_decided.items()):
        end = deadlines.representation_window_end(decided_at, pack)
        state = deadlines.deadline_state(end, queue.as_of, pack)
        rows.append(
            {
                "case_id": case_id,
                "deadline": "representation_window",
                "due_at": end,
                "state": "closed" if state == "overdue" else "open",
                "workstream": "legal",
                "claimed_by": None,
                "harm": None,
                "detail": f"EM decision {_shown(decided_at)}: representations until {_shown(end)}",
            }
        )
    if not include_later:
        rows = [r for r in rows if r["state"] in ("overdue", "due_soon", "open")]
    rows.sort(key=lambda r: (r["due_at"], r["case_id"]))
    for row in rows:
        row["due_at"] = row["due_at"].isoformat()
    return rows
