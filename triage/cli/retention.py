"""CLI: ``triage purge [--dry-run]`` by the retention policy (admins)."""

from __future__ import annotations

from typing import Any

from triage.cli.common import acting_user, add_format, database, print_json
from triage.cli.main import UsageError
from triage.retention import purge


def register(top: Any, groups: Any) -> None:
    parser = top.add_parser(
        "purge", help="remove personal data past the retention policy (rules/retention.toml)"
    )
    parser.add_argument("--dry-run", action="store_true", help="only count what would go")
    parser.add_argument("--policy", help="a retention policy file (default: the bundled one)")
    add_format(parser)
    parser.set_defaults(handler=run_purge)


def run_purge(args: Any) -> int:
    try:
        policy = purge.load_policy(args.policy)
    except purge.PolicyError as error:
        raise UsageError(str(error)) from None
    db = database(args)
    actor = acting_user(args, db)
    if args.dry_run:
        counts = purge.plan(db, actor=actor, policy=policy)
    else:
        counts = purge.purge(db, actor=actor, policy=policy)
    cutoffs = purge.cutoff_text(policy)
    if args.format == "json":
        print_json({"dry_run": args.dry_run, "counts": counts, "before": cutoffs})
        return 0
    verb = "would purge" if args.dry_run else "purged"
    for kind, n in counts.items():
        print(f"{verb} {n:>8,} {kind.replace('_', ' ')} (before {cutoffs[kind]})")
    return 0
