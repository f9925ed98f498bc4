"""A damaged, newer or unreadable database: exit 3 naming the problem, nothing changed."""

from __future__ import annotations

import sqlite3

import pytest
from store_helpers import digest, overwrite_64k

from triage.cli.main import main as cli
from triage.store import db as store
from triage.store.backups import check_backup
from triage.store.faults import StoreDamaged, StoreUnavailable


def test_ranking_a_damaged_database_exits_3_naming_the_damage(demo, capsys):
    overwrite_64k(demo)
    assert cli(["--db", str(demo), "rank", "intel"]) == 3
    err = capsys.readouterr().err
    assert err == (
        f"triage: {demo}: the database is damaged (database disk image is malformed); "
        "restore a backup with 'triage db restore'\n"
    )


def test_backup_refuses_a_damaged_source_and_writes_nothing(demo, capsys):
    overwrite_64k(demo)
    assert cli(["--db", str(demo), "db", "backup"]) == 3
    err = capsys.readouterr().err
    assert "the database is damaged (" in err and "no backup written" in err
    assert "Traceback" not in err
    assert list((demo.parent / "backups").glob("*")) == []


def test_a_backup_passes_the_integrity_check(demo):
    target = store.backup(demo)
    with sqlite3.connect(target) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("SELECT count(*) FROM intel_item").fetchone()[0] == 3000
    connection.close()


def test_backup_function_raises_store_damaged(demo):
    overwrite_64k(demo)
    with pytest.raises(StoreDamaged, match="no backup written"):
        store.backup(demo)


def test_a_rolling_backup_refuses_a_damaged_source_too(demo):
    # The automatic backups (before a large import, a purge) run SQLite's
    # quick check: a damaged file is still refused and no copy is left.
    overwrite_64k(demo)
    with pytest.raises(StoreDamaged, match="no backup written"):
        store.backup(demo, "before-import", quick=True)
    assert list((demo.parent / "backups").glob("*.sqlite")) == []


def test_a_rolling_backup_leaves_check_constraints_to_the_full_checks(demo):
    # A CHECK violation is a logic error, not a file damaged on disk: the
    # rolling backup's quick check passes it (docs/decisions.md), while
    # `triage db backup` and a restore's full integrity check refuse it.
    with sqlite3.connect(demo) as connection:
        connection.execute("PRAGMA ignore_check_constraints=ON")
        connection.execute("UPDATE intel_item SET status = 'no such status' WHERE id = 1")
    connection.close()
    rolling = store.backup(demo, "before-import", quick=True)
    with sqlite3.connect(rolling) as connection:
        assert connection.execute("SELECT count(*) FROM intel_item").fetchone()[0] == 3000
        assert "CHECK constraint failed" in connection.execute("PRAGMA quick_check").fetchone()[0]
    connection.close()
    with pytest.raises(StoreDamaged, match="CHECK constraint failed in intel_item"):
        store.backup(demo)
    with pytest.raises(StoreDamaged, match="CHECK constraint failed in intel_item"):
        check_backup(rolling)


def test_a_database_from_a_newer_triage_is_refused_and_left_as_it_was(demo, capsys):
    with sqlite3.connect(demo) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f999_from_the_future'")
    connection.close()
    before = digest(demo)
    assert cli(["--db", str(demo), "db", "info"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"triage: {demo}: the database was written by a newer Triage ")
    assert "schema f999_from_the_future" in err and "Nothing was changed" in err
    assert "Traceback" not in err and "alembic" not in err.lower()
    assert digest(demo) == before
    assert not (demo.parent / "backups").exists()
    with pytest.raises(StoreUnavailable):
        store.open_database(demo)


def test_a_locked_database_exits_3(demo, capsys, monkeypatch):
    blocker = sqlite3.connect(demo, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    # Keep the test quick: the store's 10 s busy timeout is not what is tested.
    monkeypatch.setattr(
        store, "_on_connect", _without_busy_timeout(store._on_connect), raising=True
    )
    try:
        assert cli(["--db", str(demo), "rank", "intel"]) == 3
    finally:
        blocker.rollback()
        blocker.close()
    assert "the database is locked by another program" in capsys.readouterr().err


def _without_busy_timeout(on_connect):
    def connect(connection, record):
        on_connect(connection, record)
        connection.execute("PRAGMA busy_timeout=0")

    return connect
