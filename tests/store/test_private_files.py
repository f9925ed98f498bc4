"""Files Triage writes are its owner's only: 0600 files, 0700 folders."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from triage import paths
from triage.cli.main import main as cli
from triage.store import db as store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_and_shm_files_are_private(tmp_path):
    path = tmp_path / "new-folder" / "inner" / "triage.sqlite"
    # Folders are made only by an explicit new database (`triage db init`):
    # open_database refuses a folder that does not exist (issue 15.18).
    store.create_database(path)
    db = store.open_database(path)
    try:
        with db.transaction() as session:
            session.execute(text("SELECT count(*) FROM intel_item")).scalar_one()
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        assert wal.exists() and shm.exists()
        assert (mode(path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    finally:
        db.close()
    assert mode(tmp_path / "new-folder") == 0o700
    assert mode(path.parent) == 0o700


def test_opening_a_readable_database_makes_it_private(tmp_path):
    path = tmp_path / "old.sqlite"
    store.open_database(path).close()
    os.chmod(path, 0o644)
    store.open_database(path).close()
    assert mode(path) == 0o600


def test_an_existing_folder_is_left_as_it_was(tmp_path):
    os.chmod(tmp_path, 0o755)
    store.open_database(tmp_path / "here.sqlite").close()
    assert mode(tmp_path) == 0o755


def test_backups_are_private(tmp_path):
    path = tmp_path / "triage.sqlite"
    store.open_database(path).close()
    target = store.backup(path)
    assert (mode(target.parent), mode(target)) == (0o700, 0o600)


def test_the_data_folder_is_private(isolated_home):
    assert mode(paths.data_dir()) == 0o700


def test_a_cli_export_is_private_and_the_umask_is_restored(db, tmp_path):
    before = os.umask(0o022)
    try:
        target = tmp_path / "quarantine.csv"
        assert cli(["--db", db.location, "quarantine", "export", "--out", str(target)]) == 0
        assert mode(target) == 0o600
        assert os.umask(0o022) == 0o022  # the command put the caller's umask back
    finally:
        os.umask(before)
