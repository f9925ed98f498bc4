"""Backup and restore: the drill, refusals, rolling backups."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from store_helpers import digest, overwrite_64k

from triage.cli.main import main as cli
from triage.store.backups import check_backup
from triage.store.db import open_database
from triage.store.faults import StoreUnavailable

PASSPHRASE = "correct horse battery staple"


def counts(path: Path, capsys) -> dict[str, int]:
    capsys.readouterr()
    assert cli(["--db", str(path), "db", "info", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)["counts"]


def test_restore_drill_backup_damage_restore_checks_pass(demo, capsys):
    before = counts(demo, capsys)
    assert cli(["--db", str(demo), "db", "backup", "--format", "json"]) == 0
    (made,) = (demo.parent / "backups").glob("*.sqlite")
    overwrite_64k(demo)
    assert cli(["--db", str(demo), "rank", "intel"]) == 3
    capsys.readouterr()
    assert cli(["--db", str(demo), "db", "restore", str(made), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "passes the integrity check" in out and f"restored {demo} from {made}" in out
    assert cli(["--db", str(demo), "rank", "intel", "--limit", "3"]) == 0
    assert counts(demo, capsys) == before
    assert cli(["--db", str(demo), "audit", "verify"]) == 0
    with sqlite3.connect(demo) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()
    # The damaged database was set aside, not deleted.
    assert len(list((demo.parent / "backups").glob("work-replaced-*.sqlite"))) == 1


def test_restore_to_another_path(demo, tmp_path, capsys):
    made = open_database(demo).backup()
    target = tmp_path / "elsewhere" / "copy.sqlite"
    assert cli(["db", "restore", str(made), "--to", str(target), "--yes"]) == 0
    assert f"restored {target} from {made}" in capsys.readouterr().out
    assert counts(target, capsys) == counts(demo, capsys)


def test_restore_refuses_a_damaged_backup_and_changes_nothing(demo, capsys):
    made = open_database(demo).backup()
    overwrite_64k(made)
    before = digest(demo)
    assert cli(["--db", str(demo), "db", "restore", str(made), "--yes"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"triage: {made}: the backup is damaged (")
    assert err.endswith("nothing was replaced\n")
    assert digest(demo) == before


def test_restore_refuses_a_backup_from_a_newer_schema(demo, capsys):
    made = open_database(demo).backup()
    with sqlite3.connect(made) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f999_from_the_future'")
    connection.close()
    before = digest(demo)
    assert cli(["--db", str(demo), "db", "restore", str(made), "--yes"]) == 3
    err = capsys.readouterr().err
    assert "written by a newer Triage (schema f999_from_the_future)" in err
    assert "Traceback" not in err
    assert digest(demo) == before


def test_restore_asks_first_and_needs_yes_without_a_terminal(demo, monkeypatch, capsys):
    made = open_database(demo).backup()
    before = digest(demo)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli(["--db", str(demo), "db", "restore", str(made)]) == 2
    assert "add --yes" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _prompt: "n")
    assert cli(["--db", str(demo), "db", "restore", str(made)]) == 1
    assert "nothing was replaced" in capsys.readouterr().out
    assert digest(demo) == before


def test_restore_of_a_missing_backup_is_a_usage_error(demo, tmp_path, capsys):
    assert cli(["--db", str(demo), "db", "restore", str(tmp_path / "nope.sqlite"), "--yes"]) == 2


def test_restore_an_encrypted_backup(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRIAGE_PASSPHRASE", PASSPHRASE)
    path = tmp_path / "secret.sqlite"
    assert cli(["db", "init", str(path), "--encrypt"]) == 0
    made = open_database(path, PASSPHRASE).backup()
    damage_all = path.read_bytes()[:4096] + bytes(len(path.read_bytes()) - 4096)
    path.write_bytes(damage_all)
    assert cli(["--db", str(path), "db", "restore", str(made), "--yes"]) == 0
    open_database(path, PASSPHRASE).close()


def test_rolling_backups_keep_the_newest_k(tmp_path):
    db = open_database(tmp_path / "t.sqlite", backups_kept=3)
    try:
        made = [db.backup("before-import", rolling=True) for _ in range(5)]
    finally:
        db.close()
    left = sorted((tmp_path / "backups").glob("t-before-import-*.sqlite"))
    assert left == sorted(made[-3:])


def test_a_rolling_backup_of_an_encrypted_database_is_checked_and_encrypted(tmp_path, monkeypatch):
    # The rolling check (quick, CHECK constraints left out) runs on SQLCipher
    # too: the copy passes a restore's full check with the passphrase only.
    monkeypatch.setenv("TRIAGE_PASSPHRASE", PASSPHRASE)
    path = tmp_path / "secret.sqlite"
    assert cli(["db", "init", str(path), "--encrypt"]) == 0
    db = open_database(path, PASSPHRASE)
    try:
        made = db.backup("before-import", rolling=True)
    finally:
        db.close()
    assert made is not None
    assert check_backup(made, PASSPHRASE).encrypted
    with pytest.raises(StoreUnavailable):
        check_backup(made)


@pytest.mark.sqlite_only("backups of a SQLite file; a server's are pg_dump's")
def test_an_import_over_10000_rows_is_backed_up_first(db, tmp_path):
    header = "intel_id,received_at,region\n"

    def extract(name: str, rows: int) -> str:
        path = tmp_path / f"{name}.csv"
        path.write_text(header + "".join(f"{name}-{i},2026-07-01,LSE\n" for i in range(rows)))
        return str(path)

    # Into an empty database: nothing to back up, however large.
    assert cli(["--db", db.location, "import", "intel", extract("first", 10_001)]) == 0
    assert cli(["--db", db.location, "import", "intel", extract("exactly", 10_000)]) == 0
    assert not (tmp_path / "backups").exists()
    assert cli(["--db", db.location, "import", "intel", extract("over", 10_001)]) == 0
    (made,) = (tmp_path / "backups").glob("test-before-import-*.sqlite")
    with sqlite3.connect(made) as connection:  # the state before the large import
        assert connection.execute("SELECT count(*) FROM intel_item").fetchone() == (20_001,)
    connection.close()


def test_restore_refuses_a_backup_whose_audit_log_was_edited(demo, capsys):
    made = open_database(demo).backup()
    with sqlite3.connect(made) as connection:
        # An insider with the file: drop the guard, rewrite an entry, put the guard back.
        (trigger_sql,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'audit_log_no_update'"
        ).fetchone()
        connection.execute("DROP TRIGGER audit_log_no_update")
        connection.execute("UPDATE audit_log SET who = 'someone else' WHERE id = 1")
        connection.execute(trigger_sql)
    connection.close()
    before = digest(demo)
    assert cli(["--db", str(demo), "db", "restore", str(made), "--yes"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"triage: {made}: the audit chain does not check out (audit entry 1")
    assert err.endswith("nothing was replaced\n")
    assert digest(demo) == before


def test_restore_refuses_while_another_process_has_the_database_open(demo, capsys):
    """The app holding the database open: replacing the file under it would
    leave the app writing to a file that is no longer the database."""
    import subprocess
    import sys

    made = open_database(demo).backup()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(demo)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        before = digest(demo)
        assert cli(["--db", str(demo), "db", "restore", str(made), "--yes"]) == 3
        err = capsys.readouterr().err
        assert "the database is open in another Triage window or command" in err
        assert "Nothing was replaced" in err and digest(demo) == before
    finally:
        holder.communicate("")  # closing its stdin lets it close the database
    assert cli(["--db", str(demo), "db", "restore", str(made), "--yes"]) == 0


# A process that opens the database like the app does (WAL, a query run) and
# keeps it open until its standard input is closed.
HOLD_OPEN = """
import sys
from sqlalchemy import text
from triage.store.db import open_database
db = open_database(sys.argv[1])
with db.engine.connect() as connection:
    connection.execute(text("SELECT count(*) FROM intel_item")).scalar()
    print("open", flush=True)
    sys.stdin.read()
db.close()
"""
