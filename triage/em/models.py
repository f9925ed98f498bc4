"""Tables of the EM caseload beyond the imported cases and events.

Completed reviews, escalation records, device recommendations with the
caseworker's separate decision, and the trail-data request register. Each
write goes with an audit entry (``triage.store.audit``) in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from triage import vocab
from triage.store.models import Base
from triage.store.tables import _in

REVIEW_TRIGGERS = ("scheduled", "representation", "ad_hoc")
REVIEW_OUTCOMES = ("continue", "ceased", "varied", "curfew_removed", "curfew_amended")
ESCALATION_STEPS = ("warning_letter", "prosecution_referral")
ESCALATION_STATUSES = ("open", "done", "withdrawn")
TRAIL_GROUNDS = (
    "breach_of_bail_conditions",
    "absconding",
    "article8_representations",
    "breach_allegation_intelligence",
    "sar_or_legal_challenge",
)
TRAIL_REQUESTERS = ("home_office", "police", "probation", "subject")
TRAIL_KINDS = ("attendance", "trail_monitoring")
TRAIL_OUTCOMES = (
    "provided",
    "partial",
    "rejected_insufficient_justification",
    "rejected_other",
    "rejected_too_broad",
    "withdrawn",
)
DEVICES = vocab.DEVICES


class EmReview(Base):
    """A completed EM review (scheduled 3-monthly, after a representation, or ad hoc)."""

    __tablename__ = "em_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("em_case.case_id"))
    completed_on: Mapped[date] = mapped_column(Date)
    trigger: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    completed_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(_in("trigger", REVIEW_TRIGGERS), name="trigger_known"),
        CheckConstraint(_in("outcome", REVIEW_OUTCOMES), name="outcome_known"),
        Index("ix_em_review_case", "case_id", "completed_on"),
    )


class EmEscalation(Base):
    """One step of the escalation ladder raised for a case at a breach count.

    Unique per (case, step, count): applying the ladder again never adds a
    second letter for the same breach.
    """

    __tablename__ = "em_escalation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("em_case.case_id"))
    step: Mapped[str] = mapped_column(String(24))
    breach_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="open")
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    rules_version: Mapped[str] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint(_in("step", ESCALATION_STEPS), name="step_known"),
        CheckConstraint(_in("status", ESCALATION_STATUSES), name="status_known"),
        UniqueConstraint("case_id", "step", "breach_count", name="uq_escalation_step"),
        Index("ix_em_escalation_open", "status", "step"),
    )


class EmRecommendation(Base):
    """The tool's advice for a case, and separately the caseworker's decision."""

    __tablename__ = "em_recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("em_case.case_id"))
    made_at: Mapped[datetime] = mapped_column(DateTime)
    rules_version: Mapped[str] = mapped_column(String(64))
    em: Mapped[bool] = mapped_column(Boolean)
    device: Mapped[str] = mapped_column(String(12))
    minimum_months: Mapped[int | None] = mapped_column(Integer)
    flags: Mapped[str | None] = mapped_column(Text)  # ";a;b;"
    # The inputs read and the reasons, so the advice can be explained later.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_em: Mapped[bool | None] = mapped_column(Boolean)
    decided_device: Mapped[str | None] = mapped_column(String(12))
    decided_months: Mapped[int | None] = mapped_column(Integer)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    overridden: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        CheckConstraint(_in("device", DEVICES), name="device_known"),
        CheckConstraint(_in("decided_device", DEVICES), name="decided_device_known"),
        CheckConstraint(
            "decided_at IS NULL OR length(trim(coalesce(decision_reason, ''))) > 0",
            name="decision_has_reason",
        ),
        Index("ix_em_recommendation_case", "case_id", "made_at"),
    )


class EmTrailRequest(Base):
    """A request for GPS trail data: one DPIA ground and a specified period."""

    __tablename__ = "em_trail_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("em_case.case_id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    requester_org: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(20))
    ground: Mapped[str] = mapped_column(String(40))
    period_from: Mapped[datetime] = mapped_column(DateTime)
    period_to: Mapped[datetime] = mapped_column(DateTime)
    justification: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(40))
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome_by: Mapped[str | None] = mapped_column(String(128))
    recorded_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint(
            "requester_org IN ('home_office', 'police', 'probation', 'subject')", name="org_known"
        ),
        CheckConstraint(_in("kind", TRAIL_KINDS), name="kind_known"),
        CheckConstraint(_in("ground", TRAIL_GROUNDS), name="ground_known"),
        CheckConstraint(_in("outcome", TRAIL_OUTCOMES), name="outcome_known"),
        CheckConstraint("period_from <= period_to", name="period_ordered"),
        Index("ix_em_trail_case", "case_id"),
    )


class EmServiceLevel(Base):
    """A supplier service-level figure: one measure in one month against its
    target [004 Fig 12]. Imported (``service-levels`` extracts); re-importing
    the same measure and month updates it."""

    __tablename__ = "em_service_level"

    id: Mapped[int] = mapped_column(primary_key=True)
    # measure and month together, the re-import key ("Equipment re-installation|2021-10").
    level_key: Mapped[str] = mapped_column(String(200), unique=True)
    measure: Mapped[str] = mapped_column(String(160))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    target_pct: Mapped[float] = mapped_column(Float)
    achieved_pct: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, str] | None] = mapped_column(JSON)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("target_pct BETWEEN 0 AND 100", name="target_range"),
        CheckConstraint(
            "achieved_pct IS NULL OR achieved_pct BETWEEN 0 AND 100", name="achieved_range"
        ),
    )


class EmProcessIssue(Base):
    """One process issue in the Hub's log [004 ¶5.25]: an incorrect referral,
    a supplier failure or an equipment fault (``process-issues`` extracts)."""

    __tablename__ = "em_process_issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    case_id: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, str] | None] = mapped_column(JSON)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(_in("kind", vocab.PROCESS_ISSUE_KINDS), name="kind_known"),
        Index("ix_em_process_issue_time", "occurred_at"),
    )
