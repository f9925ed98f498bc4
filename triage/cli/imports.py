"""CLI: ``triage import KIND FILE`` and ``triage quarantine list|export|fix|discard``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from triage import settings, spreadsheet
from triage.cli.common import acting_user, add_format, database, print_json, print_rows
from triage.cli.main import Groups, Subcommands, UsageError
from triage.cli.progress import terminal_job
from triage.imports import extracts
from triage.imports.columns import KINDS
from triage.imports.importer import (
    MAX_QUARANTINED,
    ImportResult,
    UnreadableFile,
    discard_quarantined,
    import_file,
    reimport_quarantined,
)
from triage.imports.quarantine import quarantined_rows
from triage.store.db import BUSY_TIMEOUT_SECONDS

IMPORT_EPILOG = f"""\
limits (a file over one is refused, nothing changed):
  {extracts.MAX_COLUMNS:,} columns; {extracts.MAX_CELL_CHARS:,} characters in a cell (a longer \
cell quarantines its row);
  {extracts.MAX_ROW_CHARS:,} characters in a row; {extracts.MAX_ROW_LINES:,} lines in one \
quoted cell; {extracts.MAX_ROWS:,} rows;
  {extracts.MAX_XLSX_PART_BYTES // 2**20} MB unpacked for any part of an .xlsx; more than \
{MAX_QUARANTINED:,} bad rows that are most of the file.
a write waits up to $TRIAGE_BUSY_TIMEOUT seconds (default {BUSY_TIMEOUT_SECONDS:.0f}) for \
another writer.

exit status:
  0  imported, no row quarantined
  1  imported; some rows quarantined (listed; all in 'triage quarantine list')
  2  the file cannot be used (not CSV/XLSX, damaged, a limit, a required column missing);
     nothing changed
  3  the database is unavailable (locked beyond the busy timeout, disk full, read-only
     file or folder, damaged); nothing changed
"""


def register(top: Subcommands, groups: Groups) -> None:
    parser = top.add_parser(
        "import",
        help="import an extract file (CSV or XLSX)",
        description="Import one extract: good rows are stored, bad rows quarantined with "
        "their line and reason, all in one transaction (docs/formats.md).",
        epilog=IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=list(KINDS), help="what the file holds")
    parser.add_argument(
        "file",
        help="the extract: CSV (comma separated; UTF-8, UTF-16 with a byte-order mark, "
        "or Windows-1252) or XLSX (first sheet)",
    )
    add_format(parser)
    parser.add_argument(
        "--mapping",
        metavar="PROFILE",
        help="a column-mapping profile saved on the app's Imports screen",
    )
    parser.set_defaults(handler=run_import)

    quarantine = top.add_parser("quarantine", help="rows that could not be imported")
    actions = quarantine.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="open quarantined rows")
    add_format(listing)
    listing.add_argument("--all", action="store_true", help="include resolved and discarded rows")
    listing.set_defaults(handler=run_list)
    export = actions.add_parser("export", help="write open quarantined rows as CSV")
    export.add_argument("--out", help="file (default: standard output)")
    add_format(export, ("csv", "json"))
    export.set_defaults(handler=run_export)
    fix = actions.add_parser("fix", help="correct cells of a row and re-import it")
    fix.add_argument("row_id", type=int, help="the id 'quarantine list' shows")
    fix.add_argument(
        "cells",
        nargs="*",
        metavar="COLUMN=VALUE",
        help="a corrected cell, e.g. received_at=2026-03-14 (quote a value with spaces)",
    )
    add_format(fix)
    fix.set_defaults(handler=run_fix)
    discard = actions.add_parser("discard", help="set aside a junk row (kept, not imported)")
    discard.add_argument("row_id", type=int, help="the id 'quarantine list' shows")
    discard.add_argument("--reason", required=True, help="why (goes to the audit log)")
    add_format(discard)
    discard.set_defaults(handler=run_discard)


def _mapping(name: str | None) -> dict[str, str] | None:
    if not name:
        return None
    profiles = settings.load().mapping_profiles
    if name not in profiles:
        known = ", ".join(profiles) or "none saved yet: save one on the app's Imports screen"
        raise UsageError(f"no column-mapping profile {name!r} (known: {known})")
    return profiles[name]


def run_import(args: argparse.Namespace) -> int:
    mapping = _mapping(args.mapping)
    db = database(args)
    try:
        with terminal_job(args) as job:
            result = import_file(
                db, args.kind, args.file, mapping=mapping, job=job, actor=acting_user(args, db)
            )
    except UnreadableFile as error:
        if args.format == "json":
            print_json({"kind": args.kind, "file": args.file, "error": str(error)})
        raise UsageError(str(error)) from None
    finally:
        db.close()
    report(result, args.format == "json")
    return 1 if result.quarantined else 0


def report(result: ImportResult, as_json: bool) -> None:
    if as_json:
        print_json(result.to_json())
        return
    print(
        f"{result.file}: {result.rows_read:,} row{'' if result.rows_read == 1 else 's'} read, "
        f"{result.inserted:,} inserted, "
        f"{result.updated:,} updated, {result.unchanged:,} unchanged, "
        f"{result.quarantined:,} quarantined (batch {result.batch_id})"
    )
    if result.encoding and result.encoding != "UTF-8":
        print(f"  read as {result.encoding} text")
    for first, last in result.multi_line[:5]:
        print(f"  lines {first}-{last} are one row (a quoted cell over several lines)")
    if len(result.multi_line) > 5:
        print(f"  ... and {len(result.multi_line) - 5} more rows over several lines")
    for line, reason in result.problems:
        print(f"  line {line}: {reason}")
    if result.quarantined > len(result.problems):
        print(f"  ... and {result.quarantined - len(result.problems)} more: triage quarantine list")


def _rows(args: argparse.Namespace, include_resolved: bool = False) -> list[dict[str, Any]]:
    db = database(args)
    try:
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "file": row.file_name,
                "line": row.line_no,
                "reason": row.reason,
                "status": row.status,
                "raw": row.raw_text,
            }
            for row in quarantined_rows(db, include_resolved=include_resolved)
        ]
    finally:
        db.close()


def run_list(args: argparse.Namespace) -> int:
    rows = _rows(args, args.all)
    if args.format == "json":
        print_json(rows)
    elif rows:
        columns = ["id", "kind", "file", "line", "status", "reason"]
        print_rows(rows, "table", columns, wide=args.wide)
    else:
        print("The quarantine is empty.")
    return 0


def run_export(args: argparse.Namespace) -> int:
    rows = _rows(args)
    if args.format == "json":
        print_json(rows)
        return 0
    try:
        handle = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    except OSError as error:  # a folder that does not exist, no permission, ...
        raise UsageError(f"{args.out}: cannot write it ({error.strerror})") from None
    try:
        columns = ["id", "kind", "file", "line", "reason", "status", "raw"]
        writer = spreadsheet.csv_writer(handle)
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)
    finally:
        if args.out:
            handle.close()
    return 0


def run_fix(args: argparse.Namespace) -> int:
    fixed = {}
    for cell in args.cells:
        name, sep, value = cell.partition("=")
        if not sep:
            raise UsageError(f"{cell!r}: write cells as COLUMN=VALUE")
        fixed[name] = value
    db = database(args)
    try:
        result = reimport_quarantined(db, args.row_id, fixed, actor=acting_user(args, db))
    except KeyError as error:
        raise UsageError(str(error.args[0])) from None
    except (UnreadableFile, ValueError) as error:
        raise UsageError(str(error)) from None
    finally:
        db.close()
    report(result, args.format == "json")
    return 1 if result.quarantined else 0


def run_discard(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        discard_quarantined(db, args.row_id, args.reason, actor=acting_user(args, db))
    except KeyError as error:
        raise UsageError(str(error.args[0])) from None
    except ValueError as error:
        raise UsageError(str(error)) from None
    finally:
        db.close()
    if args.format == "json":
        print_json(
            {"id": args.row_id, "status": "discarded", "discard_reason": args.reason.strip()}
        )
    else:
        print(f"Quarantined row {args.row_id} discarded.")
    return 0
