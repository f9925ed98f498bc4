"""CLI: ``triage note add|list``: notes on an intelligence item and its
decision history, through the same ``triage.intel.notes`` functions as the app."""

from __future__ import annotations

import argparse

from triage.cli.common import acting_user, add_format, database, print_done, print_rows
from triage.cli.main import Groups, Subcommands, UsageError
from triage.intel import ranking
from triage.intel.notes import NoteError, add_note
from triage.ops.item_detail import item_history
from triage.store.db import Database


def _item_id(db: Database, reference: str) -> int:
    with db.transaction() as session:
        found = ranking.item_id_for(session, reference)
    if found is None:
        raise UsageError(f"no intelligence item {reference!r}")
    return found


def note_add(args: argparse.Namespace) -> int:
    db = database(args)
    item_id = _item_id(db, args.id)
    try:
        note_id = add_note(db, item_id, args.text, actor=acting_user(args, db))
    except NoteError as error:
        raise UsageError(str(error)) from None
    print_done(args, f"note {note_id} added to {args.id}", {"note_id": note_id})
    return 0


def note_list(args: argparse.Namespace) -> int:
    db = database(args)
    item_id = _item_id(db, args.id)
    found = item_history(db, item_id)
    written, history = found.notes, found.decisions
    if args.format == "json":
        print_done(
            args, "", {"notes": written, "decisions": history, "qa_reviews": found.qa_reviews}
        )
        return 0
    print(f"Decisions on {args.id}:")
    print_rows(
        history,
        "table",
        ("meeting_date", "team", "decision", "reason", "decided_by", "decided_at", "result"),
    )
    if found.qa_reviews:
        print(f"\nQA reviews of decisions on {args.id}:")
        print_rows(
            found.qa_reviews,
            "table",
            ("decided_on", "decision", "score", "outcome", "reviewer", "feedback"),
        )
    print(f"\nNotes on {args.id}:")
    print_rows(written, "table", ("written_at", "author", "text"))
    return 0


def register(top: Subcommands, groups: Groups) -> None:
    note = top.add_parser("note", help="notes on an intelligence item, and its decisions")
    sub = note.add_subparsers(dest="note_command", required=True, metavar="ACTION")
    p = sub.add_parser("add", help="add a note to an item (intel_id or database id)")
    p.add_argument("id", metavar="ID")
    p.add_argument("text")
    add_format(p)
    p.set_defaults(handler=note_add)
    p = sub.add_parser("list", help="an item's decision history and notes")
    p.add_argument("id", metavar="ID")
    add_format(p)
    p.set_defaults(handler=note_list)
