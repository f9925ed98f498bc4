"""local users with roles; the first user has every role and no password

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage import clock, vocab
from triage.users.accounts import first_user_name
from triage.users.roles import ALL_ROLES

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    # A new (or upgraded) database is a single-user laptop until an admin
    # adds someone: its first user may do everything and needs no password.
    name = first_user_name()
    op.bulk_insert(
        table,
        [
            {
                "name": name,
                "password_hash": None,
                "roles": vocab.join_list(list(ALL_ROLES)),
                "disabled": False,
                "created_at": clock.now(),
                "created_by": name,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("app_user")
