"""CLI: ``triage db info|init|backup|restore|encrypt|rekey``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from triage import paths
from triage.cli.common import (
    add_format,
    database,
    new_passphrase,
    print_done,
    print_json,
    read_passphrase,
)
from triage.cli.main import Groups, Subcommands, UsageError
from triage.cli.sync import register_copy
from triage.store import backups, cipher
from triage.store import db as database_module
from triage.store.db import open_database
from triage.store.models import (
    AuditEntry,
    EmCase,
    EmEvent,
    ImportBatch,
    IntelItem,
    QuarantinedRow,
    TaskingMeeting,
    TaskingOutcome,
)

COUNTED = {
    "intel_items": IntelItem,
    "em_cases": EmCase,
    "em_events": EmEvent,
    "meetings": TaskingMeeting,
    "outcomes": TaskingOutcome,
    "import_batches": ImportBatch,
    "audit_entries": AuditEntry,
}


def register(top: Subcommands, groups: Groups) -> None:
    parser = top.add_parser("db", help="the database file")
    actions = parser.add_subparsers(dest="action", required=True)
    info = actions.add_parser("info", help="where it is, its schema version and counts")
    add_format(info)
    info.set_defaults(handler=run_info)
    backup = actions.add_parser("backup", help="copy the database consistently")
    add_format(backup)
    backup.set_defaults(handler=run_backup)
    register_protection(actions)
    register_copy(actions)


def database_info(db: database_module.Database) -> dict[str, Any]:
    with db.transaction() as session:
        counts = {
            name: session.scalar(select(func.count()).select_from(m)) for name, m in COUNTED.items()
        }
        counts["quarantined_open"] = session.scalar(
            select(func.count()).where(QuarantinedRow.status == "open")
        )
    return {
        "path": db.location,
        "size_bytes": db.size_bytes(),
        "schema_revision": database_module.schema_revision(db.engine),
        "counts": counts,
    }


def run_info(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        info = database_info(db)
    finally:
        db.close()
    if args.format == "json":
        print_json(info)
        return 0
    print(f"database: {info['path']} ({info['size_bytes'] / 1e6:.1f} MB)")
    print(f"schema:   revision {info['schema_revision']}")
    for name, count in info["counts"].items():
        print(f"  {name.replace('_', ' '):<18} {count:>10,}")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        target = db.backup()
    except paths.UnusableDatabasePath as error:  # a server: pg_dump's job
        raise UsageError(str(error)) from None
    finally:
        db.close()
    if args.format == "json":
        print_json({"backup": str(target)})
    else:
        print(f"backed up to {target}")
    return 0


def register_protection(actions: Subcommands) -> None:
    """``init``, ``encrypt``, ``rekey`` and ``restore``: issue 16's storage commands."""
    init = actions.add_parser(
        "init", help="create a new, empty database (and its folder if needed)"
    )
    init.add_argument("path", help="the new database file, e.g. team/triage.sqlite")
    init.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt it with SQLCipher (passphrase from a prompt or $TRIAGE_PASSPHRASE)",
    )
    add_format(init)
    init.set_defaults(handler=run_init)
    encrypt = actions.add_parser(
        "encrypt", help="encrypt a plain database in place (a verified copy, then swapped)"
    )
    encrypt.add_argument("path", nargs="?", help="the database (default: --db)")
    add_format(encrypt)
    encrypt.set_defaults(handler=run_encrypt)
    rekey = actions.add_parser(
        "rekey", help="change an encrypted database's passphrase (new one: $TRIAGE_NEW_PASSPHRASE)"
    )
    rekey.add_argument("path", nargs="?", help="the database (default: --db)")
    add_format(rekey)
    rekey.set_defaults(handler=run_rekey)
    restore = actions.add_parser(
        "restore", help="check a backup, then put it in place of the database"
    )
    restore.add_argument("backup", help="the backup file")
    restore.add_argument("--to", help="the database to replace (default: --db)")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_format(restore)
    restore.set_defaults(handler=run_restore)


