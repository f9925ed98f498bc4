"""CLI: the EM caseload (``rank em``, ``explain em`` and ``em ...``).

Every command calls the same ``triage.em`` functions the app uses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from triage import clock
from triage.cli.common import (
    acting_user,
    add_format,
    clock_text,
    database,
    local_times,
    model_weight,
    moment_text,
    print_done,
    print_json,
    print_rows,
)
from triage.cli.main import Groups, Subcommands, UsageError
from triage.em import casework, claims, escalation, recommend, trail
from triage.em.battery import battery_saving
from triage.em.explain import explain_case
from triage.em.models import (
    REVIEW_OUTCOMES,
    REVIEW_TRIGGERS,
    TRAIL_GROUNDS,
    TRAIL_KINDS,
    TRAIL_OUTCOMES,
    TRAIL_REQUESTERS,
)
from triage.em.pack import HARM_ORDER, WORKSTREAMS, EmPack, PackError, default_pack, load_pack
from triage.em.queue import DUE_FILTERS, UNCLAIMED, build_queue, deadline_rows, queue_rows
from triage.ops.em_refresh import refresh_em
from triage.store.db import Database

RANK_COLUMNS = (
    "rank",
    "case_id",
    "workstream",
    "kind",
    "priority",
    "due_at",
    "due_state",
    "flags",
    "harm",
    "claimed_by",
    "reason",
)


def _as_of(args: argparse.Namespace) -> datetime:
    if getattr(args, "as_of", None):
        try:
            return clock.parse_datetime(args.as_of)
        except ValueError as error:
            raise UsageError(f"--as-of: {error}") from None
    return clock.now()


def _pack(args: argparse.Namespace) -> EmPack:
    try:
        return load_pack(args.pack) if getattr(args, "pack", None) else default_pack()
    except PackError as error:
        raise UsageError(str(error)) from None


def _refresh_now(args: argparse.Namespace, db: Database, pack: EmPack) -> None:
    """Refresh before a view of now only: a view --as-of another instant writes
    nothing (as ``rank intel --as-of``), or a later date would raise bridge items
    received in the future for every case out of contact by then."""
    if not args.no_refresh and not args.as_of:
        refresh_em(db, as_of=clock.now(), pack=pack, model_weight=model_weight())


def _with_moments(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The queue's due times (stored UTC, as ISO text) as moments, so they
    print in UK local time with their offset like every other CLI time."""
    return [
        dict(row, due_at=datetime.fromisoformat(row["due_at"]) if row["due_at"] else None)
        for row in rows
    ]


def rank_em(args: argparse.Namespace) -> int:
    as_of, pack = _as_of(args), _pack(args)
    db = database(args)
    _refresh_now(args, db, pack)
    with db.transaction() as session:
        queue = build_queue(session, as_of=as_of, pack=pack)
    rows = queue_rows(
        queue,
        workstream=args.workstream,
        case_id=args.case,
        caseworker=args.caseworker,
        due=args.due,
        harm=args.harm,
    )
    print_rows(_with_moments(rows), args.format, RANK_COLUMNS, wide=args.wide)
    return 0


