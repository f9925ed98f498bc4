"""Opening the database: SQLite with WAL and foreign keys, migrated on open.

``open_database`` is the one way in. It creates a new file at the newest
schema (encrypted with SQLCipher when given a passphrase, see
``triage.store.cipher``), or upgrades an older one after copying it to a
timestamped backup, so a failed migration can never cost the user their data.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    URL,
    Connection,
    CursorResult,
    Engine,
    Result,
    create_engine,
    event,
    exc,
    inspect,
    make_url,
)
from sqlalchemy.pool import QueuePool

from triage import clock, paths
from triage.private_files import private_file, private_folder, restrict
from triage.store import audit, cipher, dialect
from triage.store.cipher import companion
from triage.store.faults import (
    WRONG_PASSPHRASE,
    StoreDamaged,
    StoreUnavailable,
    integrity_problem,
    store_fault,
)

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker

# Alembic is imported only to migrate (or to list the revisions when the files
# below cannot be read plainly): importing it costs about 0.25 s of CPU, and a
# command on a current database only needs the two revision names.
_REVISION = re.compile(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"^down_revision\b[^=]*=\s*(None|['\"]([^'\"]+)['\"])\s*$", re.MULTILINE
)

# Rolling backups (before a migration, a large import, a purge) kept per database.
DEFAULT_BACKUPS_KEPT = 10

# How long a write waits for another writer (another import, the app) to
# finish before the store counts as unavailable (exit 3).
# ``TRIAGE_BUSY_TIMEOUT`` (seconds) changes it.
BUSY_TIMEOUT_SECONDS = 60.0


def busy_timeout() -> float:
    """The busy timeout in seconds: ``$TRIAGE_BUSY_TIMEOUT`` or the default."""
    text = os.environ.get("TRIAGE_BUSY_TIMEOUT", "").strip()
    try:
        return max(0.0, float(text)) if text else BUSY_TIMEOUT_SECONDS
    except ValueError:
        return BUSY_TIMEOUT_SECONDS


def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cipher.add_math_functions(dbapi_connection)
    cursor = dbapi_connection.cursor()
    # First, so that even switching a new file to WAL waits for another writer.
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout() * 1000)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL is durable under WAL against application crashes (the case we
    # guard); only a power cut can lose the last committed transaction.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 128 MB page cache (allocated only as used): index B-trees of a million
    # items must stay in memory during bulk imports, or inserts slow 3x.
    cursor.execute("PRAGMA cache_size=-131072")
    # Large sorts (building an index after a first load, the queue's ORDER
    # BY, the statistics' GROUP BY) may use a second core.
    cursor.execute("PRAGMA threads=2")
    cursor.close()
    audit.register_functions(dbapi_connection)  # the audit chain's hash, for its INSERT


def make_engine(path: Path, passphrase: str | None = None) -> Engine:
    """An engine on ``path``: plain SQLite, or SQLCipher keyed with ``passphrase``."""
    # The connection returned last is handed out first (LIFO): it holds the
    # warm page cache, and SQLite empties a connection's cache when another
    # connection has written since it last read. Handed out in turn (FIFO),
    # the app's writer re-read each decision's line on a connection whose
    # cache the decision had emptied (1.2-1.4x the CPU of the same calls in
    # one thread). The CLI holds one connection at a time and is unaffected.
    # (An in-memory database has one connection per thread: no pool to order.)
    if passphrase is None:
        lifo = {} if str(path) == ":memory:" else {"pool_use_lifo": True}
        engine = create_engine(f"sqlite:///{path}", **lifo)
    else:
        # The dialect keys every new connection; a pool of kept connections
        # (as for plain files) pays the key derivation once per connection.
        engine = create_engine(
            cipher.engine_url(path, passphrase), poolclass=QueuePool, pool_use_lifo=True
        )
    event.listen(engine, "connect", _on_connect)
    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    # Alembic reads env.py and versions/*.py from disk; frozen, they are bundled data.
    config.set_main_option("script_location", str(paths.bundled("triage", "store", "migrations")))
    config.attributes["engine"] = engine
    return config


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _current_revision(connection)


def _current_revision(connection: Connection) -> str | None:
    """The database's schema revision (None for a new database), as Alembic
    records it, read without importing Alembic."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    if len(versions) > 1:  # branches: never made by Triage; Alembic says what it is
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()
    return str(versions[0][0]) if versions else None


