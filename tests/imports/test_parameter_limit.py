"""Every look-up of a chunk's keys keeps within the store's limit on one
statement's parameters: a SQLite build may allow 999 (sqlcipher3's is taken
as 999), while a chunk holds 5,000 rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from actors import EVERYONE
from sqlalchemy import event, func, select

from triage.imports import importer
from triage.imports.importer import import_file
from triage.store.models import EmCase, EmEvent, IntelItem, QuarantinedRow, TaskingOutcome

pytestmark = pytest.mark.sqlite_only("about a SQLite build's limit on parameters")

ROWS = 2500  # more than twice the limit, in one chunk


def limited_to_999(db) -> None:
    """Every connection of ``db`` from now on allows 999 parameters a statement."""

    def limit(dbapi_connection, _record):
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)

    event.listen(db.engine, "connect", limit)
    db.engine.dispose()  # the pool's connections were made without it


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def count(db, model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_every_kind_imports_in_parts_where_a_statement_takes_999_parameters(db, tmp_path):
    limited_to_999(db)
    with db.transaction() as session:
        connection = session.connection()
        raw = connection.connection.dbapi_connection
        assert raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) == 999
        assert importer._in_list_size(connection) == 999

    def twice(kind: str, header: str, rows, changed) -> None:
        """A first load, then the same keys again with every other row changed."""
        first = import_file(
            db, kind, write(tmp_path / f"{kind}.csv", header, rows(0)), actor=EVERYONE
        )
        assert (first.inserted, first.quarantined) == (ROWS, 0)
        again = import_file(
            db, kind, write(tmp_path / f"{kind}-2.csv", header, rows(1)), actor=EVERYONE
        )
        assert (again.inserted, again.updated, again.unchanged) == (0, changed, ROWS - changed)

    twice(
        "em-cases",
        "case_id,region,sentence_months",
        lambda v: [f"EM-{n},LSE,{n % 2 * v + 12}" for n in range(ROWS)],
        ROWS // 2,
    )
    twice(
        "em-events",
        "event_id,case_id,event_type,started_at,notes",
        lambda v: [f"E-{n},EM-{n},battery,2026-11-01T01:00,{n % 2 * v}" for n in range(ROWS)],
        ROWS // 2,
    )
    twice(
        "intel",
        "intel_id,received_at,region,summary",
        lambda v: [f"I-{n},2026-07-01T10:00,LSE,{n % 2 * v}" for n in range(ROWS)],
        ROWS // 2,
    )
    twice(
        "outcomes",
        "intel_id,meeting_date,decision,decided_by",
        lambda v: [f"I-{n},2026-07-06,not_discussed,TL {n % 2 * v}" for n in range(ROWS)],
        ROWS // 2,
    )
    assert [count(db, m) for m in (EmCase, EmEvent, IntelItem, TaskingOutcome)] == [ROWS] * 4
    with db.transaction() as session:
        # Every item's status and carry-overs were refreshed, in parts.
        assert session.scalar(select(func.sum(IntelItem.carry_over_count))) == ROWS

    # Over 999 bad rows in one chunk, twice: the second time each is found
    # already in the quarantine (looked up by line, in parts), not listed again.
    unknown = write(
        tmp_path / "unknown.csv",
        "intel_id,meeting_date,decision",
        [f"NO-{n},2026-07-06,accepted" for n in range(ROWS)] + ["I-1,2026-07-13,accepted"],
    )
    for _ in range(2):
        result = import_file(db, "outcomes", unknown, actor=EVERYONE)
        assert (result.inserted + result.unchanged, result.quarantined) == (1, ROWS)
    assert count(db, QuarantinedRow) == ROWS
