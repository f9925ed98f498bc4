"""A database on a PostgreSQL server: opened by its address (--db, TRIAGE_DB),
never a local file; unreachable, refused or newer: exit 3 with a clear message."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
import pytest
from pg_server import free_port
from sqlalchemy import text

from triage.cli.main import main as cli
from triage.store import audit
from triage.store.db import Database, open_database
from triage.store.faults import StoreUnavailable


@pytest.mark.postgresql
def test_an_address_opens_a_server_database_and_makes_no_local_file(
    new_server_database, tmp_path, monkeypatch, capsys, isolated_home
):
    monkeypatch.chdir(tmp_path)
    url = new_server_database()
    assert cli(["--db", url, "db", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["path"] == url and info["counts"]["intel_items"] == 0 and info["size_bytes"] > 0
    monkeypatch.setenv("TRIAGE_DB", url)
    assert cli(["db", "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == url
    assert [p.name for p in tmp_path.iterdir()] in ([], ["home"])  # settings at most, no database
    assert not list(isolated_home.rglob("*.sqlite"))


@pytest.mark.postgresql
def test_a_new_server_database_is_set_up_on_first_use(pg_server):
    pg_server.psql("CREATE DATABASE triage_fresh")
    try:
        db = open_database(pg_server.url("triage_fresh"))
        with db.engine.connect() as connection:
            assert audit.missing_triggers(connection) == []
            assert audit.verify(connection).ok
        assert db.on_server and db.name == "triage_fresh@127.0.0.1"
        db.close()
    finally:
        pg_server.psql("DROP DATABASE triage_fresh WITH (FORCE)")


def test_the_audit_log_is_append_only_on_the_server_too(db):
    with db.transaction() as session:
        audit.record(session, "test", "thing", 1, who="someone")
    for statement in ("UPDATE audit_log SET who = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), db.transaction() as session:
            session.execute(text(statement))
    with db.engine.connect() as connection:
        assert audit.verify(connection).entries == 1


@pytest.mark.postgresql
def test_wrong_credentials_exit_3_without_the_password(pg_server, new_server_database, capsys):
    name = new_server_database().rsplit("/", 1)[1]
    pg_server.psql("DO $$ BEGIN CREATE ROLE clerk LOGIN PASSWORD 'right-one'; "
                   "EXCEPTION WHEN duplicate_object THEN NULL; END $$")  # fmt: skip
    url = f"postgresql+psycopg://clerk:Wr0ngSecret@127.0.0.1:{pg_server.port}/{name}"
    assert cli(["--db", url, "db", "info"]) == 3
    err = capsys.readouterr().err
    assert "refused the login" in err and "127.0.0.1" in err
    assert "Wr0ngSecret" not in err


@pytest.mark.postgresql
def test_a_schema_newer_than_the_app_is_refused_on_the_server(db, capsys):
    url = db.location
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    db.close()
    with pytest.raises(StoreUnavailable, match="newer Triage"):
        open_database(url)
    assert cli(["--db", url, "db", "info"]) == 3
    assert "newer Triage (schema 9999" in capsys.readouterr().err


def test_a_file_with_a_newer_schema_is_refused_without_a_traceback(
    tmp_path, new_database_file, capsys
):
    path = new_database_file(tmp_path / "newer.sqlite")
    db = open_database(path)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    db.close()
    assert cli(["--db", str(path), "db", "info"]) == 3
    err = capsys.readouterr().err
    assert "newer Triage (schema 9999" in err and "Traceback" not in err
    assert not (tmp_path / "backups").exists()  # refused before any backup


@pytest.mark.parametrize("kind", ["env", "option"])
def test_an_unreachable_server_exits_3_within_10_s_naming_the_host(
    tmp_path, monkeypatch, capsys, kind
):
    monkeypatch.chdir(tmp_path)
    url = f"postgresql+psycopg://clerk:S3cretPw@127.0.0.1:{free_port()}/triage"
    args = ["db", "info"]
    if kind == "env":
        monkeypatch.setenv("TRIAGE_DB", url)
    else:
        args = ["--db", url, *args]
    started = time.monotonic()
    assert cli(args) == 3
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert "127.0.0.1" in err and "cannot be reached" in err and "S3cretPw" not in err
    # Nothing made but the settings folder (TRIAGE_HOME): no file, no folder named after the URL
    assert [p.name for p in tmp_path.iterdir()] in ([], ["home"])
    assert not [p for p in tmp_path.rglob("*") if p.suffix == ".sqlite" or "S3cret" in str(p)]


GRANTS = Path(__file__).resolve().parents[2] / "docs" / "team-server-grants.sql"


@pytest.mark.postgresql
def test_the_least_privilege_login_works_but_cannot_drop_tables_or_rewrite_the_audit(
    pg_server, capsys
):
    """docs/team-server.md's set-up, as written: an owner makes the schema, the
    grants file gives the app's login what it needs and no more."""
    pg_server.psql(
        "DO $$ BEGIN CREATE ROLE triage_owner LOGIN PASSWORD 'owner-pw'; "
        "CREATE ROLE triage_app LOGIN PASSWORD 'app-pw'; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    pg_server.psql("CREATE DATABASE triage_team OWNER triage_owner")
    base = f"127.0.0.1:{pg_server.port}/triage_team"
    try:
        open_database(f"postgresql+psycopg://triage_owner:owner-pw@{base}").close()
        owner = f"host=127.0.0.1 port={pg_server.port} dbname=triage_team user=triage_owner"
        with psycopg.connect(owner + " password=owner-pw", autocommit=True) as connection:
            connection.execute(GRANTS.read_text(encoding="utf-8"))
        app = f"postgresql+psycopg://triage_app:app-pw@{base}"
        assert cli(["--db", app, "user", "list", "--json"]) == 0  # opens, signs in, reads
        assert cli(["--db", app, "rank", "intel", "--json"]) == 0  # ranks (scratch tables)
        capsys.readouterr()
        db = open_database(app)
        with db.transaction() as session:
            audit.record(session, "test", "thing", 1, who="someone")
        for statement in (
            "DROP TABLE intel_item",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_update ON audit_log",
            "UPDATE audit_log SET who = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "UPDATE alembic_version SET version_num = '0001'",
            "CREATE TABLE mine (id integer)",
        ):
            with pytest.raises(Exception, match="must be owner|permission denied"):
                with db.engine.begin() as connection:
                    connection.exec_driver_sql(statement)
        with db.engine.connect() as connection:
            assert audit.verify(connection).ok and audit.missing_triggers(connection) == []
        db.close()
    finally:
        pg_server.psql("DROP DATABASE triage_team WITH (FORCE)")


def test_the_status_line_says_how_the_data_is_protected(tmp_path):
    address = "postgresql+psycopg://app:***@db.example/triage"
    on_server = [
        Database(path=None, engine=None, url=address + query).protection
        for query in ("", "?sslmode=prefer", "?sslmode=require", "?sslmode=verify-full")
    ]
    assert on_server == ["on a server, TLS not required"] * 2 + ["on a server, TLS required"] * 2
    laptop = open_database(tmp_path / "laptop.sqlite")
    try:
        assert laptop.protection == "not encrypted"
    finally:
        laptop.close()
