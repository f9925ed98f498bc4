"""laptops offline: the copies pulled from a server, their row links and pulled states

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_copy",
        sa.Column("origin", sa.String(length=36), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("server", sa.Text(), nullable=False),
        sa.Column("pulled_at", sa.DateTime(), nullable=False),
        sa.Column("pulled_by", sa.String(length=128), nullable=False),
        sa.Column("pushed_at", sa.DateTime(), nullable=True),
        sa.Column("pack_version", sa.String(length=64), nullable=True),
        sa.CheckConstraint("side IN ('server', 'laptop')", name="side_known"),
        sa.PrimaryKeyConstraint("origin", "side"),
    )
    op.create_table(
        "sync_link",
        sa.Column("origin", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=48), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("pulled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("origin", "table_name", "local_id"),
    )
    op.create_table(
        "sync_owner",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("pulled_digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )


def downgrade() -> None:
    op.drop_table("sync_owner")
    op.drop_table("sync_link")
    op.drop_table("sync_copy")
