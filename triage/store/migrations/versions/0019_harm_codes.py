"""The harm model's small inputs as one integer kept with the item (issue 17.4)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

``intel_item.harm_codes``: the harm flags' bit set, the three yes/no inputs
(campaign, business named, EM case) and the codes of seven categories,
packed as ``triage.store.item_values.HARM_CODES`` lays them out. Harm scoring reads this one column instead of evaluating a
CASE per category for every item. Existing rows are filled here by SQL,
written out at this revision (not imported from ``store.item_values``, so a
later change to the layout comes with its own migration and cannot change
what upgrading through 0019 wrote; tests/store/test_harm_codes.py holds this
copy to the live one). NULL stays allowed: the harm score computes the same
codes in SQL for a row without them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# item_values.harm_codes_sql("") at this revision.
HARM_CODES_SQL = (
    '(((coalesce(harm_flag_bits, 0) & 255) << 0) + ((CASE'
    " WHEN campaign IS NOT NULL AND campaign != '' THEN 1 ELSE 0 END) << 8) + ((CASE"
    " WHEN business_name IS NOT NULL AND trim(business_name) != '' THEN 1 ELSE 0 END) << 9)"
    ' + ((CASE WHEN em_case_id IS NOT NULL THEN 1 ELSE 0 END) << 10) + ((CASE'
    " WHEN source_type IS NULL THEN 0 WHEN source_type = 'public' THEN 1"
    " WHEN source_type = 'police' THEN 2 WHEN source_type = 'partner' THEN 3"
    " WHEN source_type = 'internal' THEN 4 WHEN source_type = 'other' THEN 5"
    " WHEN source_type = 'unknown' THEN 6 ELSE 7 END) << 11) + ((CASE"
    " WHEN whereabouts IS NULL THEN 0 WHEN whereabouts = 'known' THEN 1"
    " WHEN whereabouts = 'last_known' THEN 2"
    " WHEN whereabouts = 'unknown' THEN 3 ELSE 4 END) << 14) + ((CASE"
    " WHEN allegation IS NULL THEN 0 WHEN allegation = 'illegal_working' THEN 1"
    " WHEN allegation = 'overstayer' THEN 2"
    " WHEN allegation = 'clandestine_entry' THEN 3"
    " WHEN allegation = 'sham_marriage' THEN 4"
    " WHEN allegation = 'document_fraud' THEN 5 WHEN allegation = 'fno' THEN 6"
    " WHEN allegation = 'modern_slavery' THEN 7 WHEN allegation = 'other' THEN 8"
    " WHEN allegation = 'unknown' THEN 9 ELSE 10 END) << 17) + ((CASE"
    " WHEN grade_intel IS NULL THEN 0 WHEN grade_intel = 'A' THEN 1"
    " WHEN grade_intel = 'B' THEN 2 WHEN grade_intel = 'C' THEN 3"
    " WHEN grade_intel = 'D' THEN 4 WHEN grade_intel = 'E' THEN 5"
    " WHEN grade_intel = 'unknown' THEN 6 ELSE 7 END) << 21) + ((CASE"
    " WHEN grade_handling IS NULL THEN 0 WHEN grade_handling = 'P' THEN 1"
    " WHEN grade_handling = 'C' THEN 2"
    " WHEN grade_handling = 'unknown' THEN 3 ELSE 4 END) << 24) + ((CASE"
    ' WHEN subject_named IS NULL THEN 0 WHEN subject_named THEN 2 ELSE 1 END) << 27)'
    ' + ((CASE WHEN passed_within_48h IS NULL THEN 0'
    ' WHEN passed_within_48h = 0 THEN 1'
    ' WHEN passed_within_48h = 1 THEN 2 ELSE 3 END) << 29))'
)


def upgrade() -> None:
    op.add_column("intel_item", sa.Column("harm_codes", sa.Integer(), nullable=True))
    op.execute(f"UPDATE intel_item SET harm_codes = {HARM_CODES_SQL}")


def downgrade() -> None:
    op.drop_column("intel_item", "harm_codes")
