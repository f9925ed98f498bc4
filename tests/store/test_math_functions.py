"""SQL math functions on a SQLite that lacks them (SQLCipher; bullseye's SQLite 3.34).

The ranking's freshness decay calls ``pow``. SQLite compiles its math
functions in only on request (3.35+), so ``cipher.add_math_functions``
registers Python ones on any connection where a probe finds them missing.
Here a connection's built-in ``pow`` (and friends) are removed first, as if
the system SQLite were built without them.
"""

from __future__ import annotations

import sqlite3

import pytest

from triage.intel import ranking
from triage.store import cipher
from triage.store.db import open_database

MATH = ("pow", "power", "exp", "ln", "sqrt")


def remove_math_functions(connection: sqlite3.Connection) -> None:
    # Deleting a function leaves a stub that fails when called, like a SQLite
    # built without SQLITE_ENABLE_MATH_FUNCTIONS fails at "no such function".
    for name in MATH:
        connection.create_function(name, 2 if name in ("pow", "power") else 1, None)


def scores(path) -> list[tuple[int, float]]:
    db = open_database(path)
    try:
        ranking.refresh(db)
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT item_id, score FROM intel_rank ORDER BY item_id"
            ).all()
        return [(item, score) for item, score in rows]
    finally:
        db.close()


def test_without_math_functions_a_probe_fails_and_registration_restores_them():
    connection = sqlite3.connect(":memory:")
    remove_math_functions(connection)
    with pytest.raises(sqlite3.OperationalError):
        connection.execute("SELECT pow(2, 3)").fetchone()
    cipher.add_math_functions(connection)
    row = connection.execute("SELECT pow(0.5, 2), pow(NULL, 2), ln(-1), exp(0), sqrt(9)").fetchone()
    assert row == (0.25, None, None, 1.0, 3.0)


def test_a_sqlite_with_math_functions_keeps_its_own():
    connection = sqlite3.connect(":memory:")
    if sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("this SQLite has no math functions of its own")
    cipher.add_math_functions(connection)
    # A registered Python pow would give NULL here (TypeError on text); SQLite's converts.
    assert connection.execute("SELECT pow('2', 3)").fetchone() == (8.0,)


def test_ranking_without_sqlite_math_functions_gives_the_same_scores(demo, tmp_path, monkeypatch):
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(demo.read_bytes())
    native = scores(demo)
    assert len(native) == 3000

    register = cipher.add_math_functions

    def older_sqlite(connection: sqlite3.Connection) -> None:
        remove_math_functions(connection)
        register(connection)

    monkeypatch.setattr(cipher, "add_math_functions", older_sqlite)
    registered = scores(copy)
    assert [item for item, _ in registered] == [item for item, _ in native]
    assert [score for _, score in registered] == pytest.approx([score for _, score in native])
