"""The ``triage`` command line: the same core operations the app calls.

Each area registers its subcommands from its own module in
``triage.cli``; ``rank`` and ``explain`` are shared groups in which the
intelligence and EM areas each add their own kind (``rank intel``,
``rank em``).

Exit status: 0 success; 1 done, but with something to look at (quarantined
rows, failed checks); 2 unusable input or command; 3 the database cannot be
used (locked, damaged, full, read-only, wrong passphrase, newer schema); 4 not
permitted.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeAlias, TypeVar

from triage import __version__, clock, paths, settings
from triage.private_files import private_umask

AREAS = (
    "database",
    "imports",
    "demo",
    "ranking",
    "notes",
    "em",
    "stats",
    "model",
    "meetings",
    "users",
    "audit",
    "retention",
    "outcomes",
    "sync",
    "qa",
    "governance",
)
# The top-level commands each area adds (a test holds this to what they
# register). A command line loads only the areas of its command: loading them
# all pulls in pandas, fpdf, Alembic ... and cost 1.9 s of CPU before any
# command ran, ``triage --version`` included.
COMMAND_AREAS: dict[str, tuple[str, ...]] = {
    "db": ("database",),
    "import": ("imports",),
    "quarantine": ("imports",),
    "demo": ("demo",),
    "rank": ("ranking", "em"),
    "explain": ("ranking", "em"),
    "rules": ("ranking",),
    "note": ("notes",),
    "em": ("em",),
    "stats": ("stats",),
    "model": ("model",),
    "meeting": ("meetings",),
    "gui": ("meetings",),
    "user": ("users",),
    "audit": ("audit",),
    "purge": ("retention",),
    "outcomes": ("outcomes",),
    "sync": ("sync",),
    "qa": ("qa",),
    "governance": ("governance",),
}
# The shared groups' kinds: ``rank intel`` needs only the intelligence area
# (loading the EM area's modules as well cost ~0.1 s of CPU a start).
KIND_AREAS: dict[str, tuple[str, ...]] = {"intel": ("ranking",), "em": ("em",)}


# The subcommand registry every area module adds its commands to; "rank" and
# "explain" are shared groups keyed by name.
# (a string: argparse's class cannot be subscripted at run time)
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Groups = dict[str, Subcommands]
T = TypeVar("T")


class UsageError(Exception):
    """A command that cannot be carried out as asked: printed, exit status 2."""


def areas_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The areas a command line needs: its command's (a shared group's kind's:
    ``rank intel``), none for ``--version``
    alone, every area for help or a command that is not known (so the error
    lists them all)."""
    global_options = argparse.ArgumentParser(add_help=False)
    global_options.add_argument("--db")
    global_options.add_argument("--user")
    global_options.add_argument("--version", action="store_true")
    known, rest = global_options.parse_known_args(list(argv))
    command = rest[0] if rest else None
    if command in ("rank", "explain") and len(rest) > 1 and rest[1] in KIND_AREAS:
        return KIND_AREAS[rest[1]]
    if command in COMMAND_AREAS:
        return COMMAND_AREAS[command]
    if command is None and known.version:
        return ()
    return AREAS


def build_parser(areas: Sequence[str] = AREAS) -> argparse.ArgumentParser:
    """The command line's parser, with the subcommands of ``areas`` (all by default)."""
    parser = argparse.ArgumentParser(
        prog="triage",
        description="Triage: intelligence tasking and EM caseload prioritisation.",
        epilog="Exit status: 0 done; 1 done, with rows quarantined or checks failed; "
        "2 unusable input or command; 3 the database cannot be used (locked, damaged, full, "
        "read-only, wrong passphrase, newer schema); 4 not permitted (unknown or disabled "
        "user, wrong password, or a role that may not do it).",
    )
    parser.add_argument("--version", action="version", version=f"triage {__version__}")
    parser.add_argument("--db", help="database file (else $TRIAGE_DB, else the user data folder)")
    parser.add_argument(
        "--user",
        help="act as this user (else $TRIAGE_USER); the password from a prompt or $TRIAGE_PASSWORD",
    )
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: Groups = {
        "rank": top.add_parser("rank", help="ranked work queues").add_subparsers(
            dest="kind", required=True, metavar="KIND"
        ),
        "explain": top.add_parser("explain", help="why an item ranks where it does").add_subparsers(
            dest="kind", required=True, metavar="KIND"
        ),
    }
    for area in areas:
        importlib.import_module(f"triage.cli.{area}").register(top, groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:
            # Flush here, not at interpreter exit, so that a reader that has
            # gone shows as the BrokenPipeError below (the "Note on SIGPIPE"
            # in the signal module's documentation), buffered or not.
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (``triage rank intel | head``): not a
        # failure to report. Point stdout at nowhere so that the flush at
        # exit does not raise the same error again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as the shell reports a stopped pipe


def _without_collecting(
    build: Callable[[tuple[str, ...]], T], areas: tuple[str, ...], *, whole_process: bool
) -> T:
    """``build(areas)`` (importing the command's modules) with the cyclic garbage
    collector paused: imports make hundreds of thousands of long-lived objects
    and almost no garbage, and collecting over them again and again cost a
    short command ~10% of its CPU (50-60 ms of ``rank intel``'s ~0.5 s).

    When the command is the ``whole_process`` (the ``triage`` program, not a
    caller such as a test), the objects made so far are also set aside from
    later collections (``gc.freeze``), which would otherwise walk them all
    again; a caller's own garbage is never frozen."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return build(areas)
    finally:
        if whole_process:
            gc.freeze()
        if enabled:
            gc.enable()


def _run(argv: Sequence[str] | None) -> int:
    whole_process = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _without_collecting(build_parser, areas_for(argv), whole_process=whole_process)
    args = parser.parse_args(argv)
    # Times in tables and exports are shown in the user's display time zone,
    # as the app shows them (a setting; UK time by default).
    clock.use_display_zone(settings.load().display_time_zone)
    try:
        # Exports, logs and database files this command writes are private.
        with private_umask():
            return int(args.handler(args) or 0)
    except UsageError as error:
        print(f"triage: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # Imported here, when a command has failed: both pull in SQLAlchemy
        # (and the users module Alembic), which ``triage --version`` and a
        # usage error never need (0.6 s of CPU at every start).
        from triage.store.faults import store_fault
        from triage.users import NotPermitted

        if isinstance(error, NotPermitted):  # refused, or could not sign in: already audited
            print(f"triage: {error}", file=sys.stderr)
            return 4
        fault = store_fault(error)
        if fault is None:
            raise
        # A StoreUnavailable from the core names its file; a driver error
        # mid-command is about the database the command was given.
        where = "" if fault is error else f"{_db_named(args)}: "
        print(f"triage: {where}{fault}", file=sys.stderr)
        return 3


def _db_named(args: argparse.Namespace) -> str:
    given = getattr(args, "db", None)
    url = paths.database_url(given)
    if url is not None:  # the server's address, never its password
        return paths.without_password(url)
    return str(paths.resolve_db_path(given))


if __name__ == "__main__":
    sys.exit(main())
