"""CLI: ``triage stats tasking|em|breaches|service-levels`` - statistics as tables,
CSV, JSON, XLSX or PDF.

``--format json`` of ``stats tasking`` prints the ``outcomes`` table: one row
per region and group (``group`` high or low) with received, available,
accepted, rejected, not_discussed and the three percentages, then one row
per region and bucket (``group`` "bucket", ``bucket`` 1-6). ``--table NAME``
picks another table, ``--table all`` every one (JSON: an object by name).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from triage import settings
from triage.cli.common import (
    acting_user,
    add_format,
    database,
    model_weight,
    optional_day,
    print_table,
)
from triage.cli.main import Groups, Subcommands, UsageError
from triage.cli.progress import terminal_job
from triage.intel import ranking, regions
from triage.rules import PackError
from triage.stats import exports
from triage.stats.period import Period
from triage.stats.report import StatsReport, build_report
from triage.stats.table import StatTable, cell_text

FORMATS = ("table", "csv", "json", "xlsx", "pdf")
DEFAULT_TABLE = {
    "tasking": "outcomes",
    "em": "figure6",
    "breaches": "breach_rates",
    "service-levels": "service_levels",
}
# Each kind's own --help text (the module docstring's paragraph is about
# tasking only, and its ``markup`` shows as is in a terminal).
DESCRIPTION = {
    "tasking": "--format json prints the 'outcomes' table: one row per region and group "
    "(group high or low) with received, available, accepted, rejected, not_discussed and "
    "the three percentages, then one row per region and bucket (group 'bucket', bucket 1-6). "
    "--table NAME picks another table, --table all every one (JSON: an object by name).",
    "em": "--format json prints the 'figure6' table: breaches by type and month. "
    "--table NAME picks another table, --table all every one (JSON: an object by name).",
    "breaches": "--format json prints the 'breach_rates' table: breaches per case-month by "
    "harm level, vulnerability flag and protected characteristic (where recorded), with exact "
    "Poisson 95% intervals; 'breach_trend' has them month by month by harm level. "
    "--table NAME picks another table, --table all every one (JSON: an object by name).",
    "service-levels": "--format json prints the 'service_levels' table (ICIBI Figure 12 "
    "layout): each EMS service level's target, achieved % by month, average and the months "
    "below target; 'process_issues' counts the process-issue log by kind and month. "
    "--table NAME picks another table, --table all every one (JSON: an object by name).",
}


def register(top: Subcommands, groups: Groups) -> None:
    parser = top.add_parser("stats", help="outcome statistics and exports")
    kinds = parser.add_subparsers(dest="stats_kind", required=True, metavar="KIND")
    for kind, help_text in (
        ("tasking", "tasking outcomes (NAO Figure 9 and related tables, feedback per rule)"),
        ("em", "EM caseload (ICIBI Figures 5, 6 and 14)"),
        ("breaches", "breach trends per case-month by harm, vulnerability, characteristic"),
        ("service-levels", "EMS service levels against targets (ICIBI Figure 12), process issues"),
    ):
        sub = kinds.add_parser(kind, help=help_text, description=DESCRIPTION[kind])
        sub.add_argument("--from", dest="start", metavar="D", help="first day received (UK date)")
        sub.add_argument("--to", dest="end", metavar="D", help="last day received (default: as-of)")
        sub.add_argument(
            "--as-of", dest="as_of", metavar="D", help="as known on this day (default: today)"
        )
        sub.add_argument("--region", metavar="R", help="region code or name")
        add_format(sub, FORMATS)
        sub.add_argument("--out", metavar="FILE", help="write to FILE (required for xlsx and pdf)")
        sub.add_argument(
            "--table",
            metavar="NAME",
            help=f"one table by name, or 'all' (default: {DEFAULT_TABLE[kind]}; "
            "the table format prints all)",
        )
        sub.add_argument(
            "--suppress-below",
            type=int,
            metavar="N",
            dest="suppress_below",
            help="show counts below N as '<N' (default: the suppress_below setting)",
        )
        sub.set_defaults(handler=run, stats_kind=kind)


def period_from(args: argparse.Namespace) -> Period:
    try:
        return Period.resolve(
            optional_day(args.start, "--from"),
            optional_day(args.end, "--to"),
            optional_day(args.as_of, "--as-of"),
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


def region_from(args: argparse.Namespace) -> str | None:
    if not args.region:
        return None
    try:
        return regions.region_code(args.region)
    except ValueError as error:
        raise UsageError(f"--region: {error}") from None


def run(args: argparse.Namespace) -> int:
    period = period_from(args)
    region = region_from(args)
    threshold = args.suppress_below
    if threshold is None:
        threshold = settings.load().suppress_below
    if threshold < 0:
        raise UsageError("--suppress-below must be 0 or more")
    if args.format in ("xlsx", "pdf") and not args.out:
        raise UsageError(f"--format {args.format} needs --out FILE")
    db = database(args)
    try:
        actor = acting_user(args, db)
        # Each item's bucket comes from the stored ranking: brought up to date
        # first. A refused pack keeps the ranks already stored (`triage rules
        # check` says why).
        with contextlib.suppress(PackError):
            ranking.ensure_current(db, model_weight=model_weight())
        with terminal_job(args) as job:
            report = build_report(
                db,
                period,
                title=f"Triage {args.stats_kind} statistics" + (f" - {region}" if region else ""),
                actor=actor,
                kind=args.stats_kind,
                region=region,
                job=job,
            )
    finally:
        db.close()
    try:
        return _output(args, report.released(threshold))
    except BrokenPipeError:
        raise  # the reader of standard output stopped: handled by the CLI
    except OSError as error:  # a folder that does not exist, no permission, ...
        raise UsageError(
            f"{error.filename or args.out}: cannot write it ({error.strerror})"
        ) from None


def _output(args: argparse.Namespace, report: StatsReport) -> int:
    """Render the released report in the format asked for (nothing computed here)."""
    if args.format in ("xlsx", "pdf"):
        exports.write_report(Path(args.out), report, file_format=args.format)
        print(f"wrote {args.out}", file=sys.stderr)
        return 0
    chosen = _choose(args, report.all_tables())
    if args.format == "table":
        for table in chosen:
            print(f"{table.title}\n")
            print_table(
                [c.title or c.key for c in table.columns],
                ([cell_text(row.get(c.key), c.kind) for c in table.columns] for row in table.rows),
                wide=args.wide,
            )
            print()
        return 0
    if args.format == "json":
        value: Any
        if len(chosen) == 1 and args.table != "all":
            value = chosen[0].plain_rows()
        else:
            value = {t.name: t.plain_rows() for t in chosen}
        text = json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n"
        _emit(text, args.out)
        return 0
    if len(chosen) > 1:
        if not args.out:
            raise UsageError("--format csv with --table all needs --out FILE (one file per table)")
        out = Path(args.out)
        for table in chosen:
            # One file per table, named after it: say which.
            target = out.with_name(f"{out.stem}-{table.name}{out.suffix or '.csv'}")
            exports.write_csv(table, target)
            print(f"wrote {target}", file=sys.stderr)
        return 0
    if args.out:
        exports.write_csv(chosen[0], Path(args.out))
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        exports.write_csv(chosen[0], sys.stdout)
    return 0


def _choose(args: argparse.Namespace, tables: list[StatTable]) -> list[StatTable]:
    name = args.table
    if name == "all" or (name is None and args.format == "table"):
        return tables
    name = name or DEFAULT_TABLE[args.stats_kind]
    for table in tables:
        if table.name == name:
            return [table]
    known = ", ".join(t.name for t in tables)
    raise UsageError(f"--table: no table {name!r} (known: {known}, all)")


def _emit(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
