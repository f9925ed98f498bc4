"""CLI: ``triage audit verify`` and ``triage audit show`` (auditors)."""

from __future__ import annotations

import sys
from typing import Any

from triage import clock
from triage.cli.common import acting_user, add_format, database, print_json, print_rows
from triage.cli.main import UsageError
from triage.users import auditing

SHOWN = ("id", "at", "who", "action", "entity", "entity_id", "field", "old", "new")


def register(top: Any, groups: Any) -> None:
    parser = top.add_parser("audit", help="the tamper-evident audit log (auditors)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check the hash chain and the append-only triggers (exit 1 if broken)"
    )
    verify.add_argument(
        "--head", help="a chain head recorded earlier (minutes, backup) that must still be there"
    )
    add_format(verify)
    verify.set_defaults(handler=run_verify)
    show = actions.add_parser("show", help="audit entries, oldest first")
    show.add_argument("--since", help="from this date or time (UK local unless an offset)")
    show.add_argument("--user", dest="by_user", metavar="NAME", help="only this user's entries")
    show.add_argument("--limit", type=int, help="at most this many")
    add_format(show, ("table", "csv", "json"))
    show.set_defaults(handler=run_show)


def run_verify(args: Any) -> int:
    db = database(args)
    result = auditing.verify(db, actor=acting_user(args, db), expected_head=args.head)
    if args.format == "json":
        print_json(
            {"ok": result.ok, "verified": result.entries, "head": result.head,
             "problem": result.problem}
        )  # fmt: skip
    elif result.ok:
        print(f"audit log intact: {result.entries:,} entries verified; chain head {result.head}")
    else:
        print(f"verified {result.entries:,} entries, then: {result.problem}")
    if not result.ok:
        print(f"triage: audit log broken: {result.problem}", file=sys.stderr)
    return 0 if result.ok else 1


def run_show(args: Any) -> int:
    since = None
    if args.since:
        try:
            since = clock.parse_datetime(args.since)
        except ValueError as error:
            raise UsageError(f"--since: {error}") from None
    db = database(args)
    rows = auditing.entries(
        db, actor=acting_user(args, db), since=since, user=args.by_user, limit=args.limit
    )
    print_rows(rows, args.format, None if args.format == "json" else SHOWN)
    return 0
