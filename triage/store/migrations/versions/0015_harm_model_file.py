"""The harm model's file travels with the database (issue 18.5)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

``harm_model_file`` holds each registered artefact's bytes, so another
client of a team server, or a pulled laptop, can load the model trained on
another machine. The registry row's SHA-256 stays the trust anchor: the bytes
are written out and loaded only when they hash to it (``triage.harm.scoring``).
Models registered before this revision have no stored bytes: they load only
where their file is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harm_model_file",
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["harm_model.id"]),
        sa.PrimaryKeyConstraint("model_id"),
    )


def downgrade() -> None:
    op.drop_table("harm_model_file")
