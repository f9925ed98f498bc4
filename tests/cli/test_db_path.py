"""Where the database is: --db naming a missing folder, a folder, a URL; db init."""

from __future__ import annotations

import json

import pytest

from triage.cli.main import main as cli
from triage.store.db import open_database


def test_a_db_in_a_folder_that_does_not_exist_is_refused_and_nothing_made(tmp_path, capsys):
    target = tmp_path / "no-such" / "folder" / "triage.sqlite"
    assert cli(["--db", str(target), "db", "info"]) == 2
    err = capsys.readouterr().err
    assert f"the folder {target.parent} does not exist" in err and "db init" in err
    assert not (tmp_path / "no-such").exists()


def test_a_new_file_in_an_existing_folder_is_created_on_first_use(tmp_path, capsys):
    target = tmp_path / "new.sqlite"
    assert cli(["--db", str(target), "db", "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["intel_items"] == 0
    assert target.exists()


def test_a_folder_given_as_the_database_is_refused(tmp_path, capsys):
    assert cli(["--db", str(tmp_path), "db", "info"]) == 2
    assert "is a folder" in capsys.readouterr().err


# PostgreSQL addresses are opened on their server (tests/store/test_server.py);
# any other is refused. Neither is ever taken for a file name.
@pytest.mark.parametrize("url", ["mysql://team-host/triage", "sqlite:///x.sqlite"])
def test_a_url_is_never_taken_as_a_file_name(tmp_path, monkeypatch, capsys, url):
    monkeypatch.chdir(tmp_path)
    assert cli(["--db", url, "db", "info"]) == 2
    assert "not a database Triage can use" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("TRIAGE_DB", url)
    assert cli(["db", "info"]) == 2
    assert list(tmp_path.iterdir()) == []


def test_db_init_makes_a_database_and_its_folder_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "team" / "triage.sqlite"
    assert cli(["db", "init", str(target), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"database": str(target), "encrypted": False}
    db = open_database(target)
    db.close()
    assert cli(["db", "init", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli(["db", "init", "postgresql://host/db"]) == 2
    assert "a database server address, not a file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team"]
