"""Shared fixtures: every test gets its own data folder and database."""

from __future__ import annotations

import os

# Set before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from actors import EVERYONE
from hypothesis import settings

from triage import clock
from triage.store.db import Database, open_database
from ui import identity  # plain Python: no Qt

# CI (CI=true) replays the same property-test examples on every run, so a
# submission is judged on its code, not on which random inputs were drawn;
# a developer's ./run test keeps exploring new ones.
# No per-example deadline in either: on a shared 2-core machine an example's
# time says how busy the machine is, not whether the code is right (speed is
# measured by benchmarks/, not by tests).
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Keep settings, databases and models of tests away from the user's."""
    home = tmp_path / "home"
    monkeypatch.setenv("TRIAGE_HOME", str(home))
    monkeypatch.delenv("TRIAGE_DB", raising=False)
    monkeypatch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
    yield home
    clock.use_display_zone("Europe/London")  # a test that changed it leaves UK time


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database migrated to the head schema, made once per test run.

    Running the migrations takes about 0.7 s; copying the file about 0.1 s, so
    tests start from a copy. Tests of creating or upgrading a database open
    their own path instead."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    open_database(path).close()
    # Everything into the main file, so that the file alone is the database.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


@pytest.fixture(scope="session")
def new_database_file(migrated_template: Path) -> Callable[[Path], Path]:
    """``new_database_file(path)`` puts an empty, migrated database at ``path``."""

    def copy(path: Path) -> Path:
        shutil.copyfile(migrated_template, path)
        return path

    return copy


@pytest.fixture(autouse=True)
def signed_in():
    """Screens act as a signed-in user with every role (as on a new laptop)."""
    identity.sign_in(EVERYONE)
    yield EVERYONE
    identity.sign_in(None)


@pytest.fixture
def db(tmp_path: Path, new_database_file: Callable[[Path], Path]) -> Iterator[Database]:
    database = open_database(new_database_file(tmp_path / "test.sqlite"))
    yield database
    database.close()
