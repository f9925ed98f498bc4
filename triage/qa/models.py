"""Tables of QA sampling: the samples drawn, the decisions in each, and their scores.

A sampled decision keeps what the report groups by (kind, date, who made it,
region, team) and what the item's history needs (the item or case it is
about), copied when the sample is drawn: the sample stays what it was drawn
as, whatever later imports change. No foreign key points at the decision's
own row, so the retention purge is never held up by a QA record.
Check constraints use plain IN lists (portable to PostgreSQL).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
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

from triage.qa.scoring import OUTCOMES, SEVERITIES, SPECIAL_POLICIES
from triage.store.models import Base

KINDS = ("tasking", "em_review", "em_device", "em_escalation", "em_trail")


def _in(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IS NULL OR {column} IN ({listed})"


class QaSample(Base):
    """One draw: the period, the rate and the seed that reproduce it."""

    __tablename__ = "qa_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    rate: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(DateTime)
    drawn_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint("period_from <= period_to", name="period_ordered"),
        CheckConstraint("rate > 0 AND rate <= 1", name="rate_share"),
        UniqueConstraint("period_from", "period_to", "rate", "seed", name="uq_qa_sample_draw"),
    )


class QaSampleDecision(Base):
    """A decision drawn into a sample, by its reference (``kind:id``)."""

    __tablename__ = "qa_sample_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("qa_sample.id"))
    decision_ref: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(16))
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    item_id: Mapped[int | None] = mapped_column(Integer)  # intel_item.id of a tasking decision
    subject: Mapped[str] = mapped_column(String(64))  # intel_id or case_id
    decision: Mapped[str] = mapped_column(String(128))  # what was decided, in words

    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        UniqueConstraint("sample_id", "decision_ref", name="uq_qa_sample_ref"),
        Index("ix_qa_decision_ref", "decision_ref"),
        Index("ix_qa_decision_item", "item_id"),
    )


class QaScore(Base):
    """The review of one sampled decision; scoring again replaces it (audited)."""

    __tablename__ = "qa_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_decision_id: Mapped[int] = mapped_column(
        ForeignKey("qa_sample_decision.id"), unique=True
    )
    reviewer: Mapped[str] = mapped_column(String(128))
    scored_at: Mapped[datetime] = mapped_column(DateTime)
    points_checked: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column(Integer)
    feedback: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome_known"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        CheckConstraint("points_checked >= 1", name="points_positive"),
    )


class QaError(Base):
    """One error a review found."""

    __tablename__ = "qa_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("qa_score.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(12))
    special_policy: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("severity", SEVERITIES), name="severity_known"),
        CheckConstraint(_in("special_policy", SPECIAL_POLICIES), name="special_policy_known"),
        Index("ix_qa_error_score", "score_id"),
    )
