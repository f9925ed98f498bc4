"""Enumerated CHECKs (migration 0017): each refuses a value outside its
vocabulary and accepts every value in it, on both stores; the migration
changes nothing in a SQLite file but the CHECKs' text."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from itertools import count
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from triage.store.db import alembic_config, head_revision, open_database, schema_revision
from triage.store.schema import metadata
from triage.store.tables import _in

EQUALITIES = re.compile(r"(\w+) IS NULL OR (?:\1 = '[^']+'(?: OR |$))+")


def enumerated_checks() -> list[tuple[sa.Table, str, str, tuple[str, ...]]]:
    """(table, constraint name, column, allowed values) of every CHECK that
    ``models._in`` wrote, read back from the models."""
    found = []
    for table in metadata.sorted_tables:
        for constraint in table.constraints:
            if not isinstance(constraint, sa.CheckConstraint):
                continue
            text = str(constraint.sqltext)
            match = EQUALITIES.fullmatch(text)
            if match is None:
                continue
            column = match[1]
            values = tuple(re.findall(rf"{column} = '([^']+)'", text))
            assert text == _in(column, values)
            found.append((table, str(constraint.name), column, values))
    return found


CHECKS = enumerated_checks()


def test_the_enumerated_checks_are_found():
    tables = {table.name for table, *_ in CHECKS}
    assert {"intel_item", "em_case", "em_event", "import_batch", "em_review"} <= tables
    assert len([1 for table, *_ in CHECKS if table.name == "em_case"]) == 7


# Columns that another CHECK wants filled in a way of its own.
OTHER_CHECKED = {
    ("em_trail_request", "requester_org"): "police",
    ("tasking_outcome", "reason"): "a reason",  # rejection_has_reason
}


def _value(column: sa.Column[Any], serial: int, checks: dict[str, tuple[str, ...]]) -> object:
    if column.name in checks:
        return checks[column.name][0]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.Float):
        return 0.5
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 11, 20, 9)
    if isinstance(kind, sa.Date):
        return date(2026, 11, 20)
    if isinstance(kind, sa.JSON):
        return {}
    return f"v{serial}"


def _add_row(connection: sa.Connection, table: sa.Table, serial: count[int]) -> int:
    """A row of ``table`` with every required column filled (its required
    parents added first); its id."""
    return int(_add(connection, table, serial)["id"])


def _add(connection: sa.Connection, table: sa.Table, serial: count[int]) -> sa.RowMapping:
    checks = {column: values for t, _, column, values in CHECKS if t is table}
    row: dict[str, object] = {}
    for column in table.columns:
        if (table.name, column.name) in OTHER_CHECKED:
            row[column.name] = OTHER_CHECKED[table.name, column.name]
            continue
        if column.primary_key or column.nullable or column.default is not None:
            continue
        if column.server_default is not None:
            continue
        parents = list(column.foreign_keys)
        if parents:
            parent = parents[0].column
            row[column.name] = _add(connection, parent.table, serial)[parent.name]
        else:
            row[column.name] = _value(column, next(serial), checks)
    return connection.execute(sa.insert(table).values(row).returning(table)).mappings().one()


@pytest.mark.parametrize(
    ("table", "name", "column", "values"),
    CHECKS,
    ids=[f"{table.name}.{name}" for table, name, *_ in CHECKS],
)
def test_each_check_accepts_its_values_and_refuses_others(db, table, name, column, values):
    near = ["", "not_a_value", f"{values[0]},{values[-1]}", values[0].upper(), f" {values[0]}"]
    # Within the column's length: PostgreSQL refuses a longer text before any CHECK.
    bad = [value[: table.c[column].type.length] for value in near]
    assert not set(bad) & set(values)
    with db.engine.connect() as connection:
        row_id = _add_row(connection, table, count())
        where = table.c.id == row_id
        nullable = table.c[column].nullable
        for value in (*values, None) if nullable else values:
            connection.execute(sa.update(table).where(where).values({column: value}))
            stored = connection.execute(sa.select(table.c[column]).where(where)).scalar_one()
            assert stored == value
        for value in bad:
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(sa.update(table).where(where).values({column: value}))
        connection.rollback()


def _schema(connection: sa.Connection) -> list[tuple[str, str, str, str]]:
    rows = connection.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).all()
    return [(kind, name, table, sql or "") for kind, name, table, sql in rows]


def _without_checks(sql: str) -> str:
    """A table's schema text with each named CHECK's condition taken out."""
    out, at = [], 0
    for match in re.finditer(r"CHECK \(", sql):
        if match.start() < at:
            continue
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        out.append(sql[at : match.end()])
        at = end - 1
    return "".join(out) + sql[at:]


def _content(connection: sa.Connection, tables: list[str]) -> dict[str, tuple[int, str]]:
    digests = {}
    for table in tables:
        digest, rows = hashlib.sha256(), 0
        for row in connection.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY rowid'):
            digest.update(repr(tuple(row)).encode())
            rows += 1
        digests[table] = (rows, digest.hexdigest())
    return digests


@pytest.mark.sqlite_only("compares a SQLite file's schema text and pages")
def test_0017_keeps_data_indexes_triggers_and_keys(demo):
    database = open_database(demo)
    config = alembic_config(database.engine)
    command.downgrade(config, "0016")
    with database.engine.connect() as connection:
        before = _schema(connection)
        tables = [n for kind, n, _, _ in before if kind == "table" and n != "alembic_version"]
        content = _content(connection, tables)
    assert any("instr(" in sql for *_, sql in before)
    assert all(content[table][0] > 0 for table in ("intel_item", "em_case", "em_event"))

    command.upgrade(config, "0017")  # a later revision may change other tables
    assert schema_revision(database.engine) == "0017"
    with database.engine.connect() as connection:
        after = _schema(connection)
        assert _content(connection, tables) == content
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    database.close()

    assert [row[:3] for row in after] == [row[:3] for row in before]  # every index, trigger
    changed = [
        name for (_, name, _, old), (*_, new) in zip(before, after, strict=True) if old != new
    ]
    assert set(changed) == {table.name for table, *_ in CHECKS}
    for (_, _, _, old), (_, _, _, new) in zip(before, after, strict=True):
        assert _without_checks(old) == _without_checks(new)
        assert "instr(" not in new
    for table, name, column, values in CHECKS:
        table_sql = next(sql for kind, n, _, sql in after if kind == "table" and n == table.name)
        assert f"CONSTRAINT {name} CHECK ({_in(column, values)})" in table_sql


def _instr_checks(connection: sa.Connection) -> int:
    """How many enumerated CHECKs are in the instr() form."""
    if connection.dialect.name == "sqlite":
        schema = connection.exec_driver_sql("SELECT group_concat(sql) FROM sqlite_master")
        return str(schema.scalar_one()).count("instr(")
    definitions = connection.exec_driver_sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' "
        "AND connamespace = current_schema()::regnamespace"
    ).scalars()
    return sum(definition.count("instr(") for definition in definitions)


def test_0017_downgrades_and_upgrades(db):
    """Down to 0016 (the instr() form again) and up, on either store: the
    CHECKs refuse a bad value at each step."""
    config = alembic_config(db.engine)
    with db.engine.connect() as connection:
        case_id = _add_row(connection, metadata.tables["em_case"], count())
        connection.commit()
    cases = metadata.tables["em_case"]
    for revision in ("0016", "head"):
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
        with db.engine.connect() as connection:
            # Two instr() calls a CHECK before 0017, none after.
            assert _instr_checks(connection) == (2 * len(CHECKS) if revision == "0016" else 0)
            update = sa.update(cases).where(cases.c.id == case_id)
            connection.execute(update.values(device="none", em_status="ceased"))
            for bad in ({"device": "nonee"}, {"em_status": "active,ceased"}):
                with pytest.raises(IntegrityError), connection.begin_nested():
                    connection.execute(update.values(bad))
            connection.rollback()
    assert schema_revision(db.engine) == head_revision(db.engine)
