"""Helpers every command module uses: opening the database, printing."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DatabaseError

from triage import clock, paths, settings
from triage.cli.main import UsageError
from triage.store import cipher
from triage.store.db import Database, open_database
from triage.store.faults import StoreUnavailable
from triage.users import Actor, accounts

# A table fits this many characters a line unless --wide asks for every column
# in full; a cell longer than CELL_CAP is cut with "…" first.
TABLE_WIDTH = 100
CELL_CAP = 32


def add_format(
    parser: argparse.ArgumentParser,
    formats: Sequence[str] = ("table", "json"),
    default: str | None = "",
) -> None:
    """``--format`` with the command's formats (``default``, else the first, is
    the default; None leaves it to the command) and ``--json`` as an alias of
    ``--format json``: one spelling on every command."""
    parser.add_argument(
        "--format",
        choices=formats,
        default=formats[0] if default == "" else default,
        help=f"output: {', '.join(formats)}",
    )
    parser.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )
    if "table" in formats:
        parser.add_argument(
            "--wide",
            action="store_true",
            help=f"every table column in full (else fitted to {TABLE_WIDTH} characters)",
        )


def print_done(args: argparse.Namespace, text: str, result: dict[str, Any]) -> None:
    """A command's outcome: ``text`` for a person, ``result`` for --format json."""
    if args.format == "json":
        print_json(result)
    else:
        print(text)


def usable_path(given: str | None) -> Path:
    """The database file an option names; a usage error (exit 2) for a folder,
    a missing folder or an address."""
    try:
        return paths.usable_db_path(given)
    except paths.UnusableDatabasePath as error:
        raise UsageError(str(error)) from None


def database(args: argparse.Namespace) -> Database:
    """The open database, with the acting user signed in (exit 4 if they cannot)."""
    url = paths.database_url(args.db)
    path = usable_path(args.db) if url is None else None
    passphrase = read_passphrase(path) if path and cipher.is_encrypted(path) else None
    try:
        if url is not None:  # nothing local: no settings read, no backups kept here
            db = open_database(url)
        else:
            db = open_database(path, passphrase, backups_kept=settings.load().backups_kept)
    except paths.UnusableDatabasePath as error:  # an address that is not PostgreSQL
        raise UsageError(str(error)) from None
    except DatabaseError as error:
        if "file is not a database" not in str(error.orig):
            raise  # locked, read-only, full, ...: the store is unavailable (exit 3)
        # --db names a file that is not SQLite (an extract, ...)
        raise UsageError(f"{path}: not a Triage database ({error.orig})") from None
    except RuntimeError as error:  # SQLite, but another program's database
        raise UsageError(str(error)) from None
    try:
        acting_user(args, db)
    except BaseException:
        db.close()
        raise
    return db


def acting_user(args: Any, db: Database) -> Actor:
    """The user the command acts for, passed to every core operation:
    ``--user`` or ``$TRIAGE_USER`` with the password from ``$TRIAGE_PASSWORD``
    or a prompt; none at all while the database has one password-less user.
    Signed in once per command."""
    signed_in: Actor | None = getattr(args, "_actor", None)
    if signed_in is not None:
        return signed_in
    name = getattr(args, "user", None) or os.environ.get("TRIAGE_USER") or None
    password = None
    if name is not None and accounts.needs_password(db, name):
        password = os.environ.get("TRIAGE_PASSWORD")
        if password is None and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {name}: ")
    actor = accounts.sign_in(db, name, password)
    args._actor = actor
    return actor


def model_weight() -> float:
    """The user's weight for the harm score in the queue order (a setting)."""
    return float(settings.load().model_weight)


def read_passphrase(path: Path) -> str:
    """An encrypted file's passphrase: ``$TRIAGE_PASSPHRASE``, else asked (never echoed)."""
    given = os.environ.get("TRIAGE_PASSPHRASE")
    if given:
        return given
    if not sys.stdin.isatty():
        raise StoreUnavailable(
            f"{path}: the database is encrypted; give its passphrase at a prompt "
            "(run from a terminal) or in TRIAGE_PASSPHRASE"
        )
    return getpass.getpass(f"Passphrase for {path.name}: ")