def head_revision(engine: Engine) -> str | None:
    """This version's newest schema revision: read from the migration files'
    ``revision``/``down_revision`` lines (a test holds it to Alembic's answer),
    asking Alembic only if they do not make one plain chain."""
    versions = paths.bundled("triage", "store", "migrations") / "versions"
    revisions: set[str] = set()
    replaced: set[str] = set()
    for file in versions.glob("[!_]*.py"):
        text = file.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            revisions.clear()
            break
        revisions.add(revision.group(1))
        if down.group(2):
            replaced.add(down.group(2))
    heads = revisions - replaced
    if len(heads) == 1 and replaced <= revisions:
        return heads.pop()
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def copy_checked(
    source_path: Path,
    target: Path,
    passphrase: str | None,
    quick: bool = False,
    pinned: Callable[[], None] | None = None,
) -> str | None:
    """Copy the database at ``source_path`` to ``target`` with SQLite's online
    backup (consistent while others write), then check the copy: the first
    problem ``integrity_problem`` finds in it (``quick``: its quick check),
    or None. ``pinned`` is called once the copy is fixed to the database as
    it is at that moment (a read transaction begun): later writes by other
    connections are not in it."""
    source = cipher.connect(source_path, passphrase)
    try:
        if pinned is not None:
            # The backup copies within the source's open read transaction.
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            pinned()
        destination = cipher.connect(target, passphrase)
        try:
            with destination:
                source.backup(destination)
            return integrity_problem(destination, quick)
        finally:
            destination.close()
    finally:
        source.close()


def new_backup_path(path: Path, label: str) -> Path:
    """A new file name for a ``label`` copy of ``path``, stamped now, in its
    private ``backups/`` folder (``-2``, ``-3``, ... when the second is taken)."""
    folder = private_folder(path.parent / "backups")
    stamp = clock.now().strftime("%Y%m%dT%H%M%S")
    target = folder / f"{path.stem}-{label}-{stamp}.sqlite"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem}-{label}-{stamp}-{n}.sqlite"
    return target


def backup(
    path: Path,
    label: str = "backup",
    passphrase: str | None = None,
    keep: int | None = None,
    quick: bool = False,
    pinned: Callable[[], None] | None = None,
) -> Path:
    """Copy a live database consistently (SQLite online backup API).

    The copy is private (0600, in a 0700 folder) and must pass SQLite's
    integrity check: a damaged source gives ``StoreDamaged`` and leaves no
    backup behind, so a bad copy can never stand in for a good one. An
    encrypted database's backup is encrypted with the same passphrase. With
    ``keep``, only the newest ``keep`` backups of this label are kept.

    ``quick``: SQLite's quick check instead, which reads every page and
    record but neither looks each row up in its indexes nor checks CHECK
    constraints (a damaged file is found either way; a restore still runs the full check before it
    replaces anything).
    """
    target = new_backup_path(path, label)
    private_file(target)
    problem = copy_checked(path, target, passphrase, quick, pinned)
    head = None if problem else _chain_head(target, passphrase)
    if problem:
        target.unlink()
        raise StoreDamaged(
            f"{path}: the database is damaged ({problem}); no backup written. "
            "Restore an earlier backup with 'triage db restore'"
        )
    if head is not None:
        # The audit chain's head beside the copy: a log later cut back past it
        # is caught by `triage audit verify --head` (users and audit half).
        private_file(audit_head_file(target)).write_text(head + "\n", encoding="ascii")
    if keep is not None:
        made = sorted(target.parent.glob(f"{glob_escape(path.stem)}-{label}-*.sqlite"), key=_age)
        for old in made[:-keep] if keep > 0 else made:
            if old != target:
                old.unlink()
                audit_head_file(old).unlink(missing_ok=True)
    return target


def audit_head_file(backup_path: Path) -> Path:
    """Where a backup's audit chain head is written."""
    return backup_path.with_name(backup_path.name + ".audit-head")


