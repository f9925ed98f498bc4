"""intelligence items: a 'closed' status with when and why (issue 19.10)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

An item made by the EM bridge closes when its case is back in contact: it
leaves the queue without a tasking decision. ``closed_at`` and
``closed_reason`` are added in place. The status CHECK gains 'closed'.

SQLite cannot alter a CHECK, and rebuilding ``intel_item`` would drop the
table that outcomes, notes and ranks refer to (with foreign keys on, which
they are inside the migration's transaction). Widening a CHECK is a change
no stored row can violate, which SQLite documents as safe to make by
editing the table's schema text (https://www.sqlite.org/lang_altertable.html,
"Making Other Kinds Of Table Schema Changes": writable_schema, then a new
schema_version). Other databases drop and re-create the constraint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.models import _in

revision = "0008"
down_revision = "0007"
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
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        op.drop_constraint("status_known", "intel_item", type_="check")
        op.create_check_constraint("status_known", "intel_item", _in("status", new))
        return
    before, after = _in("status", old), _in("status", new)
    schema = sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'intel_item'")
    sql: str = connection.execute(schema).scalar_one()
    if sql.count(before) != 1:
        raise RuntimeError("intel_item's status CHECK is not the one this migration expects")
    version: int = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        connection.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'intel_item'"
            ),
            {"sql": sql.replace(before, after)},
        )
        connection.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    finally:
        connection.exec_driver_sql("PRAGMA writable_schema=OFF")
