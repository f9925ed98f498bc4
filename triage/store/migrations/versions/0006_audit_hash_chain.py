"""audit log hash chain: each entry carries its predecessor's hash and its own

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.audit import GENESIS, stored_hash

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TRIGGER = """
CREATE TRIGGER audit_log_no_{verb_lower}
BEFORE {verb} ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END
"""


def upgrade() -> None:
    # ADD COLUMN, not a batch copy: the copy would drop the triggers.
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(length=64), nullable=True))
    # Chain the entries already there, in id order. The triggers refuse the
    # UPDATE, so they are lifted for it, inside this migration's transaction.
    connection = op.get_bind()
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb}")
    previous = GENESIS
    rows = connection.exec_driver_sql(
        "SELECT id, at, who, action, entity, entity_id, field, old_value, new_value, batch_id "
        "FROM audit_log ORDER BY id"
    ).all()
    chained = []
    for row in rows:
        own = stored_hash([*row, previous])
        chained.append((previous, own, row[0]))
        previous = own
    if chained:
        connection.exec_driver_sql(
            "UPDATE audit_log SET prev_hash = ?, entry_hash = ? WHERE id = ?", chained
        )
    for verb in ("UPDATE", "DELETE"):
        op.execute(_TRIGGER.format(verb=verb, verb_lower=verb.lower()))


def downgrade() -> None:
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb}")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
    for verb in ("UPDATE", "DELETE"):
        op.execute(_TRIGGER.format(verb=verb, verb_lower=verb.lower()))
