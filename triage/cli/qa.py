"""CLI: ``triage qa sample|samples|list|score|report``: QA sampling of
tasking and EM decisions (003 Annex D), through the same ``triage.qa``
functions as the app's QA screen."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from triage import settings
from triage.cli.common import (
    acting_user,
    add_format,
    database,
    option_day,
    print_done,
    print_json,
    print_rows,
)
from triage.cli.main import Groups, Subcommands, UsageError
from triage.qa import operations as qa
from triage.qa.report import FORMATS, build_report, write_report
from triage.qa.scoring import OUTCOMES, SEVERITIES, SPECIAL_POLICIES, Finding, ScoreError
from triage.users import Action, require

LIST_COLUMNS = (
    "id", "decision_ref", "kind", "decided_on", "decided_by", "region", "team", "subject",
    "decision", "score", "reviewer",
)  # fmt: skip
OUTCOME_WORDS = {"correct": "probably_correct", "wrong": "probably_wrong"}


def _finding(text: str) -> Finding:
    """``SEVERITY`` or ``SEVERITY:POLICY`` (fail:safeguarding)."""
    severity, _, policy = text.partition(":")
    if severity not in SEVERITIES:
        raise UsageError(f"--error {text}: the severity is one of {', '.join(SEVERITIES)}")
    if policy and policy not in SPECIAL_POLICIES:
        raise UsageError(
            f"--error {text}: the special policy is one of {', '.join(SPECIAL_POLICIES)}"
        )
    return Finding(severity, policy or None)


def run_sample(args: argparse.Namespace) -> int:
    start, end = option_day(args.start, "--from"), option_day(args.end, "--to")
    db = database(args)
    try:
        drawn = qa.draw_sample(
            db, start, end, rate=args.rate, seed=args.seed, actor=acting_user(args, db)
        )
    except qa.QaRequestError as error:
        raise UsageError(str(error)) from None
    finally:
        db.close()
    result: dict[str, Any] = {
        "sample_id": drawn.id,
        "from": drawn.period_from,
        "to": drawn.period_to,
        "rate": drawn.rate,
        "seed": drawn.seed,
        "population": drawn.population,
        "population_by_kind": drawn.by_kind or None,
        "new": drawn.created,
        "decision_ids": drawn.decision_refs,
        "decisions": drawn.decisions,
    }
    if args.format == "json":
        print_json(result)
        return 0
    verb = "drawn" if drawn.created else "already drawn"
    print(
        f"Sample {drawn.id} {verb}: {len(drawn.decisions):,} of {drawn.population:,} decisions "
        f"made {start} to {end} (rate {drawn.rate:g}, seed {drawn.seed}; the same seed draws "
        "the same sample)"
    )
    print_rows(drawn.decisions, "table", LIST_COLUMNS[:-2], wide=args.wide)
    return 0


def run_samples(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        rows = qa.samples(db)
    finally:
        db.close()
    print_rows(rows, args.format, wide=getattr(args, "wide", False))
    return 0


def run_list(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        found = qa.sample(db, args.sample)
    finally:
        db.close()
    if found is None:
        raise UsageError("no QA sample: draw one with 'triage qa sample --from D --to D'")
    if args.format == "table":
        print(f"Sample {found.id}: decisions made {found.period_from} to {found.period_to}")
    print_rows(found.decisions, args.format, LIST_COLUMNS, wide=getattr(args, "wide", False))
    return 0


def run_score(args: argparse.Namespace) -> int:
    errors = [_finding(text) for text in args.error or []]
    outcome = OUTCOME_WORDS.get(args.outcome, args.outcome)
    decision: str | int = int(args.decision) if args.decision.isdigit() else args.decision
    db = database(args)
    try:
        scored = qa.score_decision(
            db, decision, points_checked=args.points, errors=errors, outcome=outcome,
            feedback=args.feedback, sample_id=args.sample, actor=acting_user(args, db),
        )  # fmt: skip
    except (qa.QaRequestError, ScoreError) as error:
        raise UsageError(str(error)) from None
    finally:
        db.close()
    verdict = "satisfactory" if scored["satisfactory"] else "unsatisfactory"
    print_done(args, f"{scored['decision_ref']} scored {scored['score']} ({verdict})", scored)
    return 0


def run_report(args: argparse.Namespace) -> int:
    start, end = option_day(args.start, "--from"), option_day(args.end, "--to")
    if start > end:
        raise UsageError(f"the period starts ({start}) after it ends ({end})")
    threshold = args.suppress_below
    if threshold is None:
        threshold = settings.load().suppress_below
    if threshold < 0:
        raise UsageError("--suppress-below must be 0 or more")
    if args.format not in ("json", "table") and not args.out:
        raise UsageError(f"--format {args.format} needs --out FILE")
    db = database(args)
    try:
        require(db, acting_user(args, db), Action.READ_STATISTICS)
        report = build_report(db, start, end).released(threshold)
    finally:
        db.close()
    if args.format == "json":
        print_json(report.as_json())
        return 0
    if args.format == "table":
        print(f"{report.table.title}: {report.period.label}")
        print_rows(report.table.rows, "table", [c.key for c in report.table.columns])
        return 0
    try:
        write_report(report, Path(args.out), args.format)
    except OSError as error:
        raise UsageError(f"{args.out}: cannot write it ({error.strerror})") from None
    print(f"QA report ({report.scored:,} scored decisions) written to {args.out}")
    return 0


def register(top: Subcommands, groups: Groups) -> None:
    parser = top.add_parser("qa", help="QA sampling of tasking and EM decisions (QS1-QS5)")
    sub = parser.add_subparsers(dest="qa_command", required=True, metavar="ACTION")

    p = sub.add_parser("sample", help="draw a random sample of a period's decisions")
    p.add_argument("--from", dest="start", required=True, metavar="D", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="D", help="last day, YYYY-MM-DD")
    p.add_argument(
        "--rate", type=float, default=qa.DEFAULT_RATE, help="share of each kind (default 0.02)"
    )
    p.add_argument("--seed", type=int, help="the seed (default: a new one, printed)")
    add_format(p)
    p.set_defaults(handler=run_sample)

    p = sub.add_parser("samples", help="the samples drawn, newest first")
    add_format(p, ("table", "json", "csv"))
    p.set_defaults(handler=run_samples)

    p = sub.add_parser("list", help="a sample's decisions and their scores")
    p.add_argument("--sample", type=int, metavar="N", help="sample id (default: the newest)")
    add_format(p, ("table", "json", "csv"))
    p.set_defaults(handler=run_list)

    p = sub.add_parser(
        "score",
        help="score a sampled decision (you may not score your own)",
        description="Record a review of a sampled decision; the QS score follows 003 Annex D.",
    )
    p.add_argument("decision", metavar="DECISION", help="its reference (tasking:12) or list id")
    p.add_argument("--sample", type=int, metavar="N", help="the sample (default: the newest)")
    p.add_argument(
        "--points", type=int, required=True, metavar="N", help="how many points were checked"
    )
    p.add_argument(
        "--error",
        action="append",
        metavar="SEVERITY[:POLICY]",
        help="an error found, repeatable: minor, significant or fail, with a special policy "
        f"({', '.join(SPECIAL_POLICIES)}) if it relates to one, e.g. fail:safeguarding",
    )
    p.add_argument(
        "--outcome", required=True, choices=(*OUTCOMES, *OUTCOME_WORDS),
        help="the outcome assessed: probably_correct (correct) or probably_wrong (wrong)",
    )  # fmt: skip
    p.add_argument("--feedback", metavar="TEXT", help="feedback for the decision maker")
    add_format(p)
    p.set_defaults(handler=run_score)

    p = sub.add_parser("report", help="satisfactory rate (QS1+QS2) against the 75%% target")
    p.add_argument("--from", dest="start", required=True, metavar="D", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="D", help="last day, YYYY-MM-DD")
    p.add_argument("--out", metavar="FILE", help="the file to write (csv, xlsx, pdf)")
    p.add_argument(
        "--suppress-below", type=int, dest="suppress_below", metavar="N",
        help="show counts below N as '<N' (default: the suppress_below setting)",
    )  # fmt: skip
    add_format(p, ("table", *FORMATS))
    p.set_defaults(handler=run_report)
