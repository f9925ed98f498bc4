"""EMS service levels and the EM process-issue log (issue 19.2)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

Two new tables, each filled by a new extract kind (formats.md §5 and §6),
so ``import_batch.kind``'s CHECK gains them (widened in place,
``triage.store.schema_edit``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage import vocab
from triage.store.schema_edit import instr_check, replace_values_check

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NEW_KINDS = ("service-levels", "process-issues")


def upgrade() -> None:
    op.create_table(
        "em_service_level",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level_key", sa.String(length=200), nullable=False),
        sa.Column("measure", sa.String(length=160), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("target_pct", sa.Float(), nullable=False),
        sa.Column("achieved_pct", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("target_pct BETWEEN 0 AND 100", name="target_range"),
        sa.CheckConstraint(
            "achieved_pct IS NULL OR achieved_pct BETWEEN 0 AND 100", name="achieved_range"
        ),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("level_key"),
    )
    op.create_table(
        "em_process_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(instr_check("kind", vocab.PROCESS_ISSUE_KINDS), name="kind_known"),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issue_id"),
    )
    op.create_index("ix_em_process_issue_time", "em_process_issue", ["occurred_at"])
    replace_values_check(
        "import_batch",
        "kind",
        "kind_known",
        vocab.IMPORT_KINDS_0001,
        vocab.IMPORT_KINDS_0001 + NEW_KINDS,
        check=instr_check,
    )


def downgrade() -> None:
    # import_batch keeps the wider CHECK: batches of the new kinds stay in
    # the audit trail (append-only), so narrowing it would misdescribe them.
    op.drop_index("ix_em_process_issue_time", table_name="em_process_issue")
    op.drop_table("em_process_issue")
    op.drop_table("em_service_level")
