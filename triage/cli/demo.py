"""CLI: ``triage demo`` fills a database with calibrated synthetic data."""

from __future__ import annotations

import argparse
from datetime import date

from triage.cli.common import add_format, database, print_json
from triage.cli.main import Groups, Subcommands, UsageError
from triage.cli.progress import terminal_job
from triage.demo import calibration, extracts
from triage.demo import generator as demo


def register(top: Subcommands, groups: Groups) -> None:
    """Add ``triage demo``."""
    parser = top.add_parser(
        "demo",
        help="fill the database with calibrated demo data",
        description="Generate synthetic intelligence items, tasking history and an EM caseload "
        "calibrated to the published figures (docs/demo-data.md) and import them.",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--intel",
        type=_size,
        default=calibration.DEFAULT_INTEL,
        help=f"intelligence items (default {calibration.DEFAULT_INTEL:,}, NAO Figure 9)",
    )
    parser.add_argument(
        "--em",
        type=_size,
        default=calibration.DEFAULT_EM,
        help=f"EM cases (default {calibration.DEFAULT_EM:,}, EM report Figure 1)",
    )
    parser.add_argument(
        "--end", type=_day, default=None, help="last day of the data, YYYY-MM-DD (default today)"
    )
    parser.add_argument("--out", help="also keep the four canonical CSV files in this folder")
    add_format(parser)
    parser.set_defaults(handler=run)


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        with terminal_job(args) as job:
            summary = demo.fill_database(
                db, seed=args.seed, intel=args.intel, em=args.em, end=args.end, out=args.out,
                job=job,
            )  # fmt: skip
    except (OSError, ValueError) as error:
        raise UsageError(f"demo: {error}") from error
    finally:
        db.close()
    quarantined = sum(r["quarantined"] for r in summary.imported.values())
    report = {
        "database": db.location,
        "end": summary.files.end.isoformat() if summary.files.end else None,
        "seed": args.seed,
        "imported": summary.imported,
        "em_reviews_recorded": summary.reviews,
        "files": {k: str(p) for k, p in summary.files.paths.items()} if args.out else {},
        "seconds": round(summary.seconds, 2),
    }
    if args.format == "json":
        print_json(report)
    else:
        print(f"Demo data in {db.location} (seed {args.seed}, ending {report['end']}):")
        for kind in extracts.IMPORT_ORDER:
            result = summary.imported[kind]
            print(
                f"  {kind:10} {result['inserted']:>9,} new  {result['updated']:>7,} updated"
                f"  {result['quarantined']:>5,} quarantined"
            )
        print(f"  {'em-reviews':10} {summary.reviews:>9,} recorded (Figure 14's completed reviews)")
        for kind, path in report["files"].items():
            print(f"  {kind:10} {path}")
        print(f"  in {summary.seconds:.1f} s")
    # The generator's rows are all valid: a quarantined row is a bug worth a non-zero exit.
    return 1 if quarantined else 0
