"""EM cases: induction_status, a canonical column (issue 19.7)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Figure 5 counts people awaiting a device by where their induction stands.
The value used to arrive as an unknown extract column, kept in the case's
``extra`` record; it is now a column of its own with its allowed values
checked. Values already in ``extra`` move to the column (and out of
``extra``) when they are one of those values; any other text stays in
``extra`` untouched, as the importer keeps columns it cannot read.

The column is added in place (ALTER TABLE ADD COLUMN, with its CHECK
written inline): rebuilding ``em_case`` would mean dropping a table other
tables refer to.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from alembic import op

from triage import vocab
from triage.store.schema_edit import instr_check

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_CASES = sa.table(
    "em_case",
    sa.column("id", sa.Integer()),
    sa.column("extra", sa.JSON()),
    sa.column("induction_status", sa.String()),
)


def upgrade() -> None:
    check = instr_check("induction_status", vocab.INDUCTION_STATUSES)
    op.execute(
        "ALTER TABLE em_case ADD COLUMN induction_status VARCHAR(24) "
        f"CONSTRAINT induction_status_known CHECK ({check})"
    )
    connection = op.get_bind()
    moved = []
    for case_id, stored in connection.execute(
        sa.select(_CASES.c.id, _CASES.c.extra).where(_CASES.c.extra.is_not(None))
    ):
        extra = cast(dict[str, Any], stored)
        # Column names in extra are as the file wrote them (any case).
        key = next((k for k in extra if k.strip().casefold() == "induction_status"), None)
        value = str(extra[key]).strip().casefold() if key is not None else ""
        if value in vocab.INDUCTION_STATUSES:
            rest = {k: v for k, v in extra.items() if k != key} or None
            moved.append({"case": case_id, "status": value, "rest": rest})
    if moved:
        connection.execute(
            sa.update(_CASES)
            .where(_CASES.c.id == sa.bindparam("case"))
            .values(induction_status=sa.bindparam("status"), extra=sa.bindparam("rest")),
            moved,
        )


def downgrade() -> None:
    connection = op.get_bind()
    back = [
        {"case": case_id, "rest": dict(cast(dict[str, Any], extra or {}), induction_status=status)}
        for case_id, status, extra in connection.execute(
            sa.select(_CASES.c.id, _CASES.c.induction_status, _CASES.c.extra).where(
                _CASES.c.induction_status.is_not(None)
            )
        )
    ]
    if back:
        connection.execute(
            sa.update(_CASES).where(_CASES.c.id == sa.bindparam("case")).values(
                extra=sa.bindparam("rest")
            ),
            back,
        )
    # In place too (SQLite 3.35+): the inline CHECK goes with the column.
    op.drop_column("em_case", "induction_status")
