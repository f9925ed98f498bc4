"""intelligence items: a 'closed' status with when and why (issue 19.10)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

An item made by the EM bridge closes when its case is back in contact: it
leaves the queue without a tasking decision. ``closed_at`` and
``closed_reason`` are added in place. The status CHECK gains 'closed'.

SQLite cannot alter a CHECK, and rebuilding ``intel_item`` would drop the
table that outcomes, notes and ranks refer to (with foreign keys on, which
they are inside the migration's transaction): the CHECK is widened in place
(``triage.store.schema_edit``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.schema_edit import instr_check, replace_values_check

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BEFORE = ("open", "accepted", "rejected")
AFTER = ("open", "accepted", "rejected", "closed")


def upgrade() -> None:
    op.add_column("intel_item", sa.Column("closed_at", sa.DateTime(), nullable=True))
    op.add_column("intel_item", sa.Column("closed_reason", sa.Text(), nullable=True))
    _status_check(BEFORE, AFTER)


def downgrade() -> None:
    # Closed items go back to open: the status an undecided item had before.
    op.execute("UPDATE intel_item SET status = 'open' WHERE status = 'closed'")
    _status_check(AFTER, BEFORE)
    op.drop_column("intel_item", "closed_reason")
    op.drop_column("intel_item", "closed_at")


def _status_check(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    replace_values_check("intel_item", "status", "status_known", old, new, check=instr_check)
