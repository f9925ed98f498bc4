"""The database schema: SQLAlchemy 2 typed models for every stored thing.

Datetimes are naive UTC (see ``triage.clock``). Enumerated values are stored
as text with CHECK constraints so that a bad value can never reach the table,
whoever writes it. Columns that hold upstream values keep the canonical names
of ``shared/formats.md``; unknown extract columns are kept in ``extra`` (JSON).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from triage import vocab
from triage.store import item_values


def _in(column: str, values: tuple[str, ...]) -> str:
    # An OR of equalities rather than instr() over ",a,b," (migrations before
    # 0017) or IN ('a', 'b'): in a CHECK, SQLite builds an IN list's lookup
    # table again for every row (about 10x the cost) and instr() concatenates
    # and searches a string; the comparisons allocate nothing (bulk imports
    # check four to seven such columns a row). NULL passes, as before.
    equalities = " OR ".join(f"{column} = '{value}'" for value in values)
    return f"{column} IS NULL OR {equalities}"


class Base(DeclarativeBase):
    pass


class ImportBatch(Base):
    """One imported file: what it was, who loaded it and what happened."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint(_in("kind", vocab.IMPORT_KINDS), name="kind_known"),)


class QuarantinedRow(Base):
    """A row that could not be imported, kept whole with the reason."""

    __tablename__ = "quarantined_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(Text)
    line_no: Mapped[int] = mapped_column(Integer)
    # The header and row as read (JSON object header -> cell), so the row can
    # be fixed in place and re-imported without the original file.
    raw: Mapped[dict[str, str]] = mapped_column(JSON)
    raw_text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    # open: waiting; resolved: fixed and re-imported; discarded: judged junk.
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint(_in("status", ("open", "resolved", "discarded")), name="status_known"),
        Index("ix_quarantine_status", "status", "kind"),
    )


class AuditEntry(Base):
    """Append-only: SQLite triggers (see migrations) refuse UPDATE and DELETE;
    hash-chained (``triage.store.audit``) so a change made without them shows."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    who: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(32))
    # Any record's key: an outcome's is its intel id and meeting date (migration 0018).
    entity_id: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    # The hash chain (``triage.store.audit``): the previous entry's hash and
    # this entry's own, over its canonical content.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class IntelItem(Base):
    """A piece of intelligence passed to an ICE team (formats.md §1)."""

    __tablename__ = "intel_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    intel_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    # Extension column: when Intelligence passed it to ICE (48-hour target).
    passed_at: Mapped[datetime | None] = mapped_column(DateTime)
    region: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    source_type: Mapped[str | None] = mapped_column(String(16))
    grading: Mapped[str | None] = mapped_column(String(8))
    # 3x5x2 grading split into its parts so rules can read them set-based.
    grade_source: Mapped[int | None] = mapped_column(Integer)
    grade_intel: Mapped[str | None] = mapped_column(String(1))
    grade_handling: Mapped[str | None] = mapped_column(String(1))
    subject_named: Mapped[bool | None]
    subject_ref: Mapped[str | None] = mapped_column(String(64))
    nationality: Mapped[str | None] = mapped_column(String(3))
    whereabouts: Mapped[str | None] = mapped_column(String(16))
    postcode: Mapped[str | None] = mapped_column(String(10))
    business_name: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(String(32))
    persons_estimated: Mapped[int | None] = mapped_column(Integer)
    allegation: Mapped[str | None] = mapped_column(String(24))
    # Semicolon list, sorted and wrapped as ";a;b;" so "contains flag x" is
    # an indexable LIKE '%;x;%' in SQL.
    harm_flags: Mapped[str | None] = mapped_column(Text)
    campaign: Mapped[str | None] = mapped_column(String(32))
    upstream_bucket: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Workflow state, maintained by meetings (triage.meetings.operations).
    status: Mapped[str] = mapped_column(String(16), default="open")
    carry_over_count: Mapped[int] = mapped_column(Integer, default=0)
    # Basic checks redone (a stale item needs this before it can be accepted).
    rechecked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set for items raised by the EM bridge: the EM case they came from.
    em_case_id: Mapped[str | None] = mapped_column(String(64))
    # status 'closed': when and why (migration 0011).
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Computed from the values above when the item is written, read by the
    # statistics and the harm score (triage.store.item_values; migration 0016).
    # An insert that leaves them out gets them from the row's own values.
    received_uk_day: Mapped[int | None] = mapped_column(
        Integer, default=item_values.from_row("received_uk_day")
    )
    passed_within_48h: Mapped[int | None] = mapped_column(
        SmallInteger, default=item_values.from_row("passed_within_48h")
    )
    sector_key: Mapped[str | None] = mapped_column(
        String(32), default=item_values.from_row("sector_key")
    )
    harm_flag_bits: Mapped[int | None] = mapped_column(
        Integer, default=item_values.from_row("harm_flag_bits")
    )
    # The harm model's small inputs as model-independent codes (migration
    # 0019); NULL when a writer could not compute them (scoring then does).
    harm_codes: Mapped[int | None] = mapped_column(
        Integer, default=item_values.from_row("harm_codes")
    )

    __table_args__ = (
        CheckConstraint(_in("source_type", vocab.SOURCE_TYPES), name="source_type_known"),
        CheckConstraint(_in("whereabouts", vocab.WHEREABOUTS), name="whereabouts_known"),
        CheckConstraint(_in("allegation", vocab.ALLEGATIONS), name="allegation_known"),
        CheckConstraint(_in("status", vocab.ITEM_STATUSES), name="status_known"),
        CheckConstraint(
            "upstream_bucket IS NULL OR upstream_bucket BETWEEN 1 AND 6", name="bucket_range"
        ),
        CheckConstraint("persons_estimated IS NULL OR persons_estimated >= 0", name="persons_ok"),
        # received_at, subject_ref and postcode lookups use the wider indexes
        # that start with them (triage.stats.indexes, triage.ranking_models):
        # every extra index costs each imported row.
        Index("ix_intel_region_team", "region", "team"),
        # Partial: only bridge items have a case, so ordinary inserts skip it.
        Index("ix_intel_em_case", "em_case_id", sqlite_where=text("em_case_id IS NOT NULL")),
    )


class TaskingMeeting(Base):
    """A team's tasking meeting: who, when, and how much work fits."""

    __tablename__ = "tasking_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    held_on: Mapped[date] = mapped_column(Date)
    chair: Mapped[str | None] = mapped_column(String(128))
    attendees: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer)
    # The rule pack version the agenda was ranked with, to reproduce it.
    rules_version: Mapped[str | None] = mapped_column(String(64))
    # open: in progress; closed: undecided items carried over; imported:
    # made up from a history extract (outcomes.csv).
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    outcomes: Mapped[list[TaskingOutcome]] = relationship(back_populates="meeting")

    __table_args__ = (
        CheckConstraint(_in("status", ("open", "closed", "imported")), name="status_known"),
        Index("ix_meeting_region_date", "region", "held_on"),
    )


