"""Encryption at rest (SQLCipher): init, encrypt, rekey, wrong passphrase, WAL and backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from actors import EVERYONE

from triage.cli.main import main as cli
from triage.imports.importer import import_file
from triage.intel import ranking
from triage.store import cipher
from triage.store.db import open_database
from triage.store.faults import StoreUnavailable

PASSPHRASE = "correct horse battery staple"
SECRET = "Zanzibar Quokka Emporium"  # a business name that must never show in the file


def intel_rows(n: int) -> str:
    header = "intel_id,received_at,region,business_name,summary\n"
    return header + "".join(
        f"I-{i},2026-07-01T10:00:00,LSE,{SECRET},seen at the back door\n" for i in range(n)
    )


@pytest.fixture
def passphrase(monkeypatch) -> str:
    monkeypatch.setenv("TRIAGE_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


@pytest.fixture
def encrypted(tmp_path, passphrase) -> Path:
    path = tmp_path / "secret.sqlite"
    assert cli(["db", "init", str(path), "--encrypt"]) == 0
    return path


def test_init_encrypt_makes_a_file_sqlite_alone_cannot_read(tmp_path, passphrase, capsys):
    encrypted = tmp_path / "new.sqlite"
    assert cli(["db", "init", str(encrypted), "--encrypt"]) == 0
    assert capsys.readouterr().out == f"created {encrypted} (encrypted)\n"
    assert not encrypted.read_bytes().startswith(cipher.SQLITE_HEADER)
    assert cipher.is_encrypted(encrypted)
    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        sqlite3.connect(encrypted).execute("SELECT count(*) FROM sqlite_master").fetchone()
    assert cli(["--db", str(encrypted), "db", "info", "--format", "json"]) == 0


def test_data_in_the_file_and_its_wal_is_encrypted_and_ranks(encrypted, tmp_path):
    extract = tmp_path / "intel.csv"
    extract.write_text(intel_rows(50), encoding="utf-8")
    db = open_database(encrypted, PASSPHRASE)
    try:
        assert db.encrypted
        assert import_file(db, "intel", extract, actor=EVERYONE).inserted == 50
        wal = Path(f"{encrypted}-wal")
        assert wal.exists() and wal.stat().st_size > 0  # still open: the rows are in the WAL
        for path in (encrypted, wal):
            assert SECRET.encode() not in path.read_bytes()
        # The freshness decay's pow() is registered on SQLCipher's connections.
        assert ranking.refresh(db).items == 50
    finally:
        db.close()
    assert SECRET.encode() not in encrypted.read_bytes()


def test_a_wrong_passphrase_exits_3_with_no_traceback_and_nothing_changed(
    encrypted, monkeypatch, capsys
):
    before = encrypted.read_bytes()
    monkeypatch.setenv("TRIAGE_PASSPHRASE", "not the passphrase at all")
    assert cli(["--db", str(encrypted), "rank", "intel"]) == 3
    assert capsys.readouterr().err == (
        f"triage: {encrypted}: wrong passphrase or not a Triage database\n"
    )
    assert encrypted.read_bytes() == before
    with pytest.raises(StoreUnavailable, match="wrong passphrase or not a Triage database"):
        open_database(encrypted, "not the passphrase at all")


def test_no_passphrase_and_no_terminal_exits_3(encrypted, monkeypatch, capsys):
    monkeypatch.delenv("TRIAGE_PASSPHRASE")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli(["--db", str(encrypted), "db", "info"]) == 3
    assert "the database is encrypted; give its passphrase" in capsys.readouterr().err
    with pytest.raises(StoreUnavailable, match="its passphrase is needed"):
        open_database(encrypted)


def test_the_passphrase_is_asked_without_echo_at_a_terminal(encrypted, monkeypatch):
    monkeypatch.delenv("TRIAGE_PASSPHRASE")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or PASSPHRASE)
    assert cli(["--db", str(encrypted), "db", "info"]) == 0
    assert asked == [f"Passphrase for {encrypted.name}: "]


def test_a_damaged_encrypted_file_exits_3(encrypted, capsys):
    db = open_database(encrypted, PASSPHRASE)
    db.close()
    data = bytearray(encrypted.read_bytes())
    data[100:4196] = bytes(4096)  # the first page: salt kept, the rest gone
    encrypted.write_bytes(bytes(data))
    assert cli(["--db", str(encrypted), "db", "info"]) == 3
    err = capsys.readouterr().err
    assert err == f"triage: {encrypted}: wrong passphrase or not a Triage database\n"


def test_a_short_passphrase_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRIAGE_PASSPHRASE", "short")
    target = tmp_path / "new.sqlite"
    assert cli(["db", "init", str(target), "--encrypt"]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert not target.exists()


@pytest.mark.sqlite_only("encryption is of a SQLite file")
def test_a_plain_database_still_opens_when_a_passphrase_is_set(db, passphrase):
    db.close()
    assert not cipher.is_encrypted(db.path)
    reopened = open_database(db.path, passphrase)
    assert not reopened.encrypted
    reopened.close()


def test_encrypt_converts_a_plain_database_in_place(tmp_path, passphrase, capsys):
    path = tmp_path / "plain.sqlite"
    extract = tmp_path / "intel.csv"
    extract.write_text(intel_rows(40), encoding="utf-8")
    assert cli(["--db", str(path), "import", "intel", str(extract)]) == 0
    assert cli(["--db", str(path), "db", "backup"]) == 0
    capsys.readouterr()
    assert SECRET.encode() in path.read_bytes()
    assert cli(["db", "encrypt", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"encrypted {path}\n1 earlier backup(s) in ")
    assert cipher.is_encrypted(path)
    assert SECRET.encode() not in path.read_bytes()
    for leftover in ("-wal", "-shm", ".encrypting"):
        assert not Path(f"{path}{leftover}").exists()
    db = open_database(path, passphrase)
    try:
        assert ranking.refresh(db).items == 40
    finally:
        db.close()
    assert cli(["db", "encrypt", str(path)]) == 2  # already encrypted


def test_rekey_changes_the_passphrase(encrypted, monkeypatch, capsys):
    new = "a different long passphrase"
    monkeypatch.setenv("TRIAGE_NEW_PASSPHRASE", new)
    assert cli(["db", "rekey", str(encrypted)]) == 0
    assert capsys.readouterr().out.startswith(f"changed the passphrase of {encrypted}")
    with pytest.raises(StoreUnavailable):
        open_database(encrypted, PASSPHRASE)
    open_database(encrypted, new).close()


def test_a_backup_of_an_encrypted_database_is_encrypted(encrypted, capsys):
    assert cli(["--db", str(encrypted), "db", "backup", "--format", "json"]) == 0
    (made,) = (encrypted.parent / "backups").glob("*.sqlite")
    assert cipher.is_encrypted(made)
    with pytest.raises(StoreUnavailable):
        open_database(made, "not the passphrase at all")
    open_database(made, PASSPHRASE).close()


def test_sql_math_functions_are_null_safe_on_sqlcipher(encrypted):
    connection = cipher.connect(encrypted, PASSPHRASE)
    try:
        row = connection.execute(
            "SELECT pow(0.5, 2), pow(NULL, 2), ln(-1), exp(0), sqrt(9)"
        ).fetchone()
    finally:
        connection.close()
    assert row == (0.25, None, None, 1.0, 3.0)
