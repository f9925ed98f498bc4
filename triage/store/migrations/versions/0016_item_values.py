"""Per-item values computed once, when the item is written (issue 17.3, 17.4)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

``intel_item`` gains ``received_uk_day``, ``passed_within_48h``,
``sector_key`` and ``harm_flag_bits`` (``triage.store.item_values`` says
what each holds): statistics and harm scoring read them instead of
computing them per item on every report and score. Existing rows are filled
here: on SQLite by Python functions registered as SQL functions for this
one UPDATE, on PostgreSQL by the same computation in SQL (its own time-zone
data for the UK day).

The computation is written out here, with the harm flags as they were at
this revision, not imported from ``store.item_values`` and ``vocab``: a
later change to those must come with its own migration that refills the
columns, and must not change silently what upgrading through 0016 wrote.
(tests/store/test_item_values.py holds this copy to the live one.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from triage.store import dialect

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
# vocab.HARM_FLAGS at this revision: bit n of harm_flag_bits is HARM_FLAGS[n].
HARM_FLAGS = (
    "weapon",
    "fno",
    "violence",
    "exploitation",
    "child_at_risk",
    "vulnerable_adult",
    "organised_crime",
    "drugs",
)
LONDON = ZoneInfo("Europe/London")
EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# SQLite's lower() changes ASCII letters only (no ICU); so does the key.
ASCII_LOWER = str.maketrans(ASCII_UPPER, ASCII_UPPER.lower())


def uk_day(received_at: str) -> int:
    """Days from 1970-01-01 to the UK date of a stored naive-UTC instant."""
    moment = datetime.fromisoformat(received_at)
    # Since 1848 London has been 0 to 2 hours ahead of UTC, never behind:
    # before 22:00 UTC its date is the UTC date (no time-zone look-up).
    if moment.hour >= 22 or moment.year < 1848:
        moment = moment.replace(tzinfo=UTC).astimezone(LONDON)
    return moment.toordinal() - EPOCH_ORDINAL


def within_48h(received_at: str, passed_at: str | None) -> int | None:
    """1 when passed on at most 48 hours (to the microsecond) after receipt."""
    if passed_at is None:
        return None
    delay = datetime.fromisoformat(passed_at) - datetime.fromisoformat(received_at)
    return 1 if delay <= timedelta(hours=48) else 0


def sector_key(sector: str | None) -> str | None:
    return None if sector is None else sector.strip(" ").translate(ASCII_LOWER)


def flag_bits(harm_flags: str | None) -> int | None:
    """The bit set of a stored ';a;b;' flag list."""
    if harm_flags is None:
        return None
    return sum(1 << bit for bit, flag in enumerate(HARM_FLAGS) if f";{flag};" in harm_flags)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("intel_item", sa.Column(name, type_, nullable=True))
    connection = op.get_bind()
    if dialect.is_postgres(connection):
        _fill_postgres()
    else:
        _fill_sqlite(connection)


def _fill_sqlite(connection: sa.Connection) -> None:
    functions = {
        "triage_uk_day": (1, uk_day),
        "triage_within_48h": (2, within_48h),
        "triage_sector_key": (1, sector_key),
        "triage_flag_bits": (1, flag_bits),
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
        for bit, flag in enumerate(HARM_FLAGS)
    )
    op.execute(
        "UPDATE intel_item SET "
        "received_uk_day = CAST(timezone('Europe/London', timezone('UTC', received_at)) AS date)"
        " - DATE '1970-01-01', "
        "passed_within_48h = CASE WHEN passed_at IS NULL THEN NULL "
        "WHEN passed_at - received_at <= interval '48 hours' THEN 1 ELSE 0 END, "
        f"sector_key = translate(trim(' ' FROM sector), '{ASCII_UPPER}', "
        f"'{ASCII_UPPER.lower()}'), "
        f"harm_flag_bits = CASE WHEN harm_flags IS NULL THEN NULL ELSE {flags} END"
    )


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("intel_item", name)
