"""The tasking meeting: start, decide, undo, re-check, close, results
(its agenda and minutes as files: ``triage.meetings.minutes``).

Plain operations with keyword arguments that the desktop app and the CLI both
call (the app runs them on its single writer thread). Every change is audited
in the same transaction as the change itself.

A meeting's agenda is the ranked open queue of its region/team
(``ranking.agenda``) snapshotted at start: the items above the capacity line
and a margin below it. Closing the meeting records every undecided agenda item
as *not discussed* and increments its carry-over count; those items stay open
and so head back onto the next meeting's agenda.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal, TypeVar

from sqlalchemy import Select, case, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from triage import clock, vocab
from triage.intel import regions
from triage.meetings.models import MeetingAgendaItem, MeetingStep
from triage.store import audit, dialect
from triage.store.db import Database
from triage.store.models import IntelItem, TaskingMeeting, TaskingOutcome
from triage.users import Action, Actor, require

# A stale item may be accepted only after its basic checks were redone (NAO
# Fig 13: "basic checks may need to be redone"); a re-check stays good for the
# pack's stale age, the same window the ranking uses to clear the stale flag.
DEFAULT_RECHECK_VALID_DAYS = 90

# Reject reasons of formats.md §4, used when the rules pack has no reasons.toml.
FALLBACK_REASONS = (
    ("insufficient_detail", "Insufficient detail"),
    ("stale", "Out of date"),
    ("out_of_area", "Out of area"),
    ("duplicate", "Duplicate"),
    ("no_capacity", "No capacity"),
    ("not_workable", "Not workable"),
    ("referred_elsewhere", "Referred elsewhere"),
)

# Fields the presenter view and presenter exports leave out (personal data on a
# projector or a shared handout).
PERSONAL_FIELDS = ("subject_ref", "nationality", "postcode", "business_name", "summary")


# What Session.get returned: a meeting, an agenda slot or an item.
Found = TypeVar("Found")


class MeetingError(Exception):
    """A meeting operation that cannot be done as asked (message says why)."""


class StaleItemError(MeetingError):
    """A stale item cannot be accepted before its basic checks are redone."""


class AlreadyDecided(MeetingError):
    """Someone else decided the item first; nothing was overwritten."""


# ``decide``'s ``seen``: the caller did not say what it saw (a change of one's
# own decision is allowed; another person's decision is not overwritten).
ANY_STATE: Final = "any"


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    key: int


@dataclass
class AgendaRow:
    """One agenda line as the meeting shows it."""

    position: int
    fits: bool
    item_id: int
    intel_id: str
    bucket: int | None
    score: float | None
    flags: list[str]
    stale: bool
    harm_score: float | None
    age_days: int
    carry_over_count: int
    region: str
    team: str | None
    received_at: datetime
    allegation: str | None
    sector: str | None
    persons_estimated: int | None
    subject_ref: str | None
    nationality: str | None
    postcode: str | None
    business_name: str | None
    summary: str | None
    rechecked_at: datetime | None
    # Stale and not re-checked recently enough: must be re-checked before accepting.
    needs_recheck: bool = False
    outcome_id: int | None = None
    decision: str | None = None
    reason: str | None = None
    note: str | None = None
    result: str | None = None
    result_at: date | None = None


@dataclass
class MeetingSummary:
    meeting_id: int
    region: str
    team: str | None
    held_on: date
    status: str
    capacity: int | None
    agenda_items: int
    accepted: int
    rejected: int
    not_discussed: int
    undecided: int
    attendees: list[str] = field(default_factory=list)
    chair: str | None = None
    rules_version: str | None = None


# --------------------------------------------------------------------------- reasons


def load_reasons() -> list[Reason]:
    """Reject reasons with their 1-9 keys, from the rules pack in force.

    A pack that cannot be loaded must not stop a meeting: the reason codes of
    formats.md are used instead (the Rules screen shows the pack's problems).
    """
    from triage.intel.ranking import pack_in_force
    from triage.rules import PackError

    try:
        pack = pack_in_force()
    except PackError:
        return [Reason(code, label, n) for n, (code, label) in enumerate(FALLBACK_REASONS, 1)]
    return sorted((Reason(r.code, r.label, r.key) for r in pack.reasons), key=lambda r: r.key)


def reason_codes() -> set[str]:
    return {r.code for r in load_reasons()}


# --------------------------------------------------------------------------- start


def default_capacity(region: str, team: str | None) -> int:
    """Weekly capacity of a team (or a whole region) from organisation.toml."""
    found = regions.region_by_code(region)  # KeyError for a region not configured
    try:
        return found.team_capacity(team)
    except KeyError:
        raise MeetingError(f"region {region} has no team {team!r}") from None


def default_agenda_length(capacity: int) -> int:
    """How far past the capacity line the agenda goes: as far again, at least 10."""
    return capacity + max(capacity, 10)


def start_meeting(
    db: Database,
    *,
    region: str,
    team: str | None,
    held_on: date,
    actor: Actor,
    attendees: list[str] | tuple[str, ...] = (),
    chair: str | None = None,
    capacity: int | None = None,
    as_of: datetime | None = None,
    model_weight: float = 0.0,
) -> int:
    """Open a meeting and snapshot its ranked agenda. Returns the meeting id.

    Without ``as_of`` the agenda is the open queue now (a live meeting); with
    it, the queue as it stood then (``ranking.agenda`` replays past decisions).
    """
    require(db, actor, Action.RUN_MEETINGS)
    from triage.intel import ranking  # the rules engine; imported late to keep CLI start fast

    region = regions.region_code(region)
    team_capacity = default_capacity(region, team)  # also refuses a team not in the region
    capacity = team_capacity if capacity is None else int(capacity)
    if capacity < 0:
        raise MeetingError(f"capacity must be 0 or more, not {capacity}")
    length = default_agenda_length(capacity)
    if as_of is None:
        ranking.ensure_current(db, model_weight=model_weight)  # ages, freshness, stale flags today
    with db.transaction() as session:
        if as_of is None:
            # Live meeting: the stored ranking (what the queue screen shows), top-N
            # in SQL; evaluating the pack afresh for a whole team is far slower.
            ids = ranking.queue_ids(
                session, region=region, team=team, limit=length, model_weight=model_weight
            )
            ranked = ranking.rows(session, ids)
        else:
            ranked = ranking.agenda(
                session,
                region=region,
                team=team,
                capacity=capacity,
                as_of=as_of,
                limit=length,
                model_weight=model_weight,
            )
        rules_version = next(
            (r.get("rules_version") for r in ranked if r.get("rules_version")), None
        )
        if rules_version is None:
            rules_version = session.execute(_latest_rules_version()).scalar()
        meeting = TaskingMeeting(
            region=region,
            team=team,
            held_on=held_on,
            chair=chair or actor.name,
            attendees=vocab.join_list([a.strip() for a in attendees if a.strip()]),
            capacity=capacity,
            rules_version=rules_version,
            status="open",
            opened_at=clock.now(),
        )
        session.add(meeting)
        session.flush()
        snapshot = []
        for position, row in enumerate(ranked, 1):
            flags = list(row.get("flags") or [])
            snapshot.append(
                {
                    "meeting_id": meeting.id,
                    "item_id": row["item_id"],
                    "position": position,
                    "fits": position <= capacity,
                    "bucket": row.get("bucket"),
                    "score": row.get("score"),
                    "stale": bool(row.get("stale")) or "stale" in flags,
                    "flags": vocab.join_list(flags),
                    "harm_score": row.get("harm_score"),
                }
            )
        if snapshot:
            session.execute(insert(MeetingAgendaItem), snapshot)
        audit.record(
            session,
            "meeting.start",
            "tasking_meeting",
            meeting.id,
            new=f"{region}/{team or '-'} {held_on.isoformat()} capacity={capacity} "
            f"agenda={len(snapshot)}",
            who=actor.name,
        )
        return meeting.id


def _latest_rules_version() -> TextClause:
    return text("SELECT rules_version FROM intel_rank ORDER BY ranked_at DESC LIMIT 1")


# --------------------------------------------------------------------------- reading


def _found(row: Found | None, missing: str) -> Found:
    """``row`` as read by ``Session.get``; MeetingError saying ``missing`` if there is none."""
    if row is None:
        raise MeetingError(missing)
    return row


def get_meeting(session: Session, meeting_id: int) -> TaskingMeeting:
    return _found(session.get(TaskingMeeting, meeting_id), f"no meeting with id {meeting_id}")


def intel_id_of(session: Session, item_id: int) -> str:
    """The upstream reference of an item, for messages."""
    return _item(session, item_id).intel_id


def agenda(
    session: Session,
    meeting_id: int,
    *,
    as_of: datetime | None = None,
    item_ids: Collection[int] | None = None,
) -> list[AgendaRow]:
    """The meeting's agenda in ranked order with each item's decision so far.

    With ``item_ids``, only those items' lines: what a front end re-reads after
    one decision, instead of the whole agenda."""
    meeting = get_meeting(session, meeting_id)
    as_of = as_of or clock.now()
    outcome = select(TaskingOutcome).where(TaskingOutcome.meeting_id == meeting_id).subquery()
    query = (
        select(MeetingAgendaItem, IntelItem, outcome)
        .join(IntelItem, IntelItem.id == MeetingAgendaItem.item_id)
        .outerjoin(outcome, outcome.c.item_id == MeetingAgendaItem.item_id)
        .where(MeetingAgendaItem.meeting_id == meeting.id)
        .order_by(MeetingAgendaItem.position)
    )
    if item_ids is not None:
        query = query.where(MeetingAgendaItem.item_id.in_(list(item_ids)))
    rows = session.execute(query).all()
    valid_days = recheck_valid_days()
    if item_ids is None and not rows and meeting.status == "imported":
        return _imported_agenda(session, meeting, as_of)
    return [_agenda_row(row[0], row[1], row._mapping, as_of, valid_days) for row in rows]


def _agenda_row(
    slot: MeetingAgendaItem,
    item: IntelItem,
    outcome: Mapping[Any, Any],
    as_of: datetime,
    valid_days: int,
) -> AgendaRow:
    return AgendaRow(
        position=slot.position,
        fits=slot.fits,
        item_id=item.id,
        intel_id=item.intel_id,
        bucket=slot.bucket,
        score=slot.score,
        flags=vocab.split_list(slot.flags),
        stale=slot.stale,
        harm_score=slot.harm_score,
        age_days=max(0, (as_of - item.received_at).days),
        carry_over_count=item.carry_over_count,
        region=item.region,
        team=item.team,
        received_at=item.received_at,
        allegation=item.allegation,
        sector=item.sector,
        persons_estimated=item.persons_estimated,
        subject_ref=item.subject_ref,
        nationality=item.nationality,
        postcode=item.postcode,
        business_name=item.business_name,
        summary=item.summary,
        rechecked_at=item.rechecked_at,
        needs_recheck=bool(slot.stale) and not _recheck_valid(item.rechecked_at, valid_days),
        outcome_id=outcome["id"],
        decision=outcome["decision"],
        reason=outcome["reason"],
        note=outcome["note"],
        result=outcome["result"],
        result_at=outcome["result_at"],
    )


def _imported_agenda(session: Session, meeting: TaskingMeeting, as_of: datetime) -> list[AgendaRow]:
    """A meeting made up from a history extract has no agenda snapshot: show its
    decisions, in today's rank order, so past meetings can still be read."""
    from triage.intel.models import IntelRank

    found = session.execute(
        select(TaskingOutcome, IntelItem, IntelRank)
        .join(IntelItem, IntelItem.id == TaskingOutcome.item_id)
        .outerjoin(IntelRank, IntelRank.item_id == TaskingOutcome.item_id)
        .where(TaskingOutcome.meeting_id == meeting.id)
        .order_by(IntelRank.bucket, IntelRank.score.desc(), IntelItem.intel_id)
    ).all()
    rows = []
    for position, (outcome, item, rank) in enumerate(found, 1):
        slot = MeetingAgendaItem(
            position=position,
            fits=meeting.capacity is None or position <= meeting.capacity,
            bucket=rank.bucket if rank else None,
            score=rank.score if rank else None,
            flags=rank.flags if rank else None,
            stale=False,  # judged at the time; not re-judged today
            harm_score=outcome.model_score,
        )
        values = {
            c: getattr(outcome, c)
            for c in ("id", "decision", "reason", "note", "result", "result_at")
        }
        rows.append(_agenda_row(slot, item, values, as_of, 0))
    return rows


def summary(session: Session, meeting_id: int) -> MeetingSummary:
    meeting = get_meeting(session, meeting_id)
    agenda_items = session.execute(
        select(func.count()).where(MeetingAgendaItem.meeting_id == meeting_id)
    ).scalar_one()
    counts = dict(
        session.execute(
            select(TaskingOutcome.decision, func.count())
            .where(TaskingOutcome.meeting_id == meeting_id)
            .group_by(TaskingOutcome.decision)
        ).all()
    )
    decided = sum(counts.values())
    return MeetingSummary(
        meeting_id=meeting.id,
        region=meeting.region,
        team=meeting.team,
        held_on=meeting.held_on,
        status=meeting.status,
        capacity=meeting.capacity,
        agenda_items=agenda_items,
        accepted=counts.get("accepted", 0),
        rejected=counts.get("rejected", 0),
        not_discussed=counts.get("not_discussed", 0),
        undecided=max(0, agenda_items - decided),
        attendees=vocab.split_list(meeting.attendees),
        chair=meeting.chair,
        rules_version=meeting.rules_version,
    )


def list_meetings(
    session: Session, *, region: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Meetings with their decision counts: open ones first, then newest first."""
    counts = (
        select(
            TaskingOutcome.meeting_id,
            func.sum(case((TaskingOutcome.decision == "accepted", 1), else_=0)).label("accepted"),
            func.sum(case((TaskingOutcome.decision == "rejected", 1), else_=0)).label("rejected"),
            func.sum(case((TaskingOutcome.decision == "not_discussed", 1), else_=0)).label(
                "not_discussed"
            ),
        )
        .group_by(TaskingOutcome.meeting_id)
        .subquery()
    )
    query = (
        select(TaskingMeeting, counts.c.accepted, counts.c.rejected, counts.c.not_discussed)
        .outerjoin(counts, counts.c.meeting_id == TaskingMeeting.id)
        .order_by(
            (TaskingMeeting.status == "open").desc(),
            TaskingMeeting.held_on.desc(),
            TaskingMeeting.id.desc(),
        )
    )
    if region:
        query = query.where(TaskingMeeting.region == regions.region_code(region))
    found: Sequence[tuple[TaskingMeeting, int | None, int | None, int | None]] = session.execute(
        query.limit(limit)
    ).all()
    return [
        {
            "id": m.id,
            "held_on": m.held_on.isoformat(),
            "region": m.region,
            "team": m.team,
            "status": m.status,
            "capacity": m.capacity,
            "chair": m.chair,
            "accepted": accepted or 0,
            "rejected": rejected or 0,
            "not_discussed": not_discussed or 0,
        }
        for m, accepted, rejected, not_discussed in found
    ]


# --------------------------------------------------------------------------- deciding


def recheck_valid_days() -> int:
    """How long a re-check counts: the stale age of the pack's freshness factor."""
    from triage.intel.ranking import pack_in_force
    from triage.rules import PackError

    try:
        pack = pack_in_force()
    except PackError:
        return DEFAULT_RECHECK_VALID_DAYS
    ages = [
        f.stale_after_days for f in pack.factors if f.type == "freshness" and f.stale_after_days
    ]
    return ages[0] if ages else DEFAULT_RECHECK_VALID_DAYS


def _recheck_valid(rechecked_at: datetime | None, valid_days: int | None = None) -> bool:
    days = recheck_valid_days() if valid_days is None else valid_days
    return rechecked_at is not None and clock.now() - rechecked_at <= timedelta(days=days)


def _open_meeting(session: Session, meeting_id: int) -> TaskingMeeting:
    meeting = get_meeting(session, meeting_id)
    if meeting.status != "open":
        raise MeetingError(f"meeting {meeting_id} is {meeting.status}; it can no longer change")
    return meeting


def _agenda_slot(session: Session, meeting_id: int, item_id: int) -> MeetingAgendaItem:
    return _found(
        session.get(MeetingAgendaItem, (meeting_id, item_id)),
        f"item {item_id} is not on the agenda of meeting {meeting_id}",
    )


def _item(session: Session, item_id: int) -> IntelItem:
    return _found(session.get(IntelItem, item_id), f"no intelligence item with id {item_id}")


def _state(outcome: TaskingOutcome | None, item: IntelItem) -> dict[str, Any]:
    if outcome is None:
        return {"outcome": None, "status": item.status}
    return {
        "outcome": {
            "decision": outcome.decision,
            "reason": outcome.reason,
            "note": outcome.note,
            "decided_by": outcome.decided_by,
            "decided_at": outcome.decided_at.isoformat(),
        },
        "status": item.status,
    }


def _outcome_for(session: Session, meeting: TaskingMeeting, item_id: int) -> TaskingOutcome | None:
    return session.execute(
        select(TaskingOutcome).where(
            TaskingOutcome.item_id == item_id, TaskingOutcome.meeting_date == meeting.held_on
        )
    ).scalar_one_or_none()


def _apply(
    session: Session,
    meeting: TaskingMeeting,
    slot: MeetingAgendaItem,
    item: IntelItem,
    state: dict[str, Any],
) -> None:
    """Make the stored outcome and item status equal ``state``."""
    outcome = _outcome_for(session, meeting, item.id)
    wanted = state["outcome"]
    if wanted is None:
        if outcome is not None:
            session.delete(outcome)
    else:
        if outcome is None:
            outcome = TaskingOutcome(item_id=item.id, meeting_date=meeting.held_on)
            session.add(outcome)
        outcome.meeting_id = meeting.id
        outcome.decision = wanted["decision"]
        outcome.reason = wanted["reason"]
        outcome.note = wanted["note"]
        outcome.decided_by = wanted["decided_by"]
        outcome.decided_at = datetime.fromisoformat(wanted["decided_at"])
        outcome.agenda_rank = slot.position
        outcome.model_score = slot.harm_score
    item.status = state["status"]
    item.updated_at = clock.now()


def decide(
    db: Database,
    *,
    meeting_id: int,
    item_id: int,
    decision: str,
    actor: Actor,
    reason: str | None = None,
    note: str | None = None,
    seen: datetime | None | Literal["any"] = ANY_STATE,
) -> int:
    """Record accept / reject (with a reason) / not discussed. Returns the step id.

    Two people deciding the same item at once: the first wins, the second gets
    ``AlreadyDecided`` ("already decided by NAME at TIME") and nothing is
    overwritten. ``seen`` is what the caller showed: None (undecided) or the
    decision's ``decided_at``; left out, deciding again over one's own
    decision changes it, over someone else's is refused. The item's row is
    locked first (``dialect.lock_rows``), so the check and the write are one."""
    require(db, actor, Action.RUN_MEETINGS)
    if decision not in vocab.DECISIONS:
        raise MeetingError(f"unknown decision {decision!r} (known: {', '.join(vocab.DECISIONS)})")
    if decision == "rejected":
        if not reason:
            raise MeetingError("a rejection needs a reason")
        if reason not in reason_codes():
            known = ", ".join(sorted(reason_codes()))
            raise MeetingError(f"unknown reject reason {reason!r} (known: {known})")
    elif reason:
        raise MeetingError(f"only a rejection takes a reason, not {decision}")
    with db.transaction() as session:
        dialect.lock_rows(session, IntelItem, IntelItem.id == item_id)
        meeting = _open_meeting(session, meeting_id)
        slot = _agenda_slot(session, meeting_id, item_id)
        item = _item(session, item_id)
        existing = _outcome_for(session, meeting, item_id)
        if existing is not None and existing.meeting_id == meeting_id:
            _refuse_if_overwriting(existing, item.intel_id, actor, seen)
        if decision == "accepted" and slot.stale and not _recheck_valid(item.rechecked_at):
            raise StaleItemError(
                f"{item.intel_id} is stale: redo its basic checks (re-check) before accepting it"
            )
        if existing is not None and existing.meeting_id != meeting_id:
            # One decision per item and day (the outcome's unique key): taking it
            # over would move another meeting's decision into this one.
            raise MeetingError(
                f"{item.intel_id} was already decided on {meeting.held_on} at meeting "
                f"{existing.meeting_id}: change it there"
            )
        if existing is None and item.status == "closed":
            raise MeetingError(
                f"{item.intel_id} was closed {clock.local_text(item.closed_at or clock.now())} "
                "and left the queue without a decision: nothing to decide"
            )
        if existing is None and item.status != "open":
            # Open when the agenda was made; another meeting has decided it since.
            raise MeetingError(
                f"{item.intel_id} is already {item.status}: another meeting decided it "
                "after this agenda was made"
            )
        before = _state(existing, item)
        after: dict[str, Any] = {
            "outcome": {
                "decision": decision,
                "reason": reason,
                "note": note,
                "decided_by": actor.name,
                "decided_at": clock.now().isoformat(),
            },
            "status": "open" if decision == "not_discussed" else decision,
        }
        _apply(session, meeting, slot, item, after)
        step = MeetingStep(meeting_id=meeting_id, item_id=item_id, before=before, after=after)
        session.add(step)
        session.flush()
        old = before["outcome"]
        audit.record(
            session,
            "meeting.decide",
            "intel_item",
            item.intel_id,
            field="decision",
            old=None if old is None else _describe(old),
            new=_describe(after["outcome"]) + f" (meeting {meeting_id})",
            who=actor.name,
        )
        return step.id


def _refuse_if_overwriting(
    existing: TaskingOutcome, intel_id: str, actor: Actor, seen: datetime | None | str
) -> None:
    if seen == ANY_STATE:
        overwriting = existing.decided_by != actor.name
    else:
        overwriting = seen is None or existing.decided_at != seen
    if overwriting:
        when = clock.to_local(existing.decided_at).strftime("%H:%M:%S on %d/%m/%Y")
        raise AlreadyDecided(
            f"{intel_id} was already decided by {existing.decided_by or 'someone'} at {when} "
            f"({existing.decision}); nothing was changed"
        )


def _describe(outcome: dict[str, Any]) -> str:
    decision: str = outcome["decision"]
    return decision + (f":{outcome['reason']}" if outcome.get("reason") else "")


def undo(db: Database, *, meeting_id: int, actor: Actor) -> int | None:
    """Undo the meeting's latest decision still in force. Returns its item id."""
    require(db, actor, Action.RUN_MEETINGS)
    with db.transaction() as session:
        meeting = _open_meeting(session, meeting_id)
        step = session.execute(
            select(MeetingStep)
            .where(MeetingStep.meeting_id == meeting_id, MeetingStep.undone.is_(False))
            .order_by(MeetingStep.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if step is None:
            return None
        slot = _agenda_slot(session, meeting_id, step.item_id)
        item = _item(session, step.item_id)
        if item.status != step.after["status"]:
            raise MeetingError(
                f"{item.intel_id} is {item.status} now: another meeting decided it since, "
                "so this meeting's decision cannot be undone here"
            )
        before = step.before
        if before is None:  # every step stores it; the column is nullable only by declaration
            raise MeetingError(f"step {step.id} of meeting {meeting_id} has no state to restore")
        _apply(session, meeting, slot, item, before)
        step.undone = True
        restored = before["outcome"]
        audit.record(
            session,
            "meeting.undo",
            "intel_item",
            item.intel_id,
            field="decision",
            old=_describe(step.after["outcome"]),
            new=None if restored is None else _describe(restored),
            who=actor.name,
        )
        return step.item_id


def recheck(db: Database, *, item_id: int, actor: Actor, note: str | None = None) -> datetime:
    """Record that a stale item's basic checks were redone (now)."""
    require(db, actor, Action.RUN_MEETINGS)
    with db.transaction() as session:
        item = _item(session, item_id)
        now = clock.now()
        old = item.rechecked_at
        item.rechecked_at = now
        item.updated_at = now
        audit.record(
            session,
            "item.recheck",
            "intel_item",
            item.intel_id,
            field="rechecked_at",
            old=old,
            new=now.isoformat() + (f" ({note})" if note else ""),
            who=actor.name,
        )
        return now


@dataclass
class CloseResult:
    meeting_id: int
    not_discussed: int
    accepted: int
    rejected: int


@dataclass(frozen=True)
class ClosePreview:
    """What closing an open meeting now would record."""

    meeting_id: int
    # Undecided agenda items: recorded as not discussed on closing.
    undecided: int
    # Every not-discussed item (those, plus the ones marked N) carries over.
    carried_over: int

    def question(self) -> str:
        """The confirmation the app and ``triage meeting close`` show."""
        marked = self.carried_over - self.undecided
        also = f" (including {marked} already marked not discussed)" if marked else ""
        return (
            f"Close meeting {self.meeting_id}? {_items(self.undecided, 'undecided agenda')} "
            f"will be recorded as not discussed. {_items(self.carried_over).capitalize()} will "
            f"carry over to the next meeting{also}."
        )


def _items(count: int, kind: str = "") -> str:
    noun = "item" if count == 1 else "items"
    return f"{count} {kind} {noun}" if kind else f"{count} {noun}"


def _undecided(meeting: TaskingMeeting) -> Select[int, int, float | None]:
    """The agenda items with no decision on the meeting's day."""
    return select(
        MeetingAgendaItem.item_id, MeetingAgendaItem.position, MeetingAgendaItem.harm_score
    ).where(
        MeetingAgendaItem.meeting_id == meeting.id,
        ~MeetingAgendaItem.item_id.in_(
            select(TaskingOutcome.item_id).where(TaskingOutcome.meeting_date == meeting.held_on)
        ),
    )


def close_preview(session: Session, meeting_id: int) -> ClosePreview:
    """How many agenda items closing would record as not discussed and carry
    over: what the app's confirmation and ``triage meeting close`` say first."""
    meeting = _open_meeting(session, meeting_id)
    undecided = session.execute(
        select(func.count()).select_from(_undecided(meeting).subquery())
    ).scalar_one()
    marked = session.execute(
        select(func.count()).where(
            TaskingOutcome.meeting_id == meeting_id, TaskingOutcome.decision == "not_discussed"
        )
    ).scalar_one()
    return ClosePreview(meeting_id=meeting_id, undecided=undecided, carried_over=undecided + marked)


def close_meeting(db: Database, *, meeting_id: int, actor: Actor) -> CloseResult:
    """Close: undecided agenda items become not discussed and carry over."""
    require(db, actor, Action.RUN_MEETINGS)
    who = actor.name
    now = clock.now()
    with db.transaction() as session:
        meeting = _open_meeting(session, meeting_id)
        undecided = session.execute(_undecided(meeting)).all()
        if undecided:
            session.execute(
                insert(TaskingOutcome),
                [
                    {
                        "item_id": row.item_id,
                        "meeting_id": meeting_id,
                        "meeting_date": meeting.held_on,
                        "decision": "not_discussed",
                        "decided_by": who,
                        "decided_at": now,
                        "agenda_rank": row.position,
                        "model_score": row.harm_score,
                    }
                    for row in undecided
                ],
            )
        # Every not-discussed agenda item carries over, including those the room
        # explicitly marked N: the count says how often it was passed by. Their
        # status is left alone: still open, unless a later meeting (started while
        # this one stayed open) has decided them since.
        carried = select(TaskingOutcome.item_id).where(
            TaskingOutcome.meeting_id == meeting_id, TaskingOutcome.decision == "not_discussed"
        )
        carried_rows = session.execute(
            select(IntelItem.intel_id, IntelItem.carry_over_count).where(IntelItem.id.in_(carried))
        ).all()
        session.execute(
            update(IntelItem)
            .where(IntelItem.id.in_(carried))
            .values(carry_over_count=IntelItem.carry_over_count + 1, updated_at=now)
        )
        audit.record_many(
            session,
            [
                {
                    "who": who,
                    "action": "meeting.close.carry_over",
                    "entity": "intel_item",
                    "entity_id": row.intel_id,
                    "field": "carry_over_count",
                    "old": row.carry_over_count,
                    "new": row.carry_over_count + 1,
                }
                for row in carried_rows
            ],
        )
        meeting.status = "closed"
        meeting.closed_at = now
        info = summary(session, meeting_id)
        audit.record(
            session,
            "meeting.close",
            "tasking_meeting",
            meeting_id,
            new=f"accepted={info.accepted} rejected={info.rejected} "
            f"not_discussed={info.not_discussed}",
            who=actor.name,
        )
        return CloseResult(
            meeting_id=meeting_id,
            not_discussed=info.not_discussed,
            accepted=info.accepted,
            rejected=info.rejected,
        )


def record_result(
    db: Database, *, outcome_id: int, result: str, actor: Actor, result_at: date | None = None
) -> None:
    """What an accepted task led to (closing the loop), and when."""
    require(db, actor, Action.RUN_MEETINGS)
    if result not in vocab.RESULTS:
        raise MeetingError(f"unknown result {result!r} (known: {', '.join(vocab.RESULTS)})")
    with db.transaction() as session:
        outcome = session.get(TaskingOutcome, outcome_id)
        if outcome is None:
            raise MeetingError(f"no tasking outcome with id {outcome_id}")
        if outcome.decision != "accepted":
            raise MeetingError("a result can only be recorded for an accepted task")
        when = result_at or clock.to_local(clock.now()).date()
        if when < outcome.meeting_date:
            raise MeetingError(
                f"result date {when} is before the meeting that accepted the task "
                f"({outcome.meeting_date})"
            )
        old = None if outcome.result is None else f"{outcome.result}@{outcome.result_at}"
        outcome.result = result
        outcome.result_at = when
        audit.record(
            session,
            "outcome.result",
            "intel_item",
            _item(session, outcome.item_id).intel_id,
            field="result",
            old=old,
            new=f"{result}@{when.isoformat()}",
            who=actor.name,
        )


def accepted_awaiting_result(
    session: Session, *, region: str | None = None
) -> list[dict[str, Any]]:
    """Accepted tasks, newest first, with their result so far (for the results list)."""
    query = (
        select(TaskingOutcome, IntelItem.intel_id, IntelItem.region, IntelItem.team)
        .join(IntelItem, IntelItem.id == TaskingOutcome.item_id)
        .where(TaskingOutcome.decision == "accepted")
        .order_by(TaskingOutcome.result.is_not(None), TaskingOutcome.meeting_date.desc())
        .limit(2000)
    )
    if region:
        query = query.where(IntelItem.region == region)
    return [
        {
            "outcome_id": o.id,
            "intel_id": intel_id,
            "region": reg,
            "team": team,
            "meeting_date": o.meeting_date,
            "result": o.result,
            "result_at": o.result_at,
        }
        for o, intel_id, reg, team in session.execute(query).all()
    ]
