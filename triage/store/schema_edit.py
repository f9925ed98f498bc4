"""Widening an enumerated CHECK in a migration, for SQLite and the rest (used by
the migrations in versions/; here, not beside them, so that packaged builds
have it: PyInstaller collects triage.store but reads migrations from disk).

SQLite cannot alter a CHECK, and rebuilding a table that others refer to
inside the migration's transaction (foreign keys on) would drop it under
them. Widening a CHECK (more allowed values) cannot invalidate a stored row,
which SQLite documents as safe to make by editing the table's schema text
(https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
Schema Changes": writable_schema, then a new schema_version). Other
databases drop and re-create the named constraint.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from triage.store.tables import _in


def instr_check(column: str, values: tuple[str, ...]) -> str:
    """An enumerated CHECK as written up to revision 0016 (0017 rewrites every
    one of them as ``models._in`` writes it): the migrations before 0017 must
    keep producing, and finding, this text."""
    listed = "," + ",".join(values) + ","
    return (
        f"{column} IS NULL OR (instr({column}, ',') = 0 "
        f"AND instr('{listed}', ',' || {column} || ',') > 0)"
    )


def replace_values_check(
    table: str,
    column: str,
    name: str,
    old: tuple[str, ...],
    new: tuple[str, ...],
    check: Callable[[str, tuple[str, ...]], str] = _in,
) -> None:
    """Make ``table``'s CHECK ``name`` on ``column`` allow ``new`` instead of
    ``old``, both written by ``check`` (the form at the calling revision)."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, check(column, new))
        return
    replace_table_text(table, check(column, old), check(column, new), f"{name} CHECK")


def replace_table_text(table: str, before: str, after: str, what: str) -> None:
    """SQLite: replace ``before`` (``what``, named if it is not found once)
    with ``after`` in ``table``'s schema text, in place. Only for a change
    that cannot invalidate a stored row or change how one is read."""
    connection = op.get_bind()
    schema = sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :table")
    sql: str = connection.execute(schema, {"table": table}).scalar_one()
    if sql.count(before) != 1:
        raise RuntimeError(f"{table}'s {what} is not the one this migration expects")
    write_table_sql({table: sql.replace(before, after)})


def write_table_sql(tables: dict[str, str]) -> None:
    """SQLite: store each table's new schema text (``tables``: name -> its
    CREATE TABLE) in place, one new schema_version for them all. Only for a
    change that cannot invalidate a stored row or change how one is read."""
    connection = op.get_bind()
    store = sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :table")
    version: int = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        for table, sql in tables.items():
            connection.execute(store, {"sql": sql, "table": table})
        connection.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    finally:
        connection.exec_driver_sql("PRAGMA writable_schema=OFF")
