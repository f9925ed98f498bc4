"""CLI: ``triage db info`` and ``triage db backup``."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import func, select

from triage.cli.common import add_format, database, print_json
from triage.cli.main import Groups, Subcommands
from triage.store import db as database_module
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


def database_info(db: database_module.Database) -> dict[str, Any]:
    with db.transaction() as session:
        counts = {
            name: session.scalar(select(func.count()).select_from(m)) for name, m in COUNTED.items()
        }
        counts["quarantined_open"] = session.scalar(
            select(func.count()).where(QuarantinedRow.status == "open")
        )
    return {
        "path": str(db.path),
        "size_bytes": db.path.stat().st_size,
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
        target = database_module.backup(db.path)
    finally:
        db.close()
    if args.format == "json":
        print_json({"backup": str(target)})
    else:
        print(f"backed up to {target}")
    return 0
