"""CLI: ``triage governance pack --out DIR``: the governance pack (an ATRS
record's and a DPIA annex's figures) as Markdown and PDF, from the data."""

from __future__ import annotations

import argparse
from pathlib import Path

from triage import settings
from triage.cli.common import acting_user, add_format, database, optional_day, print_done
from triage.cli.main import Groups, Subcommands, UsageError
from triage.governance.pack import build_pack, write_pack


def run_pack(args: argparse.Namespace) -> int:
    start, end = optional_day(args.start, "--from"), optional_day(args.end, "--to")
    threshold = args.suppress_below
    if threshold is None:
        threshold = settings.load().suppress_below
    if threshold < 0:
        raise UsageError("--suppress-below must be 0 or more")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: not a folder")
    db = database(args)
    try:
        pack = build_pack(db, start, end, suppress_below=threshold, actor=acting_user(args, db))
    except ValueError as error:
        raise UsageError(str(error)) from None
    finally:
        db.close()
    try:
        md, pdf = write_pack(pack, out)
    except OSError as error:
        raise UsageError(f"{out}: cannot write the pack there ({error.strerror})") from None
    print_done(
        args,
        f"Governance pack for {pack.start} to {pack.end} written: {md} and {pdf}",
        {"markdown": str(md), "pdf": str(pdf), "figures": pack.figures},
    )
    return 0


def register(top: Subcommands, groups: Groups) -> None:
    parser = top.add_parser("governance", help="the governance pack (ATRS record, DPIA annex)")
    sub = parser.add_subparsers(dest="governance_command", required=True, metavar="ACTION")
    p = sub.add_parser(
        "pack",
        help="write governance-pack.md and .pdf to a folder, computed from the data",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write into")
    p.add_argument("--from", dest="start", metavar="D", help="first day (default: a year ago)")
    p.add_argument("--to", dest="end", metavar="D", help="last day (default: today)")
    p.add_argument(
        "--suppress-below", type=int, dest="suppress_below", metavar="N",
        help="show counts below N as '<N' (default: the suppress_below setting)",
    )  # fmt: skip
    add_format(p)
    p.set_defaults(handler=run_pack)
