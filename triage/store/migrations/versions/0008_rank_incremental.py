"""the ranking re-ranks only what changed: a sort key per item, a change log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

``intel_rank.queue_key`` (minus the item's score plus the weighted harm
score) replaces ``queue_position``, the whole queue's numbering, which every
refresh had to redo for a million rows; the index on (bucket, queue_key)
gives the queue order with no renumbering, so one item can be re-ranked alone.

``rank_change`` logs each change of an item's rank inputs with the item's
old corroboration keys (their groups' counts change too); new items are
found by having no rank yet, so an import pays no trigger. A harm model
added, changed or removed sets ``rank_state.full_rerank``: every harm score
changes. ``rank_state.as_of`` is the instant of the last full ranking.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store import dialect

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# What the rules read of an item (triage.rules.pack.INPUTS, and the times).
RANK_INPUTS = (
    "campaign",
    "sector",
    "region",
    "team",
    "allegation",
    "business_name",
    "postcode",
    "persons_estimated",
    "harm_flags",
    "subject_named",
    "subject_ref",
    "whereabouts",
    "nationality",
    "source_type",
    "grade_source",
    "grade_intel",
    "grade_handling",
    "em_case_id",
    "received_at",
    "passed_at",
    "rechecked_at",
)
LOG = (
    "INSERT INTO rank_change (item_id, subject_ref, postcode, business_name) "
    "VALUES ({row}.id, OLD.subject_ref, OLD.postcode, OLD.business_name)"
)
VERBS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.drop_index("ix_rank_queue_position", table_name="intel_rank")
    # Batch mode: SQLite before 3.35 (bullseye's 3.34, for one) has no DROP
    # COLUMN, so there the table is copied without them; PostgreSQL alters it.
    with op.batch_alter_table("intel_rank") as batch:
        batch.drop_column("queue_position")
        batch.drop_column("position_weight")
    op.add_column("intel_rank", sa.Column("queue_key", sa.Float(), nullable=True))
    op.create_index("ix_rank_queue_key", "intel_rank", ["bucket", "queue_key"])
    op.add_column(
        "rank_state",
        sa.Column("full_rerank", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("rank_state", sa.Column("as_of", sa.DateTime(), nullable=True))
    # No sort keys yet: the queue sorts as the rules say until the next ranking.
    op.execute(
        sa.text("UPDATE rank_state SET dirty = :yes, position_weight = NULL").bindparams(yes=True)
    )
    op.create_table(
        "rank_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("business_name", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    if dialect.is_postgres(op.get_bind()):
        _postgres_triggers()
        return
    op.execute(
        f"""
        CREATE TRIGGER rank_change_on_intel_item_update
        AFTER UPDATE OF {", ".join(RANK_INPUTS)} ON intel_item
        BEGIN
            {LOG.format(row="NEW")};
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER rank_change_on_intel_item_delete
        AFTER DELETE ON intel_item
        BEGIN
            {LOG.format(row="OLD")};
        END
        """
    )
    for verb in VERBS:
        op.execute(
            f"""
            CREATE TRIGGER rank_full_on_harm_model_{verb.lower()}
            AFTER {verb} ON harm_model
            WHEN (SELECT full_rerank FROM rank_state WHERE id = 1) = 0
            BEGIN
                UPDATE rank_state SET full_rerank = 1 WHERE id = 1;
            END
            """
        )


def _postgres_triggers() -> None:
    """The same triggers in PostgreSQL's form (plpgsql functions)."""
    op.execute(
        "CREATE OR REPLACE FUNCTION rank_log_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO rank_change (item_id, subject_ref, postcode, business_name) "
        "VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, "
        "OLD.subject_ref, OLD.postcode, OLD.business_name); RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER rank_change_on_intel_item_update "
        f"AFTER UPDATE OF {', '.join(RANK_INPUTS)} ON intel_item "
        "FOR EACH ROW EXECUTE FUNCTION rank_log_change()"
    )
    op.execute(
        "CREATE TRIGGER rank_change_on_intel_item_delete AFTER DELETE ON intel_item "
        "FOR EACH ROW EXECUTE FUNCTION rank_log_change()"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION rank_mark_full() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE rank_state SET full_rerank = true WHERE id = 1 AND NOT full_rerank; "
        "RETURN NULL; END $$"
    )
    for verb in VERBS:
        op.execute(
            f"CREATE TRIGGER rank_full_on_harm_model_{verb.lower()} AFTER {verb} ON harm_model "
            "FOR EACH STATEMENT EXECUTE FUNCTION rank_mark_full()"
        )


def downgrade() -> None:
    postgres = dialect.is_postgres(op.get_bind())
    on_model = " ON harm_model" if postgres else ""
    on_item = " ON intel_item" if postgres else ""
    for verb in VERBS:
        op.execute(f"DROP TRIGGER IF EXISTS rank_full_on_harm_model_{verb.lower()}{on_model}")
    op.execute(f"DROP TRIGGER IF EXISTS rank_change_on_intel_item_update{on_item}")
    op.execute(f"DROP TRIGGER IF EXISTS rank_change_on_intel_item_delete{on_item}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS rank_log_change()")
        op.execute("DROP FUNCTION IF EXISTS rank_mark_full()")
    op.drop_table("rank_change")
    op.drop_column("rank_state", "as_of")
    op.drop_column("rank_state", "full_rerank")
    op.drop_index("ix_rank_queue_key", table_name="intel_rank")
    op.drop_column("intel_rank", "queue_key")
    op.add_column("intel_rank", sa.Column("position_weight", sa.Float(), nullable=True))
    op.add_column("intel_rank", sa.Column("queue_position", sa.Integer(), nullable=True))
    op.create_index("ix_rank_queue_position", "intel_rank", ["bucket", "queue_position"])
    op.execute(sa.text("UPDATE rank_state SET dirty = :yes").bindparams(yes=True))
