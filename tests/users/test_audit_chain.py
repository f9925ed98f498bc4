"""The hash-chained audit log: verify finds the first entry edited, deleted,
inserted or moved, and a missing append-only trigger."""

from __future__ import annotations

import json

import pytest
from actors import EVERYONE

from triage.cli.main import main as cli
from triage.store import audit, dialect
from triage.store.db import audit_head_file
from triage.users import Actor, NotPermitted, auditing


def write_entries(db, n: int = 5) -> None:
    with db.transaction() as session:
        for i in range(n):
            audit.record(session, "test.step", "thing", i, "field", None, f"v{i}", who="tester")
        audit.record_many(
            session,
            [{"who": "tester", "action": "test.bulk", "entity": "thing", "entity_id": 99}] * 3,
        )


def tamper(db, *statements: str) -> None:
    """What an insider with a database tool (and the owner's rights) could do:
    lift the triggers, edit, put the triggers back."""
    with db.engine.begin() as connection:
        dialect.drop_append_only_triggers(connection)
        for statement in statements:
            connection.exec_driver_sql(statement)
        dialect.create_append_only_triggers(connection)


def check(db, **options) -> audit.Verification:
    return auditing.verify(db, actor=EVERYONE, **options)


def test_an_untouched_chain_verifies(db):
    write_entries(db)
    result = check(db)
    assert result.ok and result.entries == 8
    with db.sessions() as session:
        assert result.head == audit.chain_head(session) != audit.GENESIS


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (["UPDATE audit_log SET new_value = 'v9' WHERE id = 3"], "audit entry 3: its content"),
        (["UPDATE audit_log SET who = 'someone' WHERE id = 7"], "audit entry 7: its content"),
        (["DELETE FROM audit_log WHERE id = 4"], "audit entry 5: does not follow"),
        (["DELETE FROM audit_log WHERE id = 1"], "audit entry 2: does not follow"),
        (
            [
                "INSERT INTO audit_log (id, at, who, action, entity, entity_id, prev_hash, "
                "entry_hash) SELECT 100, at, 'x', 'fake', 'thing', '1', prev_hash, entry_hash "
                "FROM audit_log WHERE id = 8"
            ],
            "audit entry 100: does not follow",
        ),
        (
            [  # two entries swapped, hashes and all
                "UPDATE audit_log SET id = -2 WHERE id = 2",
                "UPDATE audit_log SET id = 2 WHERE id = 3",
                "UPDATE audit_log SET id = 3 WHERE id = -2",
            ],
            "audit entry 2: does not follow",
        ),
    ],
    ids=["edited", "edited-who", "deleted", "first-deleted", "inserted", "reordered"],
)
def test_verify_names_the_first_broken_entry(db, statements, problem):
    write_entries(db)
    tamper(db, *statements)
    result = check(db)
    assert not result.ok and result.problem.startswith(problem)


def test_a_cut_tail_is_caught_against_a_recorded_head(db):
    write_entries(db)
    with db.sessions() as session:
        recorded = audit.chain_head(session)
    tamper(db, "DELETE FROM audit_log WHERE id > 6")
    assert check(db).ok  # on its own a shorter chain is still a chain
    assert "is not in the audit log" in check(db, expected_head=recorded).problem


@pytest.mark.sqlite_only("backups of a file; a server's are pg_dump's")
def test_every_backup_has_the_chain_head_beside_it(db):
    write_entries(db)
    target = db.backup()
    recorded = audit_head_file(target).read_text(encoding="ascii").strip()
    with db.sessions() as session:
        assert recorded == audit.chain_head(session)
    tamper(db, "DELETE FROM audit_log WHERE id > 5")
    assert not check(db, expected_head=recorded).ok


def test_a_dropped_trigger_is_a_failure(db):
    write_entries(db)
    on = " ON audit_log" if db.on_server else ""
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TRIGGER audit_log_no_delete{on}")
    assert check(db).problem == "append-only trigger missing or changed: audit_log_no_delete"


def test_cli_verify_and_show(db, capsys):
    write_entries(db)
    base = ["--db", db.location, "audit"]
    assert cli([*base, "verify"]) == 0
    assert capsys.readouterr().out.startswith("audit log intact: 8 entries verified")
    assert cli([*base, "show", "--format", "json", "--since", "2026-01-01"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [e["action"] for e in shown][:2] == ["test.step", "test.step"] and len(shown) == 8
    assert cli([*base, "show", "--user", "nobody", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    tamper(db, "UPDATE audit_log SET old_value = 'x' WHERE id = 2")
    assert cli([*base, "verify", "--json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["verified"] == 1
    assert err == "triage: audit log broken: audit entry 2: its content was changed\n"


def test_only_auditors_read_the_audit(db):
    officer = Actor("olu", frozenset({"officer"}))
    with pytest.raises(NotPermitted, match=r"olu \(officer\) may not read the audit"):
        auditing.entries(db, actor=officer)
    auditor = Actor("ada", frozenset({"auditor"}))
    assert [e["action"] for e in auditing.entries(db, actor=auditor)] == ["permission.refused"]
