"""Migration 0018: the audit log's entity_id is text, on both stores, and
upgrading changes nothing stored."""

from __future__ import annotations

import pytest
from actors import EVERYONE
from alembic import command
from sqlalchemy import inspect

from triage.store import audit
from triage.store.db import alembic_config, open_database
from triage.users import auditing


def _entity_id_type(connection) -> str:
    (column,) = [
        c for c in inspect(connection).get_columns("audit_log") if c["name"] == "entity_id"
    ]
    return str(column["type"])


def test_0018_makes_entity_id_text_and_back(db):
    config = alembic_config(db.engine)
    for revision, expected in (("0017", "VARCHAR(64)"), ("head", "TEXT")):
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
        with db.engine.connect() as connection:
            assert _entity_id_type(connection) == expected
    with db.transaction() as session:  # longer than the 64 characters it was
        audit.record(session, "test", "em_service_level", "M" * 160 + "|2021-10", who="t")
    assert auditing.verify(db, actor=EVERYONE).ok


@pytest.mark.sqlite_only("compares a SQLite file's schema text and pages")
def test_0018_keeps_every_row_and_the_rest_of_the_schema(demo):
    database = open_database(demo)
    command.downgrade(alembic_config(database.engine), "0017")

    def state() -> tuple[list, list]:
        with database.engine.connect() as connection:
            schema = connection.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
            ).all()
            log = connection.exec_driver_sql("SELECT * FROM audit_log ORDER BY id").all()
        return schema, log

    schema, log = state()
    assert len(log) > 10
    # To 0018 itself: a later revision may change other tables.
    command.upgrade(alembic_config(database.engine), "0018")
    new_schema, new_log = state()
    assert new_log == log
    changed = [old for old, new in zip(schema, new_schema, strict=True) if old != new]
    assert [name for _, name, _ in changed] == ["audit_log"]
    assert changed[0][2].replace("entity_id VARCHAR(64)", "entity_id TEXT") == next(
        sql for _, name, sql in new_schema if name == "audit_log"
    )
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    assert auditing.verify(database, actor=EVERYONE).ok
    database.close()
