"""The per-item values kept with an intelligence item, against the SQL that
computed them per row before migration 0016 (store, sync tests)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from triage import vocab
from triage.stats.period import column_span, local_date_sql
from triage.store import dialect


def old_way(connection: Connection) -> list[tuple]:
    """Each item's values as the statistics and harm queries computed them
    per row before migration 0016 (a frozen copy of their SQL)."""
    first, last = column_span(connection, "intel_item", "received_at")
    day = local_date_sql(connection, "received_at", first, last)
    within = dialect.at_most_seconds_apart(connection, "received_at", "passed_at", 172800)
    flags = " + ".join(
        f"CASE WHEN instr(harm_flags, ';{flag};') > 0 THEN {1 << bit} ELSE 0 END"
        for bit, flag in enumerate(vocab.HARM_FLAGS)
    )
    return connection.execute(
        text(
            f"SELECT id, CAST(julianday({day}) - 2440587.5 AS INTEGER), "
            f"CASE WHEN passed_at IS NULL THEN NULL WHEN {within} THEN 1 ELSE 0 END, "
            "lower(trim(sector)), "
            f"CASE WHEN harm_flags IS NULL THEN NULL ELSE {flags} END "
            "FROM intel_item ORDER BY id"
        )
    ).all()


def stored(connection: Connection) -> list[tuple]:
    return connection.execute(
        text(
            "SELECT id, received_uk_day, passed_within_48h, sector_key, harm_flag_bits "
            "FROM intel_item ORDER BY id"
        )
    ).all()


def assert_kept_right(db) -> int:
    """Every item's stored values are the old way's; the number of items."""
    with db.engine.connect() as connection:
        kept = [tuple(row) for row in stored(connection)]
        assert kept == [tuple(row) for row in old_way(connection)]
    assert all(day is not None for _, day, *_ in kept)
    return len(kept)
