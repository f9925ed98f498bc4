"""The per-item values kept with an intelligence item, against the SQL that
computed them per row before migration 0016 (store, sync tests)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from triage import vocab
from triage.stats.period import column_span, local_date_sql
from triage.store import dialect, item_values


def _at_most_48h_apart(connection: Connection, start: str, end: str) -> str:
    """SQL true when the naive-UTC timestamp ``end`` is at most 48 hours after
    ``start``, microseconds counted (what ``dialect.at_most_seconds_apart``
    wrote for statistics before 0016). SQLite: ``start``'s whole seconds plus
    48 hours with its own fraction put back, compared as text with ``end``
    (SQLite rounds a time's fraction to milliseconds when it reads one)."""
    if dialect.is_postgres(connection):
        return f"({end} - {start} <= interval '172800 seconds')"
    return (
        f"({end} <= (datetime(substr({start}, 1, 19), '+172800 seconds') || substr({start}, 20)))"
    )


def old_way(connection: Connection) -> list[tuple]:
    """Each item's values as the statistics and harm queries computed them
    per row before migration 0016 (their SQL; the UK day through
    ``stats.period.local_date_sql``, which the EM statistics still use)."""
    first, last = column_span(connection, "intel_item", "received_at")
    day = local_date_sql(connection, "received_at", first, last)
    within = _at_most_48h_apart(connection, "received_at", "passed_at")
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


def harm_codes(connection: Connection) -> list[tuple]:
    """Each item's (id, stored harm_codes, the same computed by SQL from its columns)."""
    return connection.execute(
        text(f"SELECT id, harm_codes, {item_values.harm_codes_sql()} FROM intel_item ORDER BY id")
    ).all()


def assert_kept_right(db, *, codes_may_be_null: bool = False) -> int:
    """Every item's stored values are the old way's, and its harm codes are
    the SQL's (or NULL, where a writer may leave them); the number of items."""
    with db.engine.connect() as connection:
        kept = [tuple(row) for row in stored(connection)]
        assert kept == [tuple(row) for row in old_way(connection)]
        codes = harm_codes(connection)
    assert all(day is not None for _, day, *_ in kept)
    assert [c for c in codes if c[1] != c[2] and not (codes_may_be_null and c[1] is None)] == []
    return len(kept)
