"""The audit log's entity_id holds any record's key

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

An import's update is audited under its record's key: an outcome's is its
intel id and meeting date (up to 75 characters), a service level's its
measure and month (up to 168). ``audit_log.entity_id`` was VARCHAR(64):
PostgreSQL refused a longer one, and with that entry the whole import
("the database cannot be used"). It becomes TEXT.

SQLite never held a text to its declared width, and VARCHAR and TEXT give a
column the same affinity: its schema text is edited in place
(``schema_edit.replace_table_text``), nothing stored changes and nothing is
rebuilt. PostgreSQL: the column's type is altered (varchar to text rewrites
neither the table nor its index).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.schema_edit import replace_table_text

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NARROW = "entity_id VARCHAR(64) NOT NULL"
WIDE = "entity_id TEXT NOT NULL"


def upgrade() -> None:
    _retype(NARROW, WIDE, sa.String(length=64), sa.Text())


def downgrade() -> None:
    _retype(WIDE, NARROW, sa.Text(), sa.String(length=64))


def _retype(before: str, after: str, old: sa.types.TypeEngine[str], new: sa.types.TypeEngine[str]) -> None:
    """``entity_id`` from ``old`` to ``new``; SQLite: its schema text from
    ``before`` to ``after``."""
    if op.get_bind().dialect.name == "sqlite":
        replace_table_text("audit_log", before, after, "entity_id column")
        return
    op.alter_column("audit_log", "entity_id", type_=new, existing_type=old, existing_nullable=False)
