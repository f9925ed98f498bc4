"""CLI: tasking meetings (``meeting list|show|start|decide|undo|recheck|close|export``)
and ``gui``.

A whole meeting can be run from a script with the same core operations the
app's meeting mode calls (``triage.meetings.operations``).

``triage gui`` starts the desktop app in a new Python process: the core never
imports Qt, not even lazily (the import-linter contract checks every import
statement in ``triage``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import date

from triage.cli.common import (
    acting_user,
    add_format,
    database,
    model_weight,
    print_done,
    print_json,
    print_rows,
)
from triage.cli.main import Groups, Subcommands, UsageError
from triage.meetings import minutes
from triage.meetings import operations as meetings
from triage.store.db import Database

# The words a person types for each stored decision.
DECISION_WORDS = {"accept": "accepted", "reject": "rejected", "not-discussed": "not_discussed"}


def register(top: Subcommands, groups: Groups) -> None:
    meeting = top.add_parser(
        "meeting", help="tasking meetings: list, show, start, decide, undo, close, export"
    )
    sub = meeting.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="meetings, newest first")
    listing.add_argument("--region")
    add_format(listing, ("table", "csv", "json"))
    listing.set_defaults(handler=list_command)

    show = sub.add_parser("show", help="a meeting's agenda and decisions")
    show.add_argument("meeting_id", type=int)
    add_format(show, ("table", "csv", "json"))
    show.set_defaults(handler=show_command)

    start = sub.add_parser("start", help="open a meeting and snapshot its ranked agenda")
    start.add_argument("--region", required=True, help="region code or name")
    start.add_argument("--team", help="team name (default: the whole region)")
    start.add_argument("--date", required=True, type=_date, help="meeting date, YYYY-MM-DD")
    start.add_argument("--capacity", required=True, type=int, help="tasks the team can take on")
    start.add_argument(
        "--attendee", action="append", default=[], metavar="NAME", help="repeat for each"
    )
    add_format(start)
    start.set_defaults(handler=start_command)

    decide = sub.add_parser("decide", help="record a decision on one agenda item")
    decide.add_argument("meeting_id", type=int)
    decide.add_argument("intel_id", help="the item's intel_id")
    decide.add_argument("decision", choices=tuple(DECISION_WORDS))
    decide.add_argument("--reason", help="reject reason code (required with reject)")
    decide.add_argument("--note", help="free-text note (the 'other' reason needs one)")
    add_format(decide)
    decide.set_defaults(handler=decide_command)

    undo = sub.add_parser("undo", help="undo the meeting's latest decision")
    undo.add_argument("meeting_id", type=int)
    add_format(undo)
    undo.set_defaults(handler=undo_command)

    recheck = sub.add_parser("recheck", help="record that a stale item's checks were redone")
    recheck.add_argument("intel_id")
    recheck.add_argument("--note")
    add_format(recheck)
    recheck.set_defaults(handler=recheck_command)

    close = sub.add_parser(
        "close", help="close: undecided items become not discussed and carry over"
    )
    close.add_argument("meeting_id", type=int)
    close.add_argument(
        "--dry-run", action="store_true", help="say what closing would record; change nothing"
    )
    add_format(close)
    close.set_defaults(handler=close_command)

    export = sub.add_parser("export", help="write the agenda or minutes as .csv or .pdf")
    export.add_argument("meeting_id", type=int)
    export.add_argument("kind", choices=("agenda", "minutes"))
    export.add_argument("path", help="output file; .csv or .pdf")
    export.add_argument("--presenter", action="store_true", help="leave out personal fields")
    add_format(export)
    export.set_defaults(handler=export_command)

    gui = top.add_parser("gui", help="start the desktop app")
    gui.add_argument("--presenter", action="store_true", help="larger type for a projector")
    gui.set_defaults(handler=gui_command)


def list_command(args: argparse.Namespace) -> int:
    db = database(args)
    with db.sessions() as session:
        try:
            rows = meetings.list_meetings(session, region=args.region)
        except ValueError as error:  # an unknown --region
            raise UsageError(str(error)) from None
    print_rows(rows, args.format, wide=args.wide)
    return 0


def show_command(args: argparse.Namespace) -> int:
    db = database(args)
    with db.sessions() as session:
        try:
            info = meetings.summary(session, args.meeting_id)
            rows = meetings.agenda(session, args.meeting_id)
        except meetings.MeetingError as error:
            raise UsageError(str(error)) from None
    # The agenda's ranking columns, then what was decided.
    columns = [*minutes.AGENDA_COLUMNS[:8], "decision", "reason", "result"]
    if info.capacity is None:  # from history: no capacity on record, so no line to fit under
        columns.remove("fits")
    table = [{c: getattr(r, c) for c in columns} for r in rows]
    if args.format == "json":
        print_json({"meeting": info.__dict__, "agenda": table})
        return 0
    if args.format == "table":
        # Imported meetings have no capacity on record: no "0/None".
        accepted = (
            f"{info.accepted}/{info.capacity}" if info.capacity is not None else info.accepted
        )
        print(
            f"Meeting {info.meeting_id}: {info.region}/{info.team or '-'} {info.held_on} "
            f"({info.status}) accepted {accepted}, rejected {info.rejected}, "
            f"not discussed {info.not_discussed}, undecided {info.undecided}"
        )
    print_rows(table, args.format, columns, wide=args.wide)
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _item_id(db: Database, intel_id: str) -> int:
    from triage.intel.ranking import item_id_for

    with db.sessions() as session:
        found = item_id_for(session, intel_id)
    if found is None:
        raise UsageError(f"no intelligence item {intel_id!r}")
    return found


def start_command(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        meeting_id = meetings.start_meeting(
            db,
            region=args.region,
            team=args.team,
            held_on=args.date,
            attendees=args.attendee,
            capacity=args.capacity,
            actor=acting_user(args, db),
            model_weight=model_weight(),
        )
    except (meetings.MeetingError, ValueError) as error:  # ValueError: an unknown region
        raise UsageError(str(error)) from None
    print_done(args, str(meeting_id), {"meeting_id": meeting_id})
    return 0


def decide_command(args: argparse.Namespace) -> int:
    db = database(args)
    item_id = _item_id(db, args.intel_id)
    decision = DECISION_WORDS[args.decision]
    try:
        meetings.decide(
            db,
            meeting_id=args.meeting_id,
            item_id=item_id,
            decision=decision,
            reason=args.reason,
            note=args.note,
            actor=acting_user(args, db),
        )
    except meetings.MeetingError as error:
        raise UsageError(str(error)) from None
    values = {
        "meeting_id": args.meeting_id,
        "intel_id": args.intel_id,
        "decision": decision,
        "reason": args.reason,
    }
    reason = f" ({args.reason})" if args.reason else ""
    print_done(args, f"{args.intel_id}: {decision.replace('_', ' ')}{reason}", values)
    return 0


def undo_command(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        item_id = meetings.undo(db, meeting_id=args.meeting_id, actor=acting_user(args, db))
    except meetings.MeetingError as error:
        raise UsageError(str(error)) from None
    if item_id is None:
        print_done(args, "Nothing to undo.", {"meeting_id": args.meeting_id, "undone": None})
        return 0
    with db.sessions() as session:
        intel_id = meetings.intel_id_of(session, item_id)
    values = {"meeting_id": args.meeting_id, "undone": intel_id}
    print_done(args, f"Undone: the latest decision on {intel_id}.", values)
    return 0


def recheck_command(args: argparse.Namespace) -> int:
    db = database(args)
    item_id = _item_id(db, args.intel_id)
    try:
        when = meetings.recheck(db, item_id=item_id, note=args.note, actor=acting_user(args, db))
    except meetings.MeetingError as error:
        raise UsageError(str(error)) from None
    values = {"intel_id": args.intel_id, "rechecked_at": when}
    print_done(args, f"{args.intel_id}: basic checks recorded as redone.", values)
    return 0


def close_command(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        with db.sessions() as session:
            preview = meetings.close_preview(session, args.meeting_id)
        if args.dry_run:
            values = {**preview.__dict__, "closed": False}
            print_done(args, preview.question(), values)
            return 0
        result = meetings.close_meeting(db, meeting_id=args.meeting_id, actor=acting_user(args, db))
    except meetings.MeetingError as error:
        raise UsageError(str(error)) from None
    values = {
        **preview.__dict__,
        "closed": True,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "not_discussed": result.not_discussed,
    }
    text = (
        f"Meeting {args.meeting_id} closed: {result.accepted} accepted, {result.rejected} "
        f"rejected, {result.not_discussed} not discussed ({preview.undecided} of them "
        f"undecided until now); {preview.carried_over} carried over to the next meeting."
    )
    print_done(args, text, values)
    return 0


def export_command(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        target = minutes.export(
            db, meeting_id=args.meeting_id, path=args.path, kind=args.kind, presenter=args.presenter
        )
    except meetings.MeetingError as error:
        raise UsageError(str(error)) from None
    except OSError as error:  # a folder that does not exist, no permission, ...
        raise UsageError(f"{args.path}: cannot write it ({error.strerror})") from None
    print_done(
        args, str(target), {"meeting_id": args.meeting_id, "kind": args.kind, "path": str(target)}
    )
    return 0


def gui_command(args: argparse.Namespace) -> int:
    command = [sys.executable, "-m", "ui.app"]
    if args.db:
        command += ["--db", args.db]
    if args.presenter:
        command.append("--presenter")
    return subprocess.call(command)
