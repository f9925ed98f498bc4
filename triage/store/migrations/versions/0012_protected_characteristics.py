"""EM cases: optional protected characteristics for breach-trend monitoring (issue 19.3)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

Ethnicity, religion or belief and sexual orientation, as recorded upstream,
stored apart by name (``pc_``) beside gender. Reported only in aggregate
(``triage.stats.breaches``); nothing ranks on them. Added in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("pc_ethnicity", "pc_religion", "pc_sexual_orientation")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("em_case", sa.Column(name, sa.String(length=64), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("em_case", name)
