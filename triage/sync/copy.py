"""``db copy``: every row of one database into a new one, on any backend,
with every table's row count checked before the copy is committed.

Rows keep their ids (the audit chain hashes them, and rows name each other
by them), so the audit log verifies on the copy as on the original. The
copy is one transaction on the target: a failure part-way leaves it empty.
Both databases' audit logs record it (``db.copy``), after the copied entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Integer, Table, delete, func, insert, select, text

from triage.jobs import Job, job_or_silent
from triage.store import audit, dialect
from triage.store.db import Database, schema_revision
from triage.store.dialect import NUL_SHOWN_AS
from triage.store.schema import metadata
from triage.sync.pull import server_name, snapshot
from triage.users import Action, Actor, require

ROWS_A_BATCH = 5000
# Tables the migrations fill in a new database: replaced by the source's rows.
SEEDED = ("app_user", "rank_state")
# Written last, emptied first: inserting items and models marks the ranking
# dirty (migration 0003's triggers) and, on PostgreSQL, logs each new item in
# the change log (0014); the copy must hold the source's values.
LAST = ("rank_change", "rank_state")


class CopyError(Exception):
    """A copy that cannot be made (an unusable target, counts that differ)."""


@dataclass
class CopyResult:
    source: str
    target: str
    schema_revision: str | None
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _tables() -> list[Table]:
    ordered = [t for t in metadata.sorted_tables if t.name not in LAST]
    return ordered + [metadata.tables[name] for name in LAST]


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def copy_database(
    source: Database, target: Database, *, actor: Actor, job: Job | None = None
) -> CopyResult:
    """Copy ``source`` into ``target``, a new database at the same schema
    holding nothing but what its migrations wrote. Admins only: the copy
    carries every user's password hash and the whole audit log."""
    require(source, actor, Action.MANAGE_USERS)
    job = job_or_silent(job)
    revision = schema_revision(source.engine)
    if schema_revision(target.engine) != revision:
        raise CopyError("the two databases are at different schema versions")
    result = CopyResult(server_name(source), server_name(target), revision)
    tables = _tables()
    storable = _without_nul if dialect.is_postgres(target.engine) else _as_read
    with snapshot(source.engine) as reading, target.engine.begin() as writing:
        for table in tables:
            if table.name not in SEEDED and _count(writing, table):
                raise CopyError(
                    f"{result.target} already holds data ({table.name}): copy into a new database"
                )
        for name in SEEDED:
            writing.execute(delete(metadata.tables[name]))
        for n, table in enumerate(tables):
            job.check()
            job.progress(n / len(tables), f"copying {table.name}")
            if table.name in LAST:
                writing.execute(delete(table))
            rows = reading.execution_options(stream_results=True).execute(select(table))
            for part in rows.mappings().partitions(ROWS_A_BATCH):
                writing.execute(insert(table), [storable(dict(row)) for row in part])
        _continue_ids(writing, tables)
        for table in tables:
            expected, copied = _count(reading, table), _count(writing, table)
            if expected != copied:
                raise CopyError(
                    f"{table.name}: {copied} rows copied of {expected}; nothing was kept"
                )
            result.tables[table.name] = copied
        # After the copied entries, so the chain goes on from the source's head.
        audit.record(
            writing, "db.copy", "database", "copy",
            new=f"copied from {result.source}: {result.rows} rows", who=actor.name,
        )  # fmt: skip
    with source.transaction() as session:
        audit.record(
            session, "db.copy", "database", "copy",
            new=f"copied to {result.target}: {result.rows} rows", who=actor.name,
        )  # fmt: skip
    job.progress(1.0, "copied")
    return result


def _as_read(row: dict[str, Any]) -> dict[str, Any]:
    return row


def _without_nul(row: dict[str, Any]) -> dict[str, Any]:
    """A row PostgreSQL's text can hold: a NUL in text shows as U+2400, as the
    importer now writes a quarantined line's text (a SQLite database made
    before it may hold the NUL itself; the row's JSON cells keep it)."""
    return {
        key: value.replace("\x00", NUL_SHOWN_AS) if isinstance(value, str) else value
        for key, value in row.items()
    }


def _continue_ids(connection: Connection, tables: list[Table]) -> None:
    """New rows must get ids after the copied ones. SQLite takes the largest
    id plus one by itself; PostgreSQL's sequences must be moved past them."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer) or not key[0].autoincrement:
            continue
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"coalesce((SELECT max({key[0].name}) FROM {table.name}), 0) + 1, false)"
            ),
            {"table": table.name, "column": key[0].name},
        )
