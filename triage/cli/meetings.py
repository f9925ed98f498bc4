"""CLI: tasking meetings (``meeting list|show|export``) and ``gui``.

``triage gui`` starts the desktop app in a new Python process: the core never
imports Qt, not even lazily (the import-linter contract checks every import
statement in ``triage``).
"""

from __future__ import annotations

import subprocess
import sys

from triage.cli.common import add_format, database, print_done, print_json, print_rows
from triage.cli.main import UsageError
from triage.meetings import operations as meetings


def register(top, groups) -> None:
    meeting = top.add_parser("meeting", help="tasking meetings: list, show, export")
    sub = meeting.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="meetings, newest first")
    listing.add_argument("--region")
    add_format(listing, ("table", "csv", "json"))
    listing.set_defaults(handler=list_command)

    show = sub.add_parser("show", help="a meeting's agenda and decisions")
    show.add_argument("meeting_id", type=int)
    add_format(show, ("table", "csv", "json"))
    show.set_defaults(handler=show_command)

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


def list_command(args) -> int:
    db = database(args)
    with db.sessions() as session:
        try:
            rows = meetings.list_meetings(session, region=args.region)
        except ValueError as error:  # an unknown --region
            raise UsageError(str(error)) from None
    print_rows(rows, args.format)
    return 0


def show_command(args) -> int:
    db = database(args)
    with db.sessions() as session:
        try:
            info = meetings.summary(session, args.meeting_id)
            rows = meetings.agenda(session, args.meeting_id)
        except meetings.MeetingError as error:
            raise UsageError(str(error)) from None
    # The agenda's ranking columns, then what was decided.
    columns = [*meetings.AGENDA_COLUMNS[:8], "decision", "reason", "result"]
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
    print_rows(table, args.format, columns)
    return 0


def export_command(args) -> int:
    db = database(args)
    try:
        target = meetings.export(
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


def gui_command(args) -> int:
    command = [sys.executable, "-m", "ui.app"]
    if args.db:
        command += ["--db", args.db]
    if args.presenter:
        command.append("--presenter")
    return subprocess.call(command)
