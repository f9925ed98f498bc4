"""Helpers every command module uses: opening the database, printing."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DatabaseError

from triage import clock, paths
from triage.cli.main import UsageError
from triage.store.db import Database, open_database


def add_format(parser: argparse.ArgumentParser, formats: Sequence[str] = ("table", "json")) -> None:
    """``--format`` with the command's formats (the first is the default) and
    ``--json`` as an alias of ``--format json``: one spelling on every command."""
    parser.add_argument(
        "--format", choices=formats, default=formats[0], help=f"output: {', '.join(formats)}"
    )
    parser.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )


def print_done(args: argparse.Namespace, text: str, result: dict[str, Any]) -> None:
    """A command's outcome: ``text`` for a person, ``result`` for --format json."""
    if args.format == "json":
        print_json(result)
    else:
        print(text)


def database(args: argparse.Namespace) -> Database:
    try:
        return open_database(args.db)
    except DatabaseError as error:  # --db names a file that is not SQLite (an extract, ...)
        where = paths.resolve_db_path(args.db)
        raise UsageError(f"{where}: not a Triage database ({error.orig})") from None
    except RuntimeError as error:  # SQLite, but another program's database
        raise UsageError(str(error)) from None


def moment_text(moment: datetime) -> str:
    """A stored (naive UTC) time as UK local time with its offset, e.g.
    2026-04-30T00:00:00+01:00: what the app shows, and unambiguous to a
    program reading it."""
    return clock.to_local(moment).isoformat(timespec="seconds")


def _json_value(value: Any) -> Any:
    return moment_text(value) if isinstance(value, datetime) else str(value)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=_json_value, ensure_ascii=False)
    sys.stdout.write("\n")


def print_rows(
    rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None
) -> None:
    """Print dict rows as an aligned table, CSV or JSON."""
    if fmt == "json":
        print_json(list(rows))
        return
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        # Lists as the extracts write them (formats.md: semicolon separated),
        # not as Python's repr.
        writer.writerows({k: _csv_value(v) for k, v in row.items()} for row in rows)
        return
    print_table(columns, ([_cell(row.get(c)) for c in columns] for row in rows))


def _csv_value(value: Any) -> Any:
    # Lists as the extracts write them (semicolon separated), not as Python's repr.
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, list | tuple):
        return ";".join(map(str, value))
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list | tuple):
        return ";".join(map(str, value))
    return str(value)


def print_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    body = [list(map(str, r)) for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in body:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
