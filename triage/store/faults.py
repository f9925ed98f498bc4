"""Store faults: the database cannot be used as it is (CLI exit status 3).

A locked, damaged, read-only, full or unreadable database, a wrong
passphrase, or a schema newer than this app: each is a ``StoreUnavailable``
with a message that names the problem and never a value from the data
(SQLite's own messages name tables and constraints, not cells).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc

WRONG_PASSPHRASE = "wrong passphrase or not a Triage database"


class StoreUnavailable(Exception):
    """The database cannot be opened, read or written as it is."""


class StoreDamaged(StoreUnavailable):
    """The file fails SQLite's integrity check, or a read found a damaged page."""


# SQLite's message (lower case, as the driver gives it) -> what it means for the user.
_MEANINGS = {
    "database disk image is malformed": "the database is damaged (database disk image is "
    "malformed); restore a backup with 'triage db restore'",
    "file is not a database": WRONG_PASSPHRASE,
    "database is locked": "the database is locked by another program; try again when it "
    "has finished",
    "readonly database": "the database is read-only (check the file's permissions)",
    "database or disk is full": "the disk is full; free some space and try again",
    "disk i/o error": "the disk reported an I/O error reading or writing the database",
    "unable to open database file": "the database file cannot be opened (missing folder "
    "or no permission)",
    # PostgreSQL's (through psycopg)
    "lock timeout": "the database is locked by another program; try again when it has finished",
    "server closed the connection": "the database server closed the connection",
    "terminating connection": "the database server closed the connection",
    "connection failed": "the database server cannot be reached",
    "could not receive data from server": "the database server cannot be reached",
    "no space left on device": "the database server's disk is full",
    "read-only transaction": "the database server is read-only",
}


def store_fault(error: BaseException) -> StoreUnavailable | None:
    """The store fault behind a database error, or None for a fault in the program.

    Constraint and programming errors (IntegrityError, ProgrammingError) are
    bugs or bad input, never the store being unavailable, so they are None.
    """
    if isinstance(error, StoreUnavailable):
        return error
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    names = _driver_error_names(original)
    if "DatabaseError" not in names or names & {"IntegrityError", "ProgrammingError"}:
        return None
    text = str(original).lower()
    for sqlite_message, meaning in _MEANINGS.items():
        if sqlite_message in text:
            kind = StoreDamaged if "damaged" in meaning else StoreUnavailable
            return kind(meaning)
    first_line = (str(original).strip().splitlines() or [""])[0]  # psycopg adds detail lines
    return StoreUnavailable(f"the database cannot be used ({first_line})")


def _driver_error_names(error: BaseException | None) -> set[str]:
    """The DB-API class names of a database driver's error (empty for anything else).

    sqlite3's, sqlcipher3's and psycopg's errors have the same DB-API names
    but are different classes, so they are matched by name within those drivers.
    """
    if not type(error).__module__.startswith(("sqlite3", "sqlcipher3", "psycopg")):
        return set()
    return {cls.__name__ for cls in type(error).__mro__}


def is_driver_error(error: BaseException) -> bool:
    """A database error raised by sqlite3 or sqlcipher3 itself."""
    return "DatabaseError" in _driver_error_names(error)


def integrity_problem(connection: Any, quick: bool = False) -> str | None:
    """The first problem ``PRAGMA integrity_check`` reports on a DB-API
    connection (sqlite3 or sqlcipher3), or None if the check passes.

    ``quick`` (a rolling backup's check): ``PRAGMA quick_check`` with the
    CHECK constraints ignored, every page, b-tree, record and NOT NULL
    constraint checked in one pass over the file, but no row looked up in
    each of its indexes, so neither an index that disagrees with its table
    nor a broken UNIQUE constraint is found (7 s to 1 s of CPU at 1,000,000
    items), nor a value a CHECK constraint forbids (a logic error, not a
    file damaged on disk: 0.45 of the 1.1-1.3 s at 200,000 items; a restore
    runs the full check). docs/decisions.md, "The rolling backup's check".

    Its messages name pages, tables and indexes, never a cell's value.
    """
    check = "quick_check" if quick else "integrity_check"
    try:
        if quick:
            connection.execute("PRAGMA ignore_check_constraints=ON")
        try:
            rows = connection.execute(f"PRAGMA {check}(1)").fetchall()
        finally:
            if quick:
                connection.execute("PRAGMA ignore_check_constraints=OFF")
    except Exception as error:  # a damaged header or schema: the check cannot run
        if not is_driver_error(error):
            raise
        return str(error)
    first = str(rows[0][0]) if rows else "no result"
    if first == "ok":
        return None
    return " ".join(first.replace("*** in database main ***", "").split())
