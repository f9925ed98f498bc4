"""QA sampling of decisions: samples, sampled decisions, scores and errors

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_sample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=False),
        sa.Column("drawn_by", sa.String(length=128), nullable=False),
        sa.CheckConstraint("period_from <= period_to", name="period_ordered"),
        sa.CheckConstraint("rate > 0 AND rate <= 1", name="rate_share"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_from", "period_to", "rate", "seed", name="uq_qa_sample_draw"),
    )
    op.create_table(
        "qa_sample_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("decision_ref", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=128), nullable=False),
        sa.CheckConstraint(
            "kind IS NULL OR kind IN ('tasking', 'em_review', 'em_device', 'em_escalation', "
            "'em_trail')",
            name="kind_known",
        ),
        sa.ForeignKeyConstraint(["sample_id"], ["qa_sample.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_id", "decision_ref", name="uq_qa_sample_ref"),
    )
    op.create_index("ix_qa_decision_ref", "qa_sample_decision", ["decision_ref"], unique=False)
    op.create_index("ix_qa_decision_item", "qa_sample_decision", ["item_id"], unique=False)
    op.create_table(
        "qa_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_decision_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        sa.Column("points_checked", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('probably_correct', 'probably_wrong')",
            name="outcome_known",
        ),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        sa.CheckConstraint("points_checked >= 1", name="points_positive"),
        sa.ForeignKeyConstraint(
            ["sample_decision_id"],
            ["qa_sample_decision.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_decision_id"),
    )
    op.create_table(
        "qa_error",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("special_policy", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "severity IS NULL OR severity IN ('minor', 'significant', 'fail')",
            name="severity_known",
        ),
        sa.CheckConstraint(
            "special_policy IS NULL OR special_policy IN ('safeguarding', 'security', "
            "'modern_slavery')",
            name="special_policy_known",
        ),
        sa.ForeignKeyConstraint(
            ["score_id"],
            ["qa_score.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_qa_error_score", "qa_error", ["score_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_qa_error_score", table_name="qa_error")
    op.drop_table("qa_error")
    op.drop_table("qa_score")
    op.drop_index("ix_qa_decision_item", table_name="qa_sample_decision")
    op.drop_index("ix_qa_decision_ref", table_name="qa_sample_decision")
    op.drop_table("qa_sample_decision")
    op.drop_table("qa_sample")