def _target(args: argparse.Namespace, given: str | None) -> Path:
    return Path(given) if given else paths.resolve_db_path(args.db)


def run_init(args: argparse.Namespace) -> int:
    try:
        path = Path(paths.refuse_url(args.path))
        if path.exists() and (path.is_dir() or path.stat().st_size > 0):
            raise UsageError(f"{path}: already exists; choose a new file name")
        passphrase = new_passphrase("TRIAGE_PASSPHRASE") if args.encrypt else None
        database_module.create_database(path, passphrase)
    except paths.UnusableDatabasePath as error:
        raise UsageError(str(error)) from None
    except OSError as error:  # a folder that cannot be made, no permission, ...
        raise UsageError(f"{args.path}: cannot create it ({error.strerror})") from None
    state = "encrypted" if args.encrypt else "not encrypted"
    print_done(
        args, f"created {path} ({state})", {"database": str(path), "encrypted": args.encrypt}
    )
    return 0


def run_encrypt(args: argparse.Namespace) -> int:
    path = _target(args, args.path)
    _must_exist(path)
    if cipher.is_encrypted(path):
        raise UsageError(
            f"{path}: already encrypted (use 'triage db rekey' to change the passphrase)"
        )
    open_database(path).close()  # a Triage database, at the current schema
    plain_backups = [b for b in _backups_of(path) if not cipher.is_encrypted(b)]
    cipher.reencrypt(path, new_passphrase("TRIAGE_PASSPHRASE"))
    text = f"encrypted {path}"
    if plain_backups:
        text += (
            f"\n{len(plain_backups)} earlier backup(s) in {path.parent / 'backups'} are not "
            "encrypted: delete them, or keep them only somewhere as safe"
        )
    print_done(
        args,
        text,
        {
            "database": str(path),
            "encrypted": True,
            "plain_backups": [str(b) for b in plain_backups],
        },
    )
    return 0


def run_rekey(args: argparse.Namespace) -> int:
    path = _target(args, args.path)
    _must_exist(path)
    if not cipher.is_encrypted(path):
        raise UsageError(f"{path}: not encrypted (use 'triage db encrypt')")
    current = read_passphrase(path)
    open_database(path, current).close()  # the passphrase is right; the schema current
    cipher.reencrypt(path, new_passphrase("TRIAGE_NEW_PASSPHRASE"), current)
    print_done(
        args,
        f"changed the passphrase of {path} (earlier backups keep the old one)",
        {"database": str(path), "encrypted": True},
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    source = Path(args.backup)
    target = _target(args, args.to)
    passphrase = read_passphrase(source) if cipher.is_encrypted(source) else None
    try:
        check = backups.check_backup(source, passphrase)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    rows = sum(check.tables.values())
    summary = (
        f"{source}: passes the integrity check; schema {check.schema_revision}; "
        f"{rows:,} rows in {len(check.tables)} tables"
        f"{'; encrypted' if check.encrypted else ''}"
    )
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("restoring replaces the database: add --yes to do it without asking")
        print(summary)
        answer = input(f"Replace {target} with this backup? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing was replaced")
            return 1
    kept = backups.restore(source, target, passphrase)
    kept_text = f"; the database it replaced is kept as {kept}" if kept else ""
    print_done(
        args,
        f"{summary}\nrestored {target} from {source}{kept_text}",
        {
            "restored": str(source),
            "database": str(target),
            "replaced_kept_as": str(kept) if kept else None,
            "schema_revision": check.schema_revision,
            "rows": rows,
        },
    )
    return 0


def _must_exist(path: Path) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        raise UsageError(f"{path}: no such database")


def _backups_of(path: Path) -> list[Path]:
    folder = path.parent / "backups"
    return sorted(folder.glob(f"{database_module.glob_escape(path.stem)}-*.sqlite"))