def explain_em(args: argparse.Namespace) -> int:
    as_of, pack = _as_of(args), _pack(args)
    db = database(args)
    _refresh_now(args, db, pack)
    try:
        trace = explain_case(db, args.case_id, as_of=as_of, pack=pack)
    except KeyError as error:
        raise UsageError(error.args[0]) from None
    if args.format == "json":
        print_json(local_times(trace))
        return 0
    # As `explain intel` heads its trace: UK local time to the minute, zone named.
    as_of_text = clock_text(datetime.fromisoformat(trace["as_of"]))
    print(f"EM case {trace['case_id']} as of {as_of_text} (rules {trace['rules_version']})")
    print(
        f"  harm tier: {trace['harm_tier'] or 'unknown'}   claimed by: {trace['claimed_by'] or '-'}"
    )
    for work in trace["work"]:
        print(f"  #{work['rank']} {work['workstream']}/{work['kind']}: {work['reason']}")
        due = moment_text(datetime.fromisoformat(work["due_at"])) if work["due_at"] else "-"
        print(f"      {work['detail']}; due {due} ({work['due_state']})")
        below = work["below"]
        if below:
            print(f"      below #{below['rank']} {below['case_id']} ({below['why']})")
    if not trace["work"]:
        print("  no open work")
    for note in trace["not_evaluated"]:
        print(f"  not evaluated: {note}")
    d = trace["deadlines"]
    print(f"  release deadline: {d['release_deadline'] or '-'} ({d['release_state']})")
    print(f"  review due: {d['review_due'] or '-'} (after {d['review_base'] or '-'})")
    print(
        f"  battery: {trace['battery_events_raw']} raw events -> "
        f"{len(trace['consolidated_battery_breaches'])} consolidated reports "
        f"({trace['battery_rule']})"
    )
    print(f"  counted breaches: {trace['counted_breaches']} ({trace['escalation']['rule']})")
    rec = trace["recommendation"]
    print(
        f"  recommendation (advice): {rec['outcome']}, device {rec['device']}, "
        f"minimum {rec['minimum_months'] or '-'} months; flags {', '.join(rec['flags']) or '-'}"
    )
    for reason in rec["reasons"]:
        print(f"      - {reason}")
    c = trace["contact"]
    last = (
        moment_text(datetime.fromisoformat(c["last_contact_at"])) if c["last_contact_at"] else "-"
    )
    state = "out of contact" if c["out_of_contact"] else "in contact"
    if c["last_contact_at"] is None:
        state = "not evaluated: no contact recorded"
    print(f"  last contact: {last} ({state}; {c['threshold_hours'] / 24:g} days or more is out)")
    bridge = trace["bridge"]
    if bridge:
        closed = f", closed: {bridge['closed_reason']}" if bridge["status"] == "closed" else ""
        state = f"{bridge['state']}; {bridge['status']}{closed}"
        print(f"  ICE bridge item: {bridge['intel_id']} ({state})")
    return 0


def em_claim(args: argparse.Namespace) -> int:
    db = database(args)
    return _claim_change(
        args, lambda: claims.claim(db, args.case_id, actor=acting_user(args, db)), claimed=True
    )


def em_release(args: argparse.Namespace) -> int:
    db = database(args)
    return _claim_change(
        args,
        lambda: claims.release(db, args.case_id, actor=acting_user(args, db), force=args.force),
        claimed=False,
    )


def _claim_change(args: argparse.Namespace, change: Callable[[], None], *, claimed: bool) -> int:
    """Claim or release: a refusal (someone else holds the case) is exit 1, said why."""
    try:
        change()
    except claims.ClaimError as error:
        print(f"triage: {error}", file=sys.stderr)
        return 1
    done = "claimed" if claimed else "released"
    print_done(args, f"{done} {args.case_id}", {"case_id": args.case_id, "claimed": claimed})
    return 0


def em_deadlines(args: argparse.Namespace) -> int:
    as_of, pack = _as_of(args), _pack(args)
    db = database(args)
    with db.transaction() as session:
        queue = build_queue(session, as_of=as_of, pack=pack)
        rows = deadline_rows(queue, pack=pack, include_later=args.all)
    print_rows(
        _with_moments(rows),
        args.format,
        ("due_at", "state", "deadline", "case_id", "workstream", "claimed_by", "detail"),
        wide=args.wide,
    )
    return 0


def em_battery(args: argparse.Namespace) -> int:
    pack = _pack(args)
    with database(args).transaction() as session:
        saving = battery_saving(
            session,
            window=timedelta(hours=pack.battery_window_hours),
            threshold=timedelta(hours=pack.battery_threshold_hours),
        )
    print_json(
        {
            "cases_with_battery_events": saving.cases,
            "raw_battery_events": saving.raw_events,
            "duplicate_notifications": saving.duplicates,
            "consolidated_reports": saving.consolidated_reports,
            "reports_saved": saving.saved,
            "saving_ratio": round(saving.saving_ratio, 4),
            "inspectorate_estimate": 0.75,
        }
    )
    return 0


def em_refresh(args: argparse.Namespace) -> int:
    as_of, pack = _as_of(args), _pack(args)
    done = refresh_em(database(args), as_of=as_of, pack=pack, model_weight=model_weight())
    print_json({"escalation": done.escalation.__dict__, "bridge": done.bridge.__dict__})
    return 0


