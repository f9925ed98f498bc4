"""the store knows when the stored ranking is stale

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

One row, ``rank_state``, and triggers that mark it dirty on any change to an
intelligence item or a harm model (what the ranking reads besides the rule
pack, the day and the model weight, which ``ranking.is_current`` compares).
Each trigger does its update only while the row is clean: a bulk import pays
one read of a one-row table per item, not a write (300,000 rows: no measurable
difference, against 3x slower with an unconditional counter).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store import dialect

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WATCHED = ("intel_item", "harm_model")


def upgrade() -> None:
    op.create_table(
        "rank_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("rules_version", sa.String(length=64), nullable=True),
        sa.Column("ranked_day", sa.Date(), nullable=True),
        sa.Column("position_weight", sa.Float(), nullable=True),
        sa.CheckConstraint("id = 1", name="one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    # Dirty from the start: an upgraded database's ranking is re-checked once.
    op.execute(sa.text("INSERT INTO rank_state (id, dirty) VALUES (1, :dirty)").bindparams(dirty=True))
    dialect.create_rank_stale_triggers(op.get_bind(), WATCHED)


def downgrade() -> None:
    dialect.drop_rank_stale_triggers(op.get_bind(), WATCHED)
    op.drop_table("rank_state")
