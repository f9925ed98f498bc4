"""CLI: ``triage sync pull|push|status``: a laptop copy of a team's work, offline.

``--from`` / ``--to`` name the server: a database file, or (where the team
server is set up, docs/team-server.md) a database URL. The laptop database
is ``--to`` for a pull (else ``--db``) and ``--db`` for a push. The same user
signs in on both (``--user`` / ``TRIAGE_USER``, password asked once or
``TRIAGE_PASSWORD``): a pull copies the server's users to the laptop.

Exit status: 0 done; 1 pushed, but with conflicts listed (not sent); 2 a
sync that cannot be done as asked; 3 a database that cannot be used; 4 not
permitted.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from triage import paths, settings
from triage.cli.common import (
    add_format,
    database,
    moment_text,
    new_passphrase,
    print_done,
    print_json,
    read_passphrase,
    usable_path,
)
from triage.cli.main import Groups, Subcommands, UsageError
from triage.cli.progress import terminal_job
from triage.store import cipher
from triage.store.db import Database, open_database
from triage.sync.copy import CopyError, copy_database
from triage.sync.pull import PullResult, SyncError, pull
from triage.sync.push import PushResult, push, status
from triage.users import Actor, accounts


def register(top: Subcommands, groups: Groups) -> None:
    parser = top.add_parser("sync", help="a laptop copy of a team's work: pull, work offline, push")
    actions = parser.add_subparsers(dest="action", required=True)
    get = actions.add_parser(
        "pull", help="copy a team's open queue and its region's EM caseload from a server"
    )
    get.add_argument("--from", dest="server", required=True, help="the server: a file or a URL")
    get.add_argument("--region", required=True, help="region code or name")
    get.add_argument("--team", required=True, help="team name (rules/intel/organisation.toml)")
    get.add_argument("--to", help="the laptop database file (default: --db)")
    get.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt a new laptop copy (passphrase from a prompt or $TRIAGE_PASSPHRASE)",
    )
    get.add_argument(
        "--discard",
        action="store_true",
        help="replace a laptop copy even though it holds offline work not yet pushed",
    )
    add_format(get)
    get.set_defaults(handler=run_pull)
    send = actions.add_parser("push", help="send the work done offline (--db) to its server")
    send.add_argument("--to", dest="server", required=True, help="the server: a file or a URL")
    add_format(send)
    send.set_defaults(handler=run_push)
    status = actions.add_parser("status", help="where this laptop copy came from, what is unsent")
    add_format(status)
    status.set_defaults(handler=run_status)


def register_copy(actions: Subcommands) -> None:
    """``triage db copy SRC DST``: registered with the other ``db`` commands."""
    copy = actions.add_parser(
        "copy", help="copy a whole database into a new one (a file or a URL), counts checked"
    )
    copy.add_argument("source", help="the database to copy: a file or a URL")
    copy.add_argument("target", help="the new database: a file (not there yet) or a URL")
    copy.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt a new file (passphrase from a prompt or $TRIAGE_NEW_PASSPHRASE)",
    )
    copy.add_argument(
        "--plain",
        action="store_true",
        help="allow copying an encrypted database into a file that is not encrypted",
    )
    add_format(copy)
    copy.set_defaults(handler=run_copy)


def run_copy(args: argparse.Namespace) -> int:
    source = open_server(args.source)
    created: Path | None = None
    try:
        actor = sign_in(args, source)
        if "://" in args.target:
            target = open_server(args.target)
        else:
            created = _new_file(args, source)
            target = open_database(created, _copy_passphrase(args, source))
        try:
            with terminal_job(args) as job:
                result = copy_database(source, target, actor=actor, job=job)
        finally:
            target.close()
    except CopyError as error:
        if created is not None:
            _remove(created)
        raise UsageError(str(error)) from None
    except BaseException:
        if created is not None:
            _remove(created)
        raise
    finally:
        source.close()
    print_done(
        args,
        f"copied {result.source} to {result.target}: {result.rows:,} rows in "
        f"{len(result.tables)} tables, every count checked",
        {**asdict(result), "rows": result.rows},
    )
    return 0


def _new_file(args: argparse.Namespace, source: Database) -> Path:
    path = usable_path(args.target)
    if path.exists() and path.stat().st_size > 0:
        raise UsageError(f"{path}: already exists; copy into a new file")
    if source.encrypted and not (args.encrypt or args.plain):
        raise UsageError(
            f"{args.source} is encrypted: add --encrypt for an encrypted copy "
            "(or --plain to write it unencrypted)"
        )
    return path


def _copy_passphrase(args: argparse.Namespace, source: Database) -> str | None:
    return new_passphrase("TRIAGE_NEW_PASSPHRASE") if args.encrypt else None


def _remove(path: Path) -> None:
    for leftover in (path, cipher.companion(path, "-wal"), cipher.companion(path, "-shm")):
        leftover.unlink(missing_ok=True)


def open_server(value: str) -> Database:
    """The server database: a URL as it is, or an existing database file."""
    if "://" not in value:
        path = Path(value)
        if not path.is_file() or path.stat().st_size == 0:
            raise UsageError(f"{value}: no such database")
        passphrase = read_passphrase(path) if cipher.is_encrypted(path) else None
        try:
            return open_database(path, passphrase, backups_kept=settings.load().backups_kept)
        except RuntimeError as error:  # SQLite, but not a Triage database
            raise UsageError(str(error)) from None
    try:
        return open_database(value)
    except paths.UnusableDatabasePath as error:
        raise UsageError(str(error)) from None


def sign_in(args: argparse.Namespace, db: Database) -> Actor:
    """The acting user on ``db``; the password is asked at most once a command."""
    name = getattr(args, "user", None) or os.environ.get("TRIAGE_USER") or None
    password = getattr(args, "_password", None)
    if name is not None and password is None and accounts.needs_password(db, name):
        password = os.environ.get("TRIAGE_PASSWORD")
        if password is None and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {name}: ")
        args._password = password
    return accounts.sign_in(db, name, password)


def run_pull(args: argparse.Namespace) -> int:
    target = usable_path(args.to or args.db)
    existing = target.exists() and target.stat().st_size > 0
    if existing and cipher.is_encrypted(target):
        passphrase: str | None = read_passphrase(target)
    elif args.encrypt:
        passphrase = new_passphrase("TRIAGE_PASSPHRASE")
    else:
        passphrase = None
    server = open_server(args.server)
    try:
        actor = sign_in(args, server)
        with terminal_job(args) as job:
            result = pull(
                server, target, region=args.region, team=args.team, actor=actor,
                passphrase=passphrase, discard=args.discard, job=job,
            )  # fmt: skip
    except (SyncError, ValueError) as error:
        raise UsageError(str(error)) from None
    finally:
        server.close()
    print_done(args, _pull_text(result), pull_json(result))
    return 0


def pull_json(result: PullResult) -> dict[str, Any]:
    found = asdict(result)
    found["target"] = str(result.target)
    found["replaced_backup"] = str(result.replaced_backup) if result.replaced_backup else None
    found["pack_matches"] = result.pack_matches
    return found


def _pull_text(result: PullResult) -> str:
    counts = result.counts
    lines = [
        f"pulled {result.region}/{result.team} from {result.server} into {result.target}"
        f" ({'encrypted' if result.encrypted else 'not encrypted'})",
        f"  {counts['items']:,} open items ({counts['outcomes']:,} earlier decisions, "
        f"{counts['notes']:,} notes), {counts['em_cases']:,} EM cases "
        f"({counts['em_events']:,} events), {counts['users']:,} users",
    ]
    if result.pack_matches is False:
        lines.append(
            f"  note: the server ranked with rule pack {str(result.server_pack)[:10]}, this "
            f"laptop has {str(result.laptop_pack)[:10]}: the offline queue may order differently"
        )
    if result.model:
        state = "copied" if result.model_file else "unusable (none kept, or a wrong hash)"
        lines.append(f"  harm model {result.model}: file {state}")
    if result.replaced_backup:
        lines.append(f"  the copy it replaced is kept as {result.replaced_backup}")
    return "\n".join(lines)


def run_push(args: argparse.Namespace) -> int:
    laptop = database(args)
    try:
        server = open_server(args.server)
        try:
            sign_in(args, laptop)  # the laptop's users are the server's, as pulled
            actor = sign_in(args, server)
            with terminal_job(args) as job:
                result = push(laptop, server, actor=actor, job=job)
        except SyncError as error:
            raise UsageError(str(error)) from None
        finally:
            server.close()
    finally:
        laptop.close()
    print_done(args, _push_text(result), push_json(result))
    return 1 if result.conflicts else 0


def push_json(result: PushResult) -> dict[str, Any]:
    found = asdict(result)
    for conflict, shown in zip(result.conflicts, found["conflicts"], strict=True):
        shown["text"] = conflict.text()
    return found


def _push_text(result: PushResult) -> str:
    lines = [
        f"pushed to {result.server}: {result.applied['intel']} items, {result.applied['em']} EM "
        f"cases, {result.notes} notes, {result.meetings} meetings"
        + (f" ({result.already} already there)" if result.already else "")
    ]
    if result.conflicts:
        lines.append(
            f"{len(result.conflicts)} conflict(s), not sent (the server's decision stands; "
            "decide them again on the server if needed):"
        )
        lines += [f"  {c.text()}" for c in result.conflicts]
    return "\n".join(lines)


def run_status(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        copy = status(db)
    finally:
        db.close()
    if copy is None:
        raise UsageError(f"{db.location} is not a laptop copy (make one with 'triage sync pull')")
    waiting = copy.unsent
    found = {
        "server": copy.server, "region": copy.region, "team": copy.team,
        "pulled_at": copy.pulled_at, "pulled_by": copy.pulled_by, "pushed_at": copy.pushed_at,
        "unsent": {**waiting.changed, "notes": waiting.notes, "meetings": waiting.meetings},
    }  # fmt: skip
    if args.format == "json":
        print_json(found)
    else:
        print(f"laptop copy of {copy.region}/{copy.team} from {copy.server}")
        print(f"pulled {moment_text(copy.pulled_at)} by {copy.pulled_by}")
        print(f"not yet pushed: {waiting.text()}")
    return 0