class TaskingOutcome(Base):
    """One decision on one item at one meeting, and what it later led to."""

    __tablename__ = "tasking_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("intel_item.id"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("tasking_meeting.id"))
    meeting_date: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    # Rank position and capacity line when decided (for agenda statistics).
    agenda_rank: Mapped[int | None] = mapped_column(Integer)
    # The model's suggestion shown (or hidden) when decided, if a model was active.
    model_score: Mapped[float | None] = mapped_column(Float)
    result: Mapped[str | None] = mapped_column(String(24))
    result_at: Mapped[date | None] = mapped_column(Date)
    extra: Mapped[dict[str, str] | None] = mapped_column(JSON)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    meeting: Mapped[TaskingMeeting | None] = relationship(back_populates="outcomes")
    item: Mapped[IntelItem] = relationship()

    __table_args__ = (
        CheckConstraint(_in("decision", vocab.DECISIONS), name="decision_known"),
        CheckConstraint(_in("result", vocab.RESULTS), name="result_known"),
        CheckConstraint(
            "decision != 'rejected' OR reason IS NOT NULL", name="rejection_has_reason"
        ),
        # One decision per item per meeting day: re-imports update, never duplicate.
        UniqueConstraint("item_id", "meeting_date", name="uq_outcome_item_date"),
        Index("ix_outcome_item", "item_id", "decided_at"),
        Index("ix_outcome_meeting", "meeting_id"),
    )


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

    __tablename__ = "em_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    person_ref: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(16))
    nationality: Mapped[str | None] = mapped_column(String(3))
    harm_level: Mapped[str | None] = mapped_column(String(16))
    deportation_category: Mapped[str | None] = mapped_column(String(16))
    sentence_months: Mapped[int | None] = mapped_column(Integer)
    bail_type: Mapped[str | None] = mapped_column(String(8))
    bail_granted_at: Mapped[datetime | None] = mapped_column(DateTime)
    held_at: Mapped[str | None] = mapped_column(String(16))
    device: Mapped[str | None] = mapped_column(String(16))
    em_status: Mapped[str | None] = mapped_column(String(16))
    fitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_review_at: Mapped[date | None] = mapped_column(Date)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime)
    vulnerabilities: Mapped[str | None] = mapped_column(Text)  # ";a;b;" like harm_flags
    gender: Mapped[str | None] = mapped_column(String(32))
    # Protected characteristics (PROTECTED_CHARACTERISTICS), monitoring only;
    # migration 0012.
    pc_ethnicity: Mapped[str | None] = mapped_column(String(64))
    pc_religion: Mapped[str | None] = mapped_column(String(64))
    pc_sexual_orientation: Mapped[str | None] = mapped_column(String(64))
    # Where fitting the device stands (Figure 5); migration 0010.
    induction_status: Mapped[str | None] = mapped_column(String(24))
    extra: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # One owner at a time (triage.em claims).
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(_in("harm_level", vocab.HARM_LEVELS), name="harm_level_known"),
        CheckConstraint(
            _in("deportation_category", vocab.DEPORTATION_CATEGORIES), name="category_known"
        ),
        CheckConstraint(_in("bail_type", vocab.BAIL_TYPES), name="bail_type_known"),
        CheckConstraint(_in("held_at", vocab.HELD_AT), name="held_at_known"),
        CheckConstraint(_in("device", vocab.DEVICES), name="device_known"),
        CheckConstraint(_in("em_status", vocab.EM_STATUSES), name="em_status_known"),
        CheckConstraint(
            _in("induction_status", vocab.INDUCTION_STATUSES), name="induction_status_known"
        ),
        CheckConstraint("sentence_months IS NULL OR sentence_months >= 0", name="sentence_ok"),
    )


class EmEvent(Base):
    """A breach notification or case event (formats.md §3). Never deleted."""

    __tablename__ = "em_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("em_case.case_id"))
    event_type: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # When a caseworker answered it (a reply to a representation, PAP or JR).
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(_in("event_type", vocab.EVENT_TYPES), name="event_type_known"),
        Index("ix_event_case_time", "case_id", "started_at"),
        Index("ix_event_type_time", "event_type", "started_at"),
    )
