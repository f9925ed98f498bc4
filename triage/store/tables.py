"""The store's own tables in SQLAlchemy Core, on the schema's one ``MetaData``.

The ORM models of ``triage.store.models`` are mapped onto these same tables
(``__table__``), so each table is still declared once. Declared here without
the ORM, a command that needs only connections (``rank intel``) reads and
writes them without importing ``sqlalchemy.orm`` and the declarative models
(~0.1 s of CPU at every start; docs/decisions.md, "Tables in Core").

Datetimes are naive UTC (see ``triage.clock``). Enumerated values are stored
as text with CHECK constraints so that a bad value can never reach the table,
whoever writes it. Columns that hold upstream values keep the canonical names
of ``shared/formats.md``; unknown extract columns are kept in ``extra`` (JSON).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from triage import vocab
from triage.store import item_values

# Every table of the schema, Core and mapped alike (``triage.store.schema``).
metadata = MetaData()


def _in(column: str, values: tuple[str, ...]) -> str:
    # An OR of equalities rather than instr() over ",a,b," (migrations before
    # 0017) or IN ('a', 'b'): in a CHECK, SQLite builds an IN list's lookup
    # table again for every row (about 10x the cost) and instr() concatenates
    # and searches a string; the comparisons allocate nothing (bulk imports
    # check four to seven such columns a row). NULL passes, as before.
    equalities = " OR ".join(f"{column} = '{value}'" for value in values)
    return f"{column} IS NULL OR {equalities}"


def _batch() -> Column[int]:
    return Column("batch_id", Integer, ForeignKey("import_batch.id"))


# One imported file: what it was, who loaded it and what happened.
import_batch = Table(
    "import_batch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("imported_by", String(128), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    CheckConstraint(_in("kind", vocab.IMPORT_KINDS), name="kind_known"),
)

# A row that could not be imported, kept whole with the reason.
quarantined_row = Table(
    "quarantined_row",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("import_batch.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("line_no", Integer, nullable=False),
    # The header and row as read (JSON object header -> cell), so the row can
    # be fixed in place and re-imported without the original file.
    Column("raw", JSON, nullable=False),
    Column("raw_text", Text, nullable=False),
    Column("reason", Text, nullable=False),
    # open: waiting; resolved: fixed and re-imported; discarded: judged junk.
    Column("status", String(16), nullable=False, default="open"),
    Column("resolved_at", DateTime),
    Column("resolved_by", String(128)),
    CheckConstraint(_in("status", ("open", "resolved", "discarded")), name="status_known"),
    Index("ix_quarantine_status", "status", "kind"),
)

# Append-only: SQLite triggers (see migrations) refuse UPDATE and DELETE;
# hash-chained (``triage.store.audit``) so a change made without them shows.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("who", String(128), nullable=False),
    Column("action", String(48), nullable=False),
    Column("entity", String(32), nullable=False),
    # Any record's key: an outcome's is its intel id and meeting date (migration 0018).
    Column("entity_id", Text, nullable=False),
    Column("field", String(64)),
    Column("old_value", Text),
    Column("new_value", Text),
    _batch(),
    # The hash chain (``triage.store.audit``): the previous entry's hash and
    # this entry's own, over its canonical content.
    Column("prev_hash", String(64)),
    Column("entry_hash", String(64)),
    Index("ix_audit_entity", "entity", "entity_id"),
)

# A piece of intelligence passed to an ICE team (formats.md §1).
intel_item = Table(
    "intel_item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("intel_id", String(64), nullable=False, unique=True),
    Column("received_at", DateTime, nullable=False),
    # Extension column: when Intelligence passed it to ICE (48-hour target).
    Column("passed_at", DateTime),
    Column("region", String(16), nullable=False),
    Column("team", String(64)),
    Column("source_type", String(16)),
    Column("grading", String(8)),
    # 3x5x2 grading split into its parts so rules can read them set-based.
    Column("grade_source", Integer),
    Column("grade_intel", String(1)),
    Column("grade_handling", String(1)),
    Column("subject_named", Boolean),
    Column("subject_ref", String(64)),
    Column("nationality", String(3)),
    Column("whereabouts", String(16)),
    Column("postcode", String(10)),
    Column("business_name", Text),
    Column("sector", String(32)),
    Column("persons_estimated", Integer),
    Column("allegation", String(24)),
    # Semicolon list, sorted and wrapped as ";a;b;" so "contains flag x" is
    # an indexable LIKE '%;x;%' in SQL.
    Column("harm_flags", Text),
    Column("campaign", String(32)),
    Column("upstream_bucket", Integer),
    Column("summary", Text),
    Column("extra", JSON),
    # Workflow state, maintained by meetings (triage.meetings.operations).
    Column("status", String(16), nullable=False, default="open"),
    Column("carry_over_count", Integer, nullable=False, default=0),
    # Basic checks redone (a stale item needs this before it can be accepted).
    Column("rechecked_at", DateTime),
    # Set for items raised by the EM bridge: the EM case they came from.
    Column("em_case_id", String(64)),
    # status 'closed': when and why (migration 0011).
    Column("closed_at", DateTime),
    Column("closed_reason", Text),
    _batch(),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # Computed from the values above when the item is written, read by the
    # statistics and the harm score (triage.store.item_values; migration 0016).
    # An insert that leaves them out gets them from the row's own values.
    Column("received_uk_day", Integer, default=item_values.from_row("received_uk_day")),
    Column("passed_within_48h", SmallInteger, default=item_values.from_row("passed_within_48h")),
    Column("sector_key", String(32), default=item_values.from_row("sector_key")),
    Column("harm_flag_bits", Integer, default=item_values.from_row("harm_flag_bits")),
    # The harm model's small inputs as model-independent codes (migration
    # 0019); NULL when a writer could not compute them (scoring then does).
    Column("harm_codes", Integer, default=item_values.from_row("harm_codes")),
    CheckConstraint(_in("source_type", vocab.SOURCE_TYPES), name="source_type_known"),
    CheckConstraint(_in("whereabouts", vocab.WHEREABOUTS), name="whereabouts_known"),
    CheckConstraint(_in("allegation", vocab.ALLEGATIONS), name="allegation_known"),
    CheckConstraint(_in("status", vocab.ITEM_STATUSES), name="status_known"),
    CheckConstraint(
        "upstream_bucket IS NULL OR upstream_bucket BETWEEN 1 AND 6", name="bucket_range"
    ),
    CheckConstraint("persons_estimated IS NULL OR persons_estimated >= 0", name="persons_ok"),
    # received_at, subject_ref and postcode lookups use the wider indexes
    # that start with them (triage.stats.indexes, triage.intel.tables):
    # every extra index costs each imported row.
    Index("ix_intel_region_team", "region", "team"),
    # Partial: only bridge items have a case, so ordinary inserts skip it.
    Index("ix_intel_em_case", "em_case_id", sqlite_where=text("em_case_id IS NOT NULL")),
)

# A team's tasking meeting: who, when, and how much work fits.
tasking_meeting = Table(
    "tasking_meeting",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("region", String(16), nullable=False),
    Column("team", String(64)),
    Column("held_on", Date, nullable=False),
    Column("chair", String(128)),
    Column("attendees", Text),
    Column("capacity", Integer),
    # The rule pack version the agenda was ranked with, to reproduce it.
    Column("rules_version", String(64)),
    # open: in progress; closed: undecided items carried over; imported:
    # made up from a history extract (outcomes.csv).
    Column("status", String(16), nullable=False, default="open"),
    Column("opened_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    CheckConstraint(_in("status", ("open", "closed", "imported")), name="status_known"),
    Index("ix_meeting_region_date", "region", "held_on"),
)

# One decision on one item at one meeting, and what it later led to.
tasking_outcome = Table(
    "tasking_outcome",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("intel_item.id"), nullable=False),
    Column("meeting_id", Integer, ForeignKey("tasking_meeting.id")),
    Column("meeting_date", Date, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reason", String(32)),
    Column("note", Text),
    Column("decided_by", String(128)),
    Column("decided_at", DateTime, nullable=False),
    # Rank position and capacity line when decided (for agenda statistics).
    Column("agenda_rank", Integer),
    # The model's suggestion shown (or hidden) when decided, if a model was active.
    Column("model_score", Float),
    Column("result", String(24)),
    Column("result_at", Date),
    Column("extra", JSON),
    _batch(),
    CheckConstraint(_in("decision", vocab.DECISIONS), name="decision_known"),
    CheckConstraint(_in("result", vocab.RESULTS), name="result_known"),
    CheckConstraint("decision != 'rejected' OR reason IS NOT NULL", name="rejection_has_reason"),
    # One decision per item per meeting day: re-imports update, never duplicate.
    UniqueConstraint("item_id", "meeting_date", name="uq_outcome_item_date"),
    Index("ix_outcome_item", "item_id", "decided_at"),
    Index("ix_outcome_meeting", "meeting_id"),
)

# An electronic-monitoring case (formats.md §2).
em_case = Table(
    "em_case",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", String(64), nullable=False, unique=True),
    Column("person_ref", String(64)),
    Column("region", String(16)),
    Column("nationality", String(3)),
    Column("harm_level", String(16)),
    Column("deportation_category", String(16)),
    Column("sentence_months", Integer),
    Column("bail_type", String(8)),
    Column("bail_granted_at", DateTime),
    Column("held_at", String(16)),
    Column("device", String(16)),
    Column("em_status", String(16)),
    Column("fitted_at", DateTime),
    Column("last_review_at", Date),
    Column("last_contact_at", DateTime),
    Column("vulnerabilities", Text),  # ";a;b;" like harm_flags
    Column("gender", String(32)),
    # Protected characteristics (models.PROTECTED_CHARACTERISTICS), monitoring
    # only; migration 0012.
    Column("pc_ethnicity", String(64)),
    Column("pc_religion", String(64)),
    Column("pc_sexual_orientation", String(64)),
    # Where fitting the device stands (Figure 5); migration 0010.
    Column("induction_status", String(24)),
    Column("extra", JSON),
    # One owner at a time (triage.em claims).
    Column("claimed_by", String(128)),
    Column("claimed_at", DateTime),
    _batch(),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
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

# A breach notification or case event (formats.md §3). Never deleted.
em_event = Table(
    "em_event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("case_id", String(64), ForeignKey("em_case.case_id"), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("due_at", DateTime),
    Column("notes", Text),
    Column("extra", JSON),
    # When a caseworker answered it (a reply to a representation, PAP or JR).
    Column("responded_at", DateTime),
    _batch(),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint(_in("event_type", vocab.EVENT_TYPES), name="event_type_known"),
    Index("ix_event_case_time", "case_id", "started_at"),
    Index("ix_event_type_time", "event_type", "started_at"),
)