def _chain_head(path: Path, passphrase: str | None) -> str | None:
    """A copy's audit chain head (None before the chain existed, migration 0006)."""
    connection = cipher.connect(path, passphrase)
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(audit_log)")}
        if "entry_hash" not in columns:
            return None
        row = connection.execute(
            "SELECT entry_hash FROM audit_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        connection.close()
    return str(row[0]) if row and row[0] else audit.GENESIS


def _age(path: Path) -> tuple[float, str]:
    return (path.stat().st_mtime, path.name)


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


@dataclass
class Database:
    """An open database: its file (or server address), engine and session factory."""

    path: Path | None  # None for a database on a server
    engine: Engine
    migrated_from: str | None = None
    backup_path: Path | None = None
    encrypted: bool = False
    backups_kept: int = DEFAULT_BACKUPS_KEPT
    # Kept to key the backups' connections; never shown (repr=False).
    passphrase: str | None = field(default=None, repr=False)
    # A server database's address, its password hidden (shown, logged, audited).
    url: str | None = None

    @property
    def on_server(self) -> bool:
        return self.path is None

    @property
    def location(self) -> str:
        """The file's path, or the server address without its password."""
        return str(self.path) if self.path is not None else str(self.url)

    @property
    def protection(self) -> str:
        """How the data is protected, in words for a status line: a file's
        encryption (SQLCipher), or whether the server connection must use TLS
        (a server's disks are its administrators' to encrypt: docs/team-server.md)."""
        if self.path is not None:
            return "encrypted" if self.encrypted else "not encrypted"
        sslmode = make_url(str(self.url)).query.get("sslmode")
        required = sslmode in ("require", "verify-ca", "verify-full")
        return "on a server, TLS required" if required else "on a server, TLS not required"

    @property
    def name(self) -> str:
        """A short name for titles: the file's name, or ``database@host``."""
        if self.path is not None:
            return self.path.name
        address = make_url(str(self.url))
        return f"{address.database}@{address.host}"

    def file(self) -> Path:
        """The database file; refused (``UnusableDatabasePath``) for a server
        database, whose backups and restores are the server's (pg_dump)."""
        if self.path is None:
            raise paths.UnusableDatabasePath(
                f"{self.location} is a database server: back it up and restore it with "
                "pg_dump and pg_restore (docs/team-server.md)"
            )
        return self.path

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """The ORM's session factory, made at its first use: a command that
        needs only SQLAlchemy Core (``rank intel``: ``engine.connect()``)
        never imports ``sqlalchemy.orm`` and the models (~0.1 s of its start)."""
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def size_bytes(self) -> int:
        if self.path is not None:
            return self.path.stat().st_size
        with self.engine.connect() as connection:
            return int(dialect.database_size(connection))

    def backup(self, label: str = "backup", rolling: bool = False) -> Path | None:
        """A checked, private copy in ``backups/``; ``rolling``: one of the
        automatic ones (before a large import, a purge), of which the newest
        ``backups_kept`` are kept (none on a server, which is backed up by
        its operators' pg_dump), checked with SQLite's quick check: the full
        one cost a million-item database 7 s of CPU before each import."""
        if rolling and self.path is None:
            return None
        keep = self.backups_kept if rolling else None
        return backup(self.file(), label, passphrase=self.passphrase, keep=keep, quick=rolling)

    def rolling_backup_begun(self, label: str) -> Callable[[], Path | None]:
        """A rolling backup (``backup(label, rolling=True)``) of the database
        as it is now, made on another thread while the caller goes on to
        write: returns once the copy is fixed to this moment. The function
        returned waits for it to be made and checked, and gives its path or
        raises what ``backup`` would have (``StoreDamaged`` for a damaged
        file): called before the caller commits, a damaged database still
        stops the change. Nothing on a server."""
        if self.path is None:
            return lambda: None
        made: list[Path] = []
        failed: list[BaseException] = []
        pinned = threading.Event()

        def make() -> None:
            try:
                made.append(
                    backup(
                        self.file(), label, passphrase=self.passphrase,
                        keep=self.backups_kept, quick=True, pinned=pinned.set,
                    )
                )  # fmt: skip
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                failed.append(error)
            finally:
                pinned.set()

        thread = threading.Thread(target=make, name="rolling-backup", daemon=True)
        thread.start()
        pinned.wait()

        def finished() -> Path | None:
            thread.join()
            if failed:
                raise failed[0]
            return made[0]

        return finished


def open_database(
    path: str | Path | None = None,
    passphrase: str | None = None,
    backups_kept: int = DEFAULT_BACKUPS_KEPT,
) -> Database:
    """Open (creating or upgrading as needed) the database at ``path``.

    A new database is encrypted when ``passphrase`` is given. An encrypted
    one needs its passphrase (``StoreUnavailable`` without it, or with a
    wrong one); a plain one opens whatever ``passphrase`` says. Raises
    ``paths.UnusableDatabasePath`` for a folder or a file in a folder that
    does not exist, before anything is created. A URL (``path``, or
    ``TRIAGE_DB`` without it) opens a database on a server (``open_server``).
    """
    url = paths.database_url(path)
    if url is not None:
        return open_server(url)
    db_path = paths.usable_db_path(path)  # never creates folders
    existed = db_path.exists() and db_path.stat().st_size > 0
    encrypted = cipher.is_encrypted(db_path) if existed else passphrase is not None
    if encrypted and passphrase is None:
        raise StoreUnavailable(f"{db_path}: the database is encrypted; its passphrase is needed")
    if not existed and passphrase is not None:
        problem = cipher.passphrase_problem(passphrase)
        if problem:
            raise ValueError(problem)
    # SQLite gives the WAL and SHM files the database file's mode, so a
    # private database file keeps all three private.
    private_file(db_path)
    for beside in (companion(db_path, "-wal"), companion(db_path, "-shm")):
        restrict(beside)
    key = passphrase if encrypted else None
    engine = make_engine(db_path, key)
    try:
        current = schema_revision(engine) if existed else None
    except exc.DatabaseError as error:
        engine.dispose()
        if encrypted and store_fault(error) is not None:
            raise StoreUnavailable(f"{db_path}: {WRONG_PASSPHRASE}") from None
        raise
    head = head_revision(engine)
    backup_path = None
    if current != head:
        # Set up or upgrade under the write lock, reading the version again
        # once it is held: another process opening the same new file at the
        # same moment waits (busy timeout), then finds the schema in place.
        try:
            with engine.connect() as connection:
                dialect.begin_write(connection)
                current = _current_revision(connection)
                existed = existed or current is not None
                if current != head:
                    if _check_before_upgrade(engine, connection, str(db_path), current, head):
                        backup_path = backup(
                            db_path, f"before-{head}", passphrase=key, keep=backups_kept
                        )
                    _upgrade(engine, connection)
                connection.commit()
        except BaseException:
            engine.dispose()
            raise
    return Database(
        path=db_path,
        engine=engine,
        migrated_from=current if existed and current != head else None,
        backup_path=backup_path,
        encrypted=encrypted,
        backups_kept=backups_kept,
        passphrase=key,
    )


def _upgrade(engine: Engine, connection: Connection) -> None:
    """Run the migrations up to the newest on ``connection`` (its transaction)."""
    from alembic import command

    config = alembic_config(engine)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _check_before_upgrade(
    engine: Engine, connection: Connection, db_path: str, current: str | None, head: str | None
) -> bool:
    """Refuse a database that is not ours or is newer; True if it holds data
    to back up before the upgrade (False for a new, empty one)."""
    tables = dialect.table_names(connection)
    if current is None and not tables:
        return False
    if current is None:
        raise RuntimeError(f"{db_path} is not a Triage database (it has no schema version)")
    if not _known_revision(engine, current):
        raise StoreUnavailable(
            f"{db_path}: the database was written by a newer Triage (schema {current}; "
            f"this version knows up to {head}); install the newer Triage to open it. "
            "Nothing was changed"
        )
    return True


def open_server(url: str) -> Database:
    """Open (setting up or upgrading its schema as needed) the database at a
    server address, ``postgresql+psycopg://user:password@host:port/database``.

    An unreachable server, a refused login or a missing database is a
    ``StoreUnavailable`` naming the host, never the password, within
    ``CONNECT_TIMEOUT_SECONDS`` per address. Nothing is written locally.
    """
    address = server_url(url)
    shown = address.render_as_string(hide_password=True)
    engine = create_engine(
        address,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "triage"},
    )
    event.listen(engine, "connect", _on_server_connect)
    try:
        with engine.connect() as connection:
            dialect.begin_write(connection)
            current = _current_revision(connection)
            head = head_revision(engine)
            if current != head:
                _check_before_upgrade(engine, connection, shown, current, head)
                _upgrade(engine, connection)
            connection.commit()
    except exc.OperationalError as error:
        engine.dispose()
        raise StoreUnavailable(f"{shown}: {server_problem(error, address)}") from None
    except BaseException:
        engine.dispose()
        raise
    return Database(
        path=None,
        engine=engine,
        migrated_from=current if current is not None and current != head else None,
        url=shown,
    )


