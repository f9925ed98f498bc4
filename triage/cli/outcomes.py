"""CLI: ``triage outcomes export``: tasking outcomes in the canonical
``outcomes.csv`` columns, the file ``triage import outcomes`` reads back."""

from __future__ import annotations

import argparse
from pathlib import Path

from triage.cli.common import add_format, database, optional_day, print_json
from triage.cli.main import Groups, Subcommands, UsageError
from triage.meetings import outcomes


def register(top: Subcommands, groups: Groups) -> None:
    parser = top.add_parser("outcomes", help="tasking outcomes: export for another system")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = sub.add_parser(
        "export",
        help="write outcomes as CSV or XLSX in the canonical columns (docs/formats.md, 4)",
    )
    export.add_argument("--from", dest="start", metavar="D", help="first meeting date, YYYY-MM-DD")
    export.add_argument("--to", dest="end", metavar="D", help="last meeting date, YYYY-MM-DD")
    export.add_argument("--out", metavar="FILE", help="the file to write (.csv or .xlsx)")
    add_format(export, ("csv", "xlsx", "json"), default=None)
    export.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    start, end = optional_day(args.start, "--from"), optional_day(args.end, "--to")
    fmt = args.format or (Path(args.out).suffix.lower().lstrip(".") if args.out else "csv")
    if fmt not in outcomes.FORMATS + ("json",):
        raise UsageError(f"{args.out}: export outcomes to .csv or .xlsx, or give --format")
    if not args.out and fmt != "json":
        raise UsageError(f"--format {fmt} needs --out FILE")
    db = database(args)
    try:
        if fmt == "json":
            print_json(outcomes.outcome_rows(db, start=start, end=end))
            return 0
        written = outcomes.export_outcomes(db, args.out, start=start, end=end, file_format=fmt)
    except ValueError as error:
        raise UsageError(str(error)) from None
    except OSError as error:  # a folder that does not exist, no permission, ...
        raise UsageError(f"{args.out}: cannot write it ({error.strerror})") from None
    finally:
        db.close()
    print(f"{written:,} outcome(s) written to {args.out}")
    return 0
