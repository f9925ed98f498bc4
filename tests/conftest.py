"""Shared fixtures: every test gets its own data folder and database."""

from __future__ import annotations

import os

# Set before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pg_server as pg_server_module
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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("TRIAGE_TEST_BACKEND", "sqlite"),
        help="the store the `db` fixture gives: a SQLite file (default) or a database on a "
        "throwaway PostgreSQL server (tests/pg_server.py)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run takes the tests whose store is the `db` fixture (or
    that are marked `postgresql`), less those about a SQLite file itself; the
    rest open their own SQLite files and are the SQLite run's. The SQLite run
    skips the tests that need the server."""
    postgres = config.getoption("backend") == "postgresql"
    kept, dropped = [], []
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        marked = item.get_closest_marker("postgresql") is not None
        if not postgres:
            if marked:
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: --backend postgresql"))
            kept.append(item)
            continue
        sqlite_only = item.get_closest_marker("sqlite_only")
        if sqlite_only is not None:
            reason = sqlite_only.args[0] if sqlite_only.args else "about a SQLite file"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
        (kept if marked or "db" in fixtures else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pg_server_module.Server]:
    """One throwaway PostgreSQL server per test run, removed afterwards."""
    server = pg_server_module.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: pg_server_module.Server) -> str:
    """A database migrated to the head schema, made once; tests get copies of it
    (CREATE DATABASE ... TEMPLATE, about 20x quicker than migrating)."""
    pg_server.psql("CREATE DATABASE triage_template")
    open_database(pg_server.url("triage_template")).close()
    return "triage_template"


_databases = itertools.count(1)


@pytest.fixture
def new_server_database(
    pg_server: pg_server_module.Server, pg_template: str
) -> Iterator[Callable[[], str]]:
    """``new_server_database()``: the URL of a new, empty, migrated database
    on the test server, dropped after the test."""
    made: list[str] = []

    def make() -> str:
        name = f"triage_test_{os.getpid()}_{next(_databases)}"
        pg_server.psql(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        made.append(name)
        return pg_server.url(name)

    yield make
    for name in made:
        pg_server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


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
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A new, empty database on the run's backend (--backend): a SQLite file,
    or a database on the throwaway PostgreSQL server."""
    if request.config.getoption("backend") == "postgresql":
        location: str | Path = request.getfixturevalue("new_server_database")()
    else:
        location = request.getfixturevalue("new_database_file")(tmp_path / "test.sqlite")
    database = open_database(location)
    yield database
    database.close()