# How long opening waits for each of a server's addresses before it counts as
# unreachable (exit 3): a host name with an IPv4 and an IPv6 address is given
# up within 10 s.
CONNECT_TIMEOUT_SECONDS = 4


def server_url(url: str) -> URL:
    """A server address as SQLAlchemy's URL, PostgreSQL through psycopg 3;
    anything else is refused (``UnusableDatabasePath``)."""
    try:
        address = make_url(url)
    except exc.ArgumentError:
        address = None
    if address is None or address.get_backend_name() != "postgresql":
        scheme = url.split("://")[0]
        raise paths.UnusableDatabasePath(
            f"{scheme}://...: not a database Triage can use; give a database file's path or a "
            "PostgreSQL address, postgresql+psycopg://user@host:5432/database"
        )
    if address.get_driver_name() != "psycopg":
        address = address.set(drivername="postgresql+psycopg")
    if not address.database:
        raise paths.UnusableDatabasePath(
            f"{address.render_as_string(hide_password=True)}: name the database after the "
            "host, postgresql+psycopg://user@host:5432/database"
        )
    return address


def server_problem(error: exc.OperationalError, address: URL) -> str:
    """Why a server could not be used, in words, without the password (libpq's
    messages never carry it; it is cut out all the same)."""
    text = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
    if address.password:
        text = text.replace(str(address.password), "***")
    lowered = text.lower()
    host = f"{address.host or 'localhost'}:{address.port or 5432}"
    if (
        "password authentication failed" in lowered
        or "no password supplied" in lowered
        or ("authentication failed" in lowered)
    ):
        return f"the server at {host} refused the login (wrong user name or password)"
    if "does not exist" in lowered and "database" in lowered:
        return f"the server at {host} has no database {address.database!r}; create it first"
    if "timeout" in lowered or "timed out" in lowered:
        return f"the database server at {host} did not answer (timed out)"
    return f"the database server at {host} cannot be reached ({text})"