def new_passphrase(variable: str) -> str:
    """A new passphrase: ``$variable``, else asked twice (never echoed)."""
    given = os.environ.get(variable)
    if not given:
        if not sys.stdin.isatty():
            raise UsageError(f"no passphrase given: set {variable} or run from a terminal")
        given = getpass.getpass("New passphrase: ")
        if getpass.getpass("The same again: ") != given:
            raise UsageError("the two passphrases differ; nothing was changed")
    problem = cipher.passphrase_problem(given)
    if problem:
        raise UsageError(f"{problem}; nothing was changed")
    return given


def option_day(text: str, option: str) -> date:
    """The UK date an option gives; a usage error naming the option if it is not one."""
    try:
        return clock.parse_date(text)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from None


def optional_day(text: str | None, option: str) -> date | None:
    """``option_day`` for an option that may be left out (None when it is)."""
    return option_day(text, option) if text else None


def moment_text(moment: datetime) -> str:
    """A stored (naive UTC) time in the display time zone with its offset, e.g.
    2026-04-30T00:00:00+01:00: what the app shows, and unambiguous to a
    program reading it."""
    return clock.to_display(moment).isoformat(timespec="seconds")


def clock_text(moment: datetime) -> str:
    """A stored time for a heading: display time to the minute, with its zone
    (``2026-07-01 10:00 BST``)."""
    return clock.to_display(moment).strftime("%Y-%m-%d %H:%M %Z")


# A stored time already written as ISO text without an offset (a core trace's).
_NAIVE_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def local_times(value: Any) -> Any:
    """``value`` (a core trace: dicts, lists, text) with every stored time
    written as ISO text without an offset turned into UK local time with its
    offset, as every other CLI output gives times."""
    if isinstance(value, dict):
        return {key: local_times(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [local_times(item) for item in value]
    if isinstance(value, str) and _NAIVE_ISO_MOMENT.fullmatch(value):
        return moment_text(datetime.fromisoformat(value))
    return value


def _json_value(value: Any) -> Any:
    return moment_text(value) if isinstance(value, datetime) else str(value)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=_json_value, ensure_ascii=False)
    sys.stdout.write("\n")


def print_rows(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    wide: bool = False,
) -> None:
    """Print dict rows as an aligned table (``print_table``), CSV or JSON."""
    if fmt == "json":
        print_json(list(rows))
        return
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "csv":
        from triage import spreadsheet  # with xlsxwriter: ~20 ms a start, for CSV only

        writer = spreadsheet.csv_writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([_csv_value(row.get(c)) for c in columns] for row in rows)
        return
    print_table(columns, ([_cell(row.get(c)) for c in columns] for row in rows), wide=wide)


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


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, wide: bool = False
) -> None:
    """An aligned table; unless ``wide``, long cells are cut and the columns
    that still do not fit in TABLE_WIDTH are left out (and named on stderr)."""
    body = [list(map(str, r)) for r in rows]
    headers = list(headers)
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    if not wide and _line_width(widths) > TABLE_WIDTH:
        widths = [max(len(h), min(w, CELL_CAP)) for h, w in zip(headers, widths, strict=True)]
        kept = len(widths)
        while kept > 1 and _line_width(widths[:kept]) > TABLE_WIDTH:
            kept -= 1
        if kept < len(headers):
            print(
                f"# left out to fit {TABLE_WIDTH} characters: {', '.join(headers[kept:])} "
                "(--wide shows every column)",
                file=sys.stderr,
            )
        headers, widths = headers[:kept], widths[:kept]
        body = [[_cut(c, w) for c, w in zip(r, widths, strict=False)] for r in body]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for r in body:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _line_width(widths: Sequence[int]) -> int:
    return sum(widths) + 2 * (len(widths) - 1)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
