"""Per-item values computed once, when the item is written (issue 17.3, 17.4)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

``intel_item`` gains ``received_uk_day``, ``passed_within_48h``,
``sector_key`` and ``harm_flag_bits`` (``triage.store.item_values`` says
what each holds): statistics and harm scoring read them instead of
computing them per item on every report and score. Existing rows are filled
here: on SQLite by the same Python functions the write paths call
(registered as SQL functions for this one UPDATE), on PostgreSQL by the
same computation in SQL (its own time-zone data for the UK day).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from triage import vocab
from triage.store import dialect, item_values

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = (
    ("received_uk_day", sa.Integer()),
    ("passed_within_48h", sa.SmallInteger()),
    ("sector_key", sa.String(length=32)),
    ("harm_flag_bits", sa.Integer()),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("intel_item", sa.Column(name, type_, nullable=True))
    connection = op.get_bind()
    if dialect.is_postgres(connection):
        _fill_postgres()
    else:
        _fill_sqlite(connection)


def _fill_sqlite(connection: sa.Connection) -> None:
    def instant(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text)

    functions = {
        "triage_uk_day": (1, lambda r: item_values.received_uk_day(instant(r))),  # type: ignore[arg-type]
        "triage_within_48h": (
            2,
            lambda r, p: item_values.passed_within_48h(instant(r), instant(p)),  # type: ignore[arg-type]
        ),
        "triage_sector_key": (1, item_values.sector_key),
        "triage_flag_bits": (1, item_values.harm_flag_bits),
    }
    driver = connection.connection.driver_connection
    for name, (arity, function) in functions.items():
        driver.create_function(name, arity, function, deterministic=True)  # type: ignore[union-attr]
    op.execute(
        "UPDATE intel_item SET received_uk_day = triage_uk_day(received_at), "
        "passed_within_48h = triage_within_48h(received_at, passed_at), "
        "sector_key = triage_sector_key(sector), harm_flag_bits = triage_flag_bits(harm_flags)"
    )


def _fill_postgres() -> None:
    flags = " + ".join(
        f"CASE WHEN strpos(harm_flags, ';{flag};') > 0 THEN {1 << bit} ELSE 0 END"
        for bit, flag in enumerate(vocab.HARM_FLAGS)
    )
    op.execute(
        "UPDATE intel_item SET "
        "received_uk_day = CAST(timezone('Europe/London', timezone('UTC', received_at)) AS date)"
        " - DATE '1970-01-01', "
        "passed_within_48h = CASE WHEN passed_at IS NULL THEN NULL "
        "WHEN passed_at - received_at <= interval '48 hours' THEN 1 ELSE 0 END, "
        "sector_key = translate(trim(' ' FROM sector), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
        "'abcdefghijklmnopqrstuvwxyz'), "
        f"harm_flag_bits = CASE WHEN harm_flags IS NULL THEN NULL ELSE {flags} END"
    )


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("intel_item", name)
