"""Enumerated CHECKs as an OR of equalities (issue 17.2, 17.3a)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

Every enumerated CHECK was written ``x IS NULL OR (instr(x, ',') = 0 AND
instr(',a,b,', ',' || x || ',') > 0)``; it becomes ``x IS NULL OR x = 'a'
OR x = 'b'`` (``models._in``), which SQLite evaluates without building a
string per row: about 15% of a bulk import's SQLite work went to them.

The allowed values are read from each CHECK in the database itself, so the
new constraint accepts exactly what the old one did: a text without a comma
is inside ``,a,b,`` between two commas only when it is one of the values,
and a text with a comma was refused by both. No stored row can fail it.

SQLite: the table's schema text is edited in place, as
``triage.store.schema_edit`` does for a widened CHECK (an equivalent CHECK
cannot invalidate a row, so the file's content, its indexes, triggers and
foreign keys stay as they are; no table is rebuilt, which takes constant
time on any size of database). PostgreSQL: each constraint is dropped and
added again under its name.

The new form is written out here, not imported from ``models``, so that
this revision does the same thing whatever a later one changes; the old one
is ``schema_edit.instr_check``, kept as it was for the earlier revisions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from triage.store.schema_edit import instr_check, write_table_sql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The CHECK text as 0001-0016 wrote it (``instr_check``).
INSTR_FORM = re.compile(
    r"(?P<column>\w+) IS NULL OR \(instr\((?P=column), ','\) = 0 "
    r"AND instr\('(?P<listed>,[^']*,)', ',' \|\| (?P=column) \|\| ','\) > 0\)"
)
# The CHECK text as this revision writes it (``models._in``).
EQUALITY_FORM = re.compile(
    r"(?P<column>\w+) IS NULL OR (?P<equalities>(?P=column) = '[^',]+'"
    r"(?: OR (?P=column) = '[^',]+')*)"
)


def as_equalities(column: str, values: list[str]) -> str:
    return f"{column} IS NULL OR " + " OR ".join(f"{column} = '{value}'" for value in values)


def _to_equalities(match: re.Match[str]) -> str:
    return as_equalities(match["column"], match["listed"].strip(",").split(","))


def _to_instr(match: re.Match[str]) -> str:
    return instr_check(match["column"], tuple(re.findall(r" = '([^']*)'", match["equalities"])))


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        _rewrite_sqlite(connection, INSTR_FORM, _to_equalities, "instr(")
    else:
        _rewrite_server(connection, upgrade=True)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        _rewrite_sqlite(connection, EQUALITY_FORM, _to_instr, None)
    else:
        _rewrite_server(connection, upgrade=False)


def _rewrite_sqlite(
    connection: sa.Connection,
    form: re.Pattern[str],
    rewrite: Callable[[re.Match[str]], str],
    leftover: str | None,
) -> None:
    tables = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '%CHECK%'"
    ).all()
    changed: dict[str, str] = {}
    for name, sql in tables:
        new_sql = form.sub(rewrite, str(sql))
        if leftover is not None and leftover in new_sql:
            raise RuntimeError(f"{name} has a CHECK this migration cannot read")
        if new_sql != sql:
            changed[str(name)] = new_sql
    if changed:
        write_table_sql(changed)


def _rewrite_server(connection: sa.Connection, upgrade: bool) -> None:
    """PostgreSQL: each CHECK in the old form, found by its definition, is
    dropped and added again in the new one."""
    checks = connection.execute(
        sa.text(
            "SELECT c.conrelid::regclass::text, c.conname, a.attname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'c' AND cardinality(c.conkey) = 1 "
            "AND c.connamespace = current_schema()::regnamespace ORDER BY 1, 2"
        )
    ).all()
    for row in checks:
        table, name, column, definition = (str(value) for value in row)
        if upgrade:
            found = re.search(r"instr\('(,[^']*,)'::text", definition)
            if found is None:
                continue
            check = as_equalities(column, found[1].strip(",").split(","))
        else:
            # PostgreSQL's rendering of models._in: CHECK (((x IS NULL) OR
            # ((x)::text = 'a'::text) OR ...)); no other CHECK has that shape.
            equality = rf"\(\({column}\)::text = '[^',]+'::text\)"
            shape = rf"CHECK \(\(\({column} IS NULL\)(?: OR {equality})+\)\)"
            if not re.fullmatch(shape, definition):
                continue
            values = re.findall(rf"\({column}\)::text = '([^']*)'::text", definition)
            check = instr_check(column, tuple(values))
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, check)
