"""The ORM models of the store's own tables: typed classes mapped onto the
Core tables of ``triage.store.tables``, where each table, its columns and
constraints are declared (once); the annotations here give the attributes
their Python types.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from triage.store import tables


class Base(DeclarativeBase):
    # The one MetaData of the schema: Core tables and declarative models alike.
    metadata = tables.metadata


class ImportBatch(Base):
    """One imported file: what it was, who loaded it and what happened."""

    __table__ = tables.import_batch

    id: Mapped[int]
    kind: Mapped[str]
    file_name: Mapped[str]
    sha256: Mapped[str]
    rows_read: Mapped[int]
    inserted: Mapped[int]
    updated: Mapped[int]
    unchanged: Mapped[int]
    quarantined: Mapped[int]
    imported_by: Mapped[str]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class QuarantinedRow(Base):
    """A row that could not be imported, kept whole with the reason."""

    __table__ = tables.quarantined_row

    id: Mapped[int]
    batch_id: Mapped[int]
    kind: Mapped[str]
    file_name: Mapped[str]
    line_no: Mapped[int]
    raw: Mapped[dict[str, str]]
    raw_text: Mapped[str]
    reason: Mapped[str]
    status: Mapped[str]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None]


class AuditEntry(Base):
    """Append-only: SQLite triggers (see migrations) refuse UPDATE and DELETE;
    hash-chained (``triage.store.audit``) so a change made without them shows."""

    __table__ = tables.audit_log

    id: Mapped[int]
    at: Mapped[datetime]
    who: Mapped[str]
    action: Mapped[str]
    entity: Mapped[str]
    entity_id: Mapped[str]
    field: Mapped[str | None]
    old_value: Mapped[str | None]
    new_value: Mapped[str | None]
    batch_id: Mapped[int | None]
    prev_hash: Mapped[str | None]
    entry_hash: Mapped[str | None]


class IntelItem(Base):
    """A piece of intelligence passed to an ICE team (formats.md §1)."""

    __table__ = tables.intel_item

    id: Mapped[int]
    intel_id: Mapped[str]
    received_at: Mapped[datetime]
    passed_at: Mapped[datetime | None]
    region: Mapped[str]
    team: Mapped[str | None]
    source_type: Mapped[str | None]
    grading: Mapped[str | None]
    grade_source: Mapped[int | None]
    grade_intel: Mapped[str | None]
    grade_handling: Mapped[str | None]
    subject_named: Mapped[bool | None]
    subject_ref: Mapped[str | None]
    nationality: Mapped[str | None]
    whereabouts: Mapped[str | None]
    postcode: Mapped[str | None]
    business_name: Mapped[str | None]
    sector: Mapped[str | None]
    persons_estimated: Mapped[int | None]
    allegation: Mapped[str | None]
    harm_flags: Mapped[str | None]
    campaign: Mapped[str | None]
    upstream_bucket: Mapped[int | None]
    summary: Mapped[str | None]
    extra: Mapped[dict[str, str] | None]
    status: Mapped[str]
    carry_over_count: Mapped[int]
    rechecked_at: Mapped[datetime | None]
    em_case_id: Mapped[str | None]
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None]
    batch_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    received_uk_day: Mapped[int | None]
    passed_within_48h: Mapped[int | None]
    sector_key: Mapped[str | None]
    harm_flag_bits: Mapped[int | None]
    harm_codes: Mapped[int | None]


class TaskingMeeting(Base):
    """A team's tasking meeting: who, when, and how much work fits."""

    __table__ = tables.tasking_meeting

    id: Mapped[int]
    region: Mapped[str]
    team: Mapped[str | None]
    held_on: Mapped[date]
    chair: Mapped[str | None]
    attendees: Mapped[str | None]
    capacity: Mapped[int | None]
    rules_version: Mapped[str | None]
    status: Mapped[str]
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    outcomes: Mapped[list[TaskingOutcome]] = relationship(back_populates="meeting")


class TaskingOutcome(Base):
    """One decision on one item at one meeting, and what it later led to."""

    __table__ = tables.tasking_outcome

    id: Mapped[int]
    item_id: Mapped[int]
    meeting_id: Mapped[int | None]
    meeting_date: Mapped[date]
    decision: Mapped[str]
    reason: Mapped[str | None]
    note: Mapped[str | None]
    decided_by: Mapped[str | None]
    decided_at: Mapped[datetime]
    agenda_rank: Mapped[int | None]
    model_score: Mapped[float | None]
    result: Mapped[str | None]
    result_at: Mapped[date | None]
    extra: Mapped[dict[str, str] | None]
    batch_id: Mapped[int | None]

    meeting: Mapped[TaskingMeeting | None] = relationship(back_populates="outcomes")
    item: Mapped[IntelItem] = relationship()


# Protected characteristics an EM case may record (column -> label), for
# aggregate monitoring only (triage.stats.breaches) [004 ¶5.25, Rec 1a]. Kept
# apart by name: gender as formats.md has always had it, the others stored
# with a ``pc_`` prefix. No ranking, rule pack or model reads them; the harm
# model refuses them by name (triage.harm.features.is_protected), and
# tests/stats/test_breach_trends.py varies them and checks nothing moves.
PROTECTED_CHARACTERISTICS = {
    "gender": "Gender",
    "pc_ethnicity": "Ethnicity",
    "pc_religion": "Religion or belief",
    "pc_sexual_orientation": "Sexual orientation",
}


class EmCase(Base):
    """An electronic-monitoring case (formats.md §2)."""

    __table__ = tables.em_case

    id: Mapped[int]
    case_id: Mapped[str]
    person_ref: Mapped[str | None]
    region: Mapped[str | None]
    nationality: Mapped[str | None]
    harm_level: Mapped[str | None]
    deportation_category: Mapped[str | None]
    sentence_months: Mapped[int | None]
    bail_type: Mapped[str | None]
    bail_granted_at: Mapped[datetime | None]
    held_at: Mapped[str | None]
    device: Mapped[str | None]
    em_status: Mapped[str | None]
    fitted_at: Mapped[datetime | None]
    last_review_at: Mapped[date | None]
    last_contact_at: Mapped[datetime | None]
    vulnerabilities: Mapped[str | None]
    gender: Mapped[str | None]
    pc_ethnicity: Mapped[str | None]
    pc_religion: Mapped[str | None]
    pc_sexual_orientation: Mapped[str | None]
    induction_status: Mapped[str | None]
    extra: Mapped[dict[str, str] | None]
    claimed_by: Mapped[str | None]
    claimed_at: Mapped[datetime | None]
    batch_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EmEvent(Base):
    """A breach notification or case event (formats.md §3). Never deleted."""

    __table__ = tables.em_event

    id: Mapped[int]
    event_id: Mapped[str]
    case_id: Mapped[str]
    event_type: Mapped[str]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    notes: Mapped[str | None]
    extra: Mapped[dict[str, str] | None]
    responded_at: Mapped[datetime | None]
    batch_id: Mapped[int | None]
    created_at: Mapped[datetime]
