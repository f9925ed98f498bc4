"""audit log hash chain: each entry carries its predecessor's hash and its own

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store import dialect
from triage.store.audit import GENESIS, stored_hash, stored_text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

def upgrade() -> None:
    # ADD COLUMN, not a batch copy: the copy would drop the triggers.
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(length=64), nullable=True))
    # Chain the entries already there, in id order. The triggers refuse the
    # UPDATE, so they are lifted for it, inside this migration's transaction.
    connection = op.get_bind()
    dialect.drop_append_only_triggers(connection)
    previous = GENESIS
    rows = connection.exec_driver_sql(
        "SELECT id, at, who, action, entity, entity_id, field, old_value, new_value, batch_id "
        "FROM audit_log ORDER BY id"
    ).all()
    chained = []
    for row in rows:
        own = stored_hash([*stored_text(row), previous])
        chained.append((previous, own, row[0]))
        previous = own
    if chained:
        connection.execute(
            sa.text("UPDATE audit_log SET prev_hash = :prev, entry_hash = :own WHERE id = :id"),
            [{"prev": prev, "own": own, "id": id_} for prev, own, id_ in chained],
        )
    dialect.create_append_only_triggers(connection)


def downgrade() -> None:
    connection = op.get_bind()
    dialect.drop_append_only_triggers(connection)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
    dialect.create_append_only_triggers(connection)