def em_escalation_done(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        escalation.mark_done(
            db,
            args.id,
            actor=acting_user(args, db),
            status="withdrawn" if args.withdrawn else "done",
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    status = "withdrawn" if args.withdrawn else "done"
    print_done(args, f"escalation {args.id} {status}", {"id": args.id, "status": status})
    return 0


def em_recommend(args: argparse.Namespace) -> int:
    db = database(args)
    pack = _pack(args)
    try:
        if args.record:
            rec_id = recommend.record_recommendation(
                db, args.case_id, actor=acting_user(args, db), pack=pack
            )
            print(f"recorded recommendation {rec_id}", file=sys.stderr)
        with db.transaction() as session:
            rec = recommend.recommend_case(session, args.case_id, pack)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print_json(rec.as_json())
    return 0


def em_decide(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        override = recommend.decide(
            db,
            args.recommendation_id,
            em=not args.exempt,
            device=args.device,
            reason=args.reason,
            actor=acting_user(args, db),
            minimum_months=args.months,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    print_done(
        args,
        "decision recorded" + (" (overrides the recommendation)" if override else ""),
        {"recommendation_id": args.recommendation_id, "override": bool(override)},
    )
    return 0


def em_overrides(args: argparse.Namespace) -> int:
    with database(args).transaction() as session:
        rows = recommend.overrides(session)
    print_rows(
        rows,
        args.format,
        (
            "recommendation_id",
            "case_id",
            "recommended",
            "decided",
            "reason",
            "decided_by",
            "decided_at",
        ),
        wide=args.wide,
    )
    return 0


def em_review(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        day = clock.parse_date(args.on) if args.on else None
        casework.complete_review(
            db,
            args.case_id,
            outcome=args.outcome,
            trigger=args.trigger,
            completed_on=day,
            note=args.note,
            actor=acting_user(args, db),
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    print_done(
        args,
        f"review of {args.case_id} recorded ({args.outcome})",
        {"case_id": args.case_id, "outcome": args.outcome, "trigger": args.trigger},
    )
    return 0


def em_actioned(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        n = casework.mark_breaches_actioned(db, args.case_id, actor=acting_user(args, db))
    except ValueError as error:
        raise UsageError(str(error)) from None
    print_done(
        args,
        f"{n} breach notification(s) marked actioned",
        {"case_id": args.case_id, "actioned": n},
    )
    return 0


def em_reply(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        casework.record_reply(db, args.event_id, actor=acting_user(args, db))
    except ValueError as error:
        raise UsageError(str(error)) from None
    print_done(args, f"reply to {args.event_id} recorded", {"event_id": args.event_id})
    return 0


def trail_add(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        request_id = trail.register_request(
            db,
            case_id=args.case_id,
            requester_org=args.org,
            requester=args.requester,
            kind=args.kind,
            ground=args.ground,
            period_from=clock.parse_datetime(args.period_from) if args.period_from else None,
            period_to=clock.parse_datetime(args.period_to) if args.period_to else None,
            justification=args.justification,
            actor=acting_user(args, db),
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    print_done(args, f"registered trail request {request_id}", {"id": request_id})
    return 0


def trail_outcome(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        trail.record_outcome(db, args.id, args.outcome, actor=acting_user(args, db))
    except ValueError as error:
        raise UsageError(str(error)) from None
    print_done(
        args, f"trail request {args.id}: {args.outcome}", {"id": args.id, "outcome": args.outcome}
    )
    return 0


def trail_stats(args: argparse.Namespace) -> int:
    stats = trail.figure9(database(args))
    if args.format == "json":
        print_json(stats)
    else:
        columns = ("outcome", *TRAIL_KINDS, "total")
        print_rows(stats["rows"], args.format, columns, wide=args.wide)
        if args.format == "table":
            print(
                f"awaiting outcome: {stats['awaiting_outcome']}; requesters: "
                + ", ".join(f"{who} {n}" for who, n in stats["requesters"].items())
            )
    return 0


def _common(parser: argparse.ArgumentParser, *, as_of: bool = True, refresh: bool = False) -> None:
    if refresh:  # the views that refresh first (rank em, explain em)
        parser.add_argument(
            "--no-refresh",
            action="store_true",
            help="do not apply the escalation ladder and ICE bridge first (--as-of never does)",
        )
    if as_of:
        parser.add_argument("--as-of", help="rank as at this date/time (default now)")
    parser.add_argument("--pack", help="EM rule pack file (default rules/em/pack.toml)")


def register(top: Subcommands, groups: Groups) -> None:
    """Add ``rank em``, ``explain em`` and the ``em`` command group."""
    rank = groups["rank"].add_parser("em", help="the EM caseload queue across workstreams")
    rank.add_argument("--workstream", choices=WORKSTREAMS)
    rank.add_argument("--case", help="case ids containing this text")
    rank.add_argument(
        "--caseworker", help=f"work claimed by this person ({UNCLAIMED!r} for unclaimed)"
    )
    rank.add_argument(
        "--due", choices=DUE_FILTERS, help="overdue, due soon, or due (either of the two)"
    )
    rank.add_argument("--harm", choices=HARM_ORDER, help="harm tier")
    add_format(rank, ("table", "csv", "json"))
    _common(rank, refresh=True)
    rank.set_defaults(handler=rank_em)

    explain = groups["explain"].add_parser("em", help="why an EM case ranks where it does")
    explain.add_argument("case_id")
    add_format(explain)
    _common(explain, refresh=True)
    explain.set_defaults(handler=explain_em)

    em = top.add_parser(
        "em", help="EM caseload: claims, deadlines, breaches, recommendations, trail requests"
    )
    sub = em.add_subparsers(dest="em_command", required=True, metavar="ACTION")

    def action(
        name: str,
        handler: Callable[[argparse.Namespace], int],
        help_text: str,
        formats: tuple[str, ...] = ("table", "json"),
    ) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text)
        add_format(parser, formats)
        parser.set_defaults(handler=handler)
        return parser

    p = action("claim", em_claim, "claim a case (refused if someone else holds it)")
    p.add_argument("case_id")
    p = action("release", em_release, "give a claimed case back")
    p.add_argument("case_id")
    p.add_argument("--force", action="store_true", help="release someone else's claim (recorded)")
    p = action(
        "deadlines", em_deadlines, "due-soon and overdue deadlines", ("table", "csv", "json")
    )
    p.add_argument("--all", action="store_true", help="include deadlines further ahead")
    _common(p)
    p = action("battery", em_battery, "raw battery events vs consolidated reports", ("json",))
    _common(p, as_of=False)
    p = action("refresh", em_refresh, "apply the escalation ladder and the ICE bridge", ("json",))
    _common(p)
    p = action("escalation-done", em_escalation_done, "a warning letter sent / referral made")
    p.add_argument("id", type=int)
    p.add_argument("--withdrawn", action="store_true")
    p = action(
        "recommend", em_recommend, "the IPIC-style device recommendation (advice)", ("json",)
    )
    p.add_argument("case_id")
    p.add_argument("--record", action="store_true", help="store it so a decision can be recorded")
    _common(p, as_of=False)
    p = action("decide", em_decide, "record the caseworker's decision on a recommendation")
    p.add_argument("recommendation_id", type=int)
    p.add_argument("--device", required=True, choices=("fitted", "non_fitted", "none"))
    p.add_argument("--exempt", action="store_true", help="exempt from EM (device none)")
    p.add_argument("--months", type=int, help="minimum period decided")
    p.add_argument("--reason", required=True)
    p = action(
        "overrides",
        em_overrides,
        "decisions that differ from the recommendation",
        ("table", "csv", "json"),
    )
    p = action("review", em_review, "record a completed EM review")
    p.add_argument("case_id")
    p.add_argument("--outcome", required=True, choices=REVIEW_OUTCOMES)
    p.add_argument("--trigger", default="scheduled", choices=REVIEW_TRIGGERS)
    p.add_argument("--on", help="date completed (default today)")
    p.add_argument("--note")
    p = action("actioned", em_actioned, "mark a case's open breach notifications actioned")
    p.add_argument("case_id")
    p = action("reply", em_reply, "a reply sent to a representation, PAP letter or JR")
    p.add_argument("event_id")

    trail_parser = sub.add_parser("trail", help="trail-data request register")
    trail_sub = trail_parser.add_subparsers(dest="trail_command", required=True, metavar="ACTION")
    p = trail_sub.add_parser("add", help="register a request (DPIA ground and period required)")
    p.add_argument("case_id")
    p.add_argument("--org", required=True, choices=TRAIL_REQUESTERS)
    p.add_argument("--requester", required=True)
    p.add_argument("--kind", required=True, choices=TRAIL_KINDS)
    p.add_argument("--ground", required=True, choices=TRAIL_GROUNDS)
    p.add_argument("--from", dest="period_from", required=True)
    p.add_argument("--to", dest="period_to", required=True)
    p.add_argument("--justification")
    add_format(p)
    p.set_defaults(handler=trail_add)
    p = trail_sub.add_parser("outcome", help="record a request's outcome")
    p.add_argument("id", type=int)
    p.add_argument("outcome", choices=TRAIL_OUTCOMES)
    add_format(p)
    p.set_defaults(handler=trail_outcome)
    p = trail_sub.add_parser(
        "stats", help="requests answered, in the shape of the EM report's Figure 9"
    )
    add_format(p, ("table", "csv", "json"))
    p.set_defaults(handler=trail_stats)
