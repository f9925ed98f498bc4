"""audit log is append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

from triage.store import dialect

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect.create_append_only_triggers(op.get_bind())


def downgrade() -> None:
    dialect.drop_append_only_triggers(op.get_bind())
