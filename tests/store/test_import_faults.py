"""Store faults during imports (issue 14 items 4, 10): two imports at once
both land; a store locked beyond the busy timeout, a full disk or a
read-only file or folder exits 3 with the database exactly as before."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from actors import EVERYONE
from sqlalchemy import Engine, event

from triage.cli.main import main as cli
from triage.store.db import open_database

HEADER = "intel_id,received_at,region,summary\n"


def extract(path: Path, prefix: str, rows: int) -> Path:
    path.write_text(
        HEADER + "".join(f"{prefix}-{n},2026-07-01T10:00,LSE,row {n}\n" for n in range(rows))
    )
    return path


def dump(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def count_items(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM intel_item").fetchone()[0])
    finally:
        connection.close()


@pytest.fixture
def existing(tmp_path) -> Path:
    path = tmp_path / "store.sqlite"
    assert (
        cli(["--db", str(path), "import", "intel", str(extract(tmp_path / "a.csv", "A", 5))]) == 0
    )
    return path


@pytest.fixture
def pragma_on_connect() -> Iterator[list[str]]:
    """PRAGMAs every new connection of every engine runs, for this test only."""
    pragmas: list[str] = []

    def run(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        for pragma in pragmas:
            dbapi_connection.execute(pragma)

    event.listen(Engine, "connect", run)
    yield pragmas
    event.remove(Engine, "connect", run)


def test_two_imports_into_one_new_database_at_once_both_land(tmp_path):
    db = tmp_path / "new.sqlite"
    files = [extract(tmp_path / f"{p}.csv", p, 3000) for p in ("P", "Q")]
    env = dict(os.environ, TRIAGE_BUSY_TIMEOUT="120")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "triage.cli", "--db", str(db), "import", "intel", str(f)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert all("Traceback" not in err for _out, err in outputs)
    assert count_items(db) == 6000


def test_a_store_locked_beyond_the_busy_timeout_exits_3_and_changes_nothing(
    existing, tmp_path, capsys, monkeypatch
):
    before = dump(existing)
    monkeypatch.setenv("TRIAGE_BUSY_TIMEOUT", "0.2")
    holder = sqlite3.connect(existing, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that does not finish
    try:
        code = cli(
            ["--db", str(existing), "import", "intel", str(extract(tmp_path / "b.csv", "B", 5))]
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert code == 3 and "locked" in err and "Traceback" not in err
    assert dump(existing) == before


def test_a_full_disk_exits_3_and_changes_nothing(existing, tmp_path, capsys, pragma_on_connect):
    before = dump(existing)
    pages = sqlite3.connect(existing).execute("PRAGMA page_count").fetchone()[0]
    # SQLite's own way to make a database full: no page past this count.
    pragma_on_connect.append(f"PRAGMA max_page_count={pages + 1}")
    code = cli(
        ["--db", str(existing), "import", "intel", str(extract(tmp_path / "c.csv", "C", 3000))]
    )
    err = capsys.readouterr().err
    assert code == 3 and "disk is full" in err and "Traceback" not in err
    # No row's values in the message (personal data).
    assert "row 1" not in err and "C-1" not in err
    pragma_on_connect.clear()
    assert dump(existing) == before


def test_a_read_only_database_exits_3_and_changes_nothing(
    existing, tmp_path, capsys, pragma_on_connect
):
    before = dump(existing)
    # What SQLite reports for a file it may not write (root ignores file modes).
    pragma_on_connect.append("PRAGMA query_only=ON")
    code = cli(["--db", str(existing), "import", "intel", str(extract(tmp_path / "d.csv", "D", 5))])
    err = capsys.readouterr().err
    assert code == 3 and "read-only" in err and "Traceback" not in err
    pragma_on_connect.clear()
    assert dump(existing) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file modes")
def test_a_read_only_file_and_folder_exit_3_not_a_foreign_database(existing, tmp_path, capsys):
    before = dump(existing)
    for target in (existing, existing.parent):
        mode = target.stat().st_mode
        target.chmod(0o555 if target.is_dir() else 0o444)
        try:
            code = cli(
                ["--db", str(existing), "import", "intel", str(extract(tmp_path / "e.csv", "E", 5))]
            )
        finally:
            target.chmod(mode)
        err = capsys.readouterr().err
        assert code == 3 and "not a Triage database" not in err and "Traceback" not in err
    assert dump(existing) == before


def test_the_core_names_the_database_and_no_sql_or_values(existing, tmp_path, pragma_on_connect):
    from triage.imports.importer import import_file
    from triage.store.faults import StoreUnavailable

    pragma_on_connect.append("PRAGMA query_only=ON")
    db = open_database(existing)
    try:
        with pytest.raises(StoreUnavailable) as raised:
            import_file(db, "intel", extract(tmp_path / "f.csv", "SECRET", 3), actor=EVERYONE)
    finally:
        db.close()
    message = str(raised.value)
    assert message.startswith(f"{existing}: the database is read-only")
    assert "SECRET" not in message and "INSERT" not in message