def _on_server_connect(dbapi_connection: Any, _record: object) -> None:
    # A writer waits this long for a row or table another writer holds,
    # then the store counts as busy (exit 3), as SQLite's busy timeout.
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {int(busy_timeout() * 1000)}")
    dbapi_connection.commit()


def create_database(path: str | Path, passphrase: str | None = None) -> Path:
    """A new, empty database at ``path`` (encrypted with ``passphrase`` if
    given), its folder made if needed (``triage db init``). Refused if a
    database file is already there."""
    target = Path(paths.refuse_url(path))
    if target.exists() and (target.is_dir() or target.stat().st_size > 0):
        raise paths.UnusableDatabasePath(f"{target} already exists: choose a new file name")
    private_folder(target.parent)
    open_database(target, passphrase).close()
    return target


def _known_revision(engine: Engine, revision: str) -> bool:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(engine))
    return any(script.revision == revision for script in scripts.walk_revisions())


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run by ``Session.execute`` changed.

    ``Session.execute`` is typed to return a plain ``Result``; for these
    statements it is a ``CursorResult``, which has the count."""
    return cast(CursorResult[Any], result).rowcount


def limit_page_cache(db: Database, kib: int) -> None:
    """Give every connection opened on ``db`` from now on a page cache of ``kib``
    KiB (the app's, smaller than the bulk paths' 128 MB; see ui.main_window)."""

    if db.on_server:  # the server's memory is its operators' setting
        return

    def on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA cache_size=-{int(kib)}")

    event.listen(db.engine, "connect", on_connect)
    db.engine.dispose()  # connections opened before (migrations) get it on reopening
