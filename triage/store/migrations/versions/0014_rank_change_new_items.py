"""PostgreSQL: new intelligence items are logged in ``rank_change``

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

The ranking finds an item with no rank yet by its id being past the newest
ranked one. On SQLite that holds: one writer at a time, so ids are committed
in order. On PostgreSQL two imports take ids from one sequence and may commit
in the other order: an item whose import committed after a ranking that had
already ranked a higher id would stay unranked (out of the queue) until the
next full ranking. Logged by a statement trigger in the same transaction,
such an item becomes visible to the ranking together with its log entry.
SQLite keeps "an import pays no trigger".
"""

from __future__ import annotations

from alembic import op

from triage.store import dialect

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not dialect.is_postgres(op.get_bind()):
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION rank_log_new_items() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO rank_change (item_id) SELECT id FROM added; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER rank_change_on_intel_item_insert AFTER INSERT ON intel_item "
        "REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION rank_log_new_items()"
    )


def downgrade() -> None:
    if not dialect.is_postgres(op.get_bind()):
        return
    op.execute("DROP TRIGGER IF EXISTS rank_change_on_intel_item_insert ON intel_item")
    op.execute("DROP FUNCTION IF EXISTS rank_log_new_items()")
