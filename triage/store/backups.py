"""Restoring a backup.

``restore`` checks a backup before anything is replaced: it must be a
Triage database this version can open (not from a newer schema), pass
SQLite's integrity check, open with the passphrase given when
encrypted, and have an intact audit chain that still holds the head
recorded beside it when it was made.
Only then is it copied beside the target, checked again, and swapped in;
the database it replaces is kept in ``backups/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.private_files import open_in_another_process, private_file, private_folder
from triage.store import audit, cipher
from triage.store.cipher import companion
from triage.store.db import (
    alembic_config,
    audit_head_file,
    copy_checked,
    make_engine,
    new_backup_path,
)
from triage.store.faults import StoreDamaged, StoreUnavailable, integrity_problem, is_driver_error


@dataclass(frozen=True)
class BackupCheck:
    """What ``check_backup`` found: the backup is usable."""

    path: Path
    encrypted: bool
    schema_revision: str
    tables: dict[str, int]


def check_backup(path: Path, passphrase: str | None = None) -> BackupCheck:
    """Check a backup without changing anything; ``StoreUnavailable`` says why it is unusable."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such backup file")
    encrypted = cipher.is_encrypted(path)
    if encrypted and passphrase is None:
        raise StoreUnavailable(f"{path}: the backup is encrypted; its passphrase is needed")
    connection = cipher.connect(path, passphrase if encrypted else None)
    try:
        problem = integrity_problem(connection)
        if problem:
            raise StoreDamaged(f"{path}: the backup is damaged ({problem}); nothing was replaced")
        revision = _revision(connection, path)
        tables = cipher.row_counts(connection)
    finally:
        connection.close()
    known = _known_revisions()
    if revision not in known:
        raise StoreUnavailable(
            f"{path}: the backup was written by a newer Triage (schema {revision}); "
            "install the newer Triage to restore it. Nothing was replaced"
        )
    return BackupCheck(path, encrypted, revision, tables)


def restore(backup_path: Path, target: Path, passphrase: str | None = None) -> Path | None:
    """Replace ``target`` with a checked copy of ``backup_path``.

    Returns where the replaced database was kept (``backups/`` beside it),
    or None if there was none. Refused (``StoreUnavailable``) while another
    process, the app say, has ``target`` open: the swap would happen under it.
    """
    if open_in_another_process(companion(target, "-shm")):
        raise StoreUnavailable(
            f"{target}: the database is open in another Triage window or command; "
            "close it, then restore. Nothing was replaced"
        )
    check_backup(backup_path, passphrase)
    key = passphrase if cipher.is_encrypted(backup_path) else None
    private_folder(target.parent)
    staging = target.with_name(target.name + ".restoring")
    for leftover in (staging, companion(staging, "-wal"), companion(staging, "-shm")):
        leftover.unlink(missing_ok=True)  # a restore that crashed part-way
    private_file(staging)
    problem = copy_checked(backup_path, staging, key)
    if problem:
        staging.unlink(missing_ok=True)
        raise StoreDamaged(f"{staging}: the copy failed its integrity check ({problem})")
    chain_problem = audit_chain_problem(staging, key, recorded_head(backup_path))
    if chain_problem:
        staging.unlink(missing_ok=True)
        raise StoreDamaged(
            f"{backup_path}: the audit chain does not check out ({chain_problem}); "
            "nothing was replaced"
        )
    kept = _set_aside(target) if target.exists() and target.stat().st_size > 0 else None
    os.replace(staging, target)
    for stale in (companion(target, "-wal"), companion(target, "-shm")):
        stale.unlink(missing_ok=True)
    return kept


def recorded_head(backup_path: Path) -> str | None:
    """The audit chain head written beside a backup when it was made, if any."""
    try:
        return audit_head_file(backup_path).read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def audit_chain_problem(
    path: Path, passphrase: str | None, expected_head: str | None
) -> str | None:
    """The first break in the audit chain of the database at ``path`` (or a
    missing append-only trigger), or None. A database from before the chain
    existed has nothing to check: its entries are chained when it is migrated."""
    engine = make_engine(path, passphrase)
    try:
        with engine.connect() as connection:
            columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(audit_log)")}
            if "entry_hash" not in columns:
                return None
            result = audit.verify(connection, expected_head=expected_head)
            missing = audit.missing_triggers(connection)
    finally:
        engine.dispose()
    if result.problem:
        return result.problem
    return f"append-only trigger missing or changed: {', '.join(missing)}" if missing else None


def _set_aside(target: Path) -> Path:
    """Move the database being replaced (and its WAL, whose changes belong to
    it) into ``backups/``: it may be damaged, but it is the user's data."""
    kept = new_backup_path(target, "replaced")
    os.replace(target, kept)
    wal = companion(target, "-wal")
    if wal.exists():
        os.replace(wal, companion(kept, "-wal"))
    return kept


def _revision(connection: Any, path: Path) -> str:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except Exception as error:
        if not is_driver_error(error):
            raise
        row = None
    if row is None:
        raise StoreUnavailable(f"{path}: not a Triage database (it has no schema version)")
    return str(row[0])


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    engine = make_engine(Path(":memory:"))
    try:
        scripts = ScriptDirectory.from_config(alembic_config(engine))
        return {script.revision for script in scripts.walk_revisions()}
    finally:
        engine.dispose()
