"""Encryption at rest: SQLCipher 4 through the ``sqlcipher3`` driver.

An encrypted database is a SQLCipher 4 file with its default settings
(AES-256 in CBC mode per page, HMAC-SHA512 on every page, the key derived
from the passphrase with PBKDF2-HMAC-SHA512 over 256,000 iterations and a
random per-file salt). Its WAL file holds encrypted pages too, and its
backups are made with the same passphrase. A plain SQLite database still
opens through Python's own ``sqlite3``; only encrypted files go through
SQLCipher, so a plain database behaves exactly as before.
"""

from __future__ import annotations

import functools
import math
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.engine import URL

from triage.private_files import private_file
from triage.store.faults import WRONG_PASSPHRASE, StoreUnavailable, integrity_problem

SQLITE_HEADER = b"SQLite format 3\x00"
# NCSC advice is three random words; twelve characters is about the shortest.
MIN_PASSPHRASE = 12


def is_encrypted(path: Path) -> bool:
    """Whether ``path`` looks like a SQLCipher database.

    SQLite's files start with a fixed header; SQLCipher's start with a random
    salt and are whole pages. A text file (an extract passed as the
    database by mistake) is neither, so it is still reported as "not a
    Triage database" rather than asked for a passphrase.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError:
        return False
    return size >= 1024 and size % 512 == 0 and head != SQLITE_HEADER


@functools.cache
def driver() -> ModuleType:
    """The sqlcipher3 DB-API module, its own error logging switched off.

    SQLCipher writes a line to stderr on every failed page decryption (a
    wrong passphrase); Triage reports that itself, once, in plain words.
    """
    from sqlcipher3 import dbapi2  # type: ignore[import-untyped]

    quiet = dbapi2.connect(":memory:")
    quiet.execute("PRAGMA cipher_log_level = NONE")
    quiet.close()
    return dbapi2  # type: ignore[no-any-return]


def engine_url(path: Path, passphrase: str) -> URL:
    """SQLAlchemy's URL for an encrypted file (the password is never shown in its repr)."""
    driver()
    return URL.create("sqlite+pysqlcipher", password=passphrase, database=str(path))


def passphrase_problem(passphrase: str) -> str | None:
    """Why a new passphrase cannot be used, or None."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"a passphrase needs at least {MIN_PASSPHRASE} characters (three random words)"
    if "\x00" in passphrase:
        return "a passphrase cannot contain a NUL character"
    return None


def connect(path: Path, passphrase: str | None) -> Any:
    """A DB-API connection to ``path``: sqlite3 for a plain file, else SQLCipher, keyed.

    A wrong passphrase (or a file that is not a database) raises
    ``StoreUnavailable`` naming the file, never the passphrase.
    """
    if passphrase is None:
        return sqlite3.connect(path)
    cipher = driver()
    connection = cipher.connect(str(path))
    connection.execute(f"PRAGMA key = {_literal(passphrase)}")
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except cipher.DatabaseError:
        connection.close()
        raise StoreUnavailable(f"{path}: {WRONG_PASSPHRASE}") from None
    add_math_functions(connection)
    return connection


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _null_safe(function: Callable[..., float]) -> Callable[..., float | None]:
    # SQLite's own math functions give NULL for NULL or out-of-domain input.
    # The ranking calls pow() once a row, so the happy path is kept to one
    # call: None arrives as a TypeError rather than being checked first.
    def call(*values: float | None) -> float | None:
        try:
            return function(*values)
        except (TypeError, ValueError, OverflowError):
            return None

    return call


_MATH: dict[str, tuple[int, Callable[..., float]]] = {
    "pow": (2, math.pow),
    "power": (2, math.pow),
    "exp": (1, math.exp),
    "ln": (1, math.log),
    "sqrt": (1, math.sqrt),
}


def add_math_functions(connection: Any) -> None:
    """SQLite's math functions (the ranking's freshness decay uses ``pow``),
    registered on a connection whose SQLite lacks them.

    SQLite has them only when compiled with SQLITE_ENABLE_MATH_FUNCTIONS (3.35
    and later): SQLCipher's build leaves them out, and so does the SQLite 3.34
    of Debian bullseye, which the older-Linux bundle carries. One probe per
    new connection (microseconds) decides; a SQLite that has them keeps its own.
    """
    if _has_math_functions(connection):
        return
    for name, (arity, function) in _MATH.items():
        connection.create_function(name, arity, _null_safe(function), deterministic=True)


def _has_math_functions(connection: Any) -> bool:
    # sqlite3 and sqlcipher3 connections both carry their module's exceptions.
    try:
        connection.execute("SELECT pow(2, 2), power(2, 2), exp(0), ln(1), sqrt(4)").fetchone()
    except connection.OperationalError:
        return False
    return True


def reencrypt(path: Path, new_passphrase: str, passphrase: str | None = None) -> None:
    """Encrypt the database at ``path`` with ``new_passphrase`` (``passphrase``:
    its current one, None for a plain file).

    Safe against a crash at any point: the data is exported into a new file
    beside it, the new file is checked (SQLite's integrity check and every
    table's row count against the original), and only then swapped in with
    an atomic rename. Until that rename the original is untouched.
    """
    problem = passphrase_problem(new_passphrase)
    if problem:
        raise ValueError(problem)
    staging = path.with_name(path.name + ".encrypting")
    for leftover in (staging, companion(staging, "-wal"), companion(staging, "-shm")):
        leftover.unlink(missing_ok=True)  # a conversion that crashed part-way
    private_file(staging)
    cipher = driver()
    source = cipher.connect(str(path))
    try:
        if passphrase is not None:
            source.execute(f"PRAGMA key = {_literal(passphrase)}")
        source.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(staging), new_passphrase))
        # Hold off other writers while copying, so the counts compared below
        # are those of the copy.
        source.execute("BEGIN IMMEDIATE")
        source.execute("SELECT sqlcipher_export('encrypted')")
        expected = row_counts(source, "main")
        source.execute("COMMIT")
        source.execute("DETACH DATABASE encrypted")
    except cipher.DatabaseError as error:
        source.close()
        staging.unlink(missing_ok=True)
        raise StoreUnavailable(f"{path}: cannot be read to encrypt it ({error})") from None
    source.close()
    if companion(path, "-wal").exists():
        # Closing the last connection removes the WAL: one still there means
        # another program has the database open and would lose its changes.
        staging.unlink(missing_ok=True)
        raise StoreUnavailable(
            f"{path}: the database is open in another program (the app?); close it and try again"
        )
    _verify(staging, new_passphrase, expected)
    os.replace(staging, path)
    companion(path, "-shm").unlink(missing_ok=True)


def _verify(staging: Path, passphrase: str, expected: dict[str, int]) -> None:
    copy = connect(staging, passphrase)
    try:
        problem = integrity_problem(copy)
        counts = row_counts(copy, "main")
    finally:
        copy.close()
    if problem or counts != expected:
        staging.unlink(missing_ok=True)
        raise StoreUnavailable(
            f"{staging}: the encrypted copy did not check out ({problem or 'row counts differ'}); "
            "the original was left as it was"
        )


def row_counts(connection: Any, schema: str = "main") -> dict[str, int]:
    """Rows in every table of a DB-API connection's ``schema``."""
    tables = [
        name
        for (name,) in connection.execute(
            f"SELECT name FROM {schema}.sqlite_master "
            "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        name: connection.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0]
        for name in tables
    }


def companion(path: Path, suffix: str) -> Path:
    """SQLite's file beside a database: ``-wal``, ``-shm`` or ``-journal``."""
    return path.with_name(path.name + suffix)
