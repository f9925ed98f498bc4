"""CLI: ``triage user add|list|disable|passwd`` (admins; passwd also for yourself)."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from triage.cli.common import acting_user, add_format, database, print_done, print_rows
from triage.cli.main import UsageError
from triage.users import ROLES, accounts


def register(top: Any, groups: Any) -> None:
    parser = top.add_parser("user", help="users and their roles (admin)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="add a user (password from a prompt or $TRIAGE_NEW_PASSWORD)"
    )
    add.add_argument("name")
    add.add_argument(
        "--role", action="append", required=True, choices=list(ROLES), help="repeat for more"
    )
    add_format(add)
    add.set_defaults(handler=run_add)
    listing = actions.add_parser("list", help="every user, their roles and state")
    add_format(listing, ("table", "csv", "json"))
    listing.set_defaults(handler=run_list)
    disable = actions.add_parser("disable", help="stop a user signing in (kept for the audit)")
    disable.add_argument("name")
    add_format(disable)
    disable.set_defaults(handler=run_disable)
    passwd = actions.add_parser(
        "passwd", help="set a password (yours, or anyone's as admin; $TRIAGE_NEW_PASSWORD)"
    )
    passwd.add_argument("name", nargs="?", help="default: yourself")
    add_format(passwd)
    passwd.set_defaults(handler=run_passwd)


def _new_password(name: str) -> str:
    password = os.environ.get("TRIAGE_NEW_PASSWORD")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise UsageError("no password: type one at a prompt or set TRIAGE_NEW_PASSWORD")
    first = getpass.getpass(f"New password for {name}: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ; nothing changed")
    return first


def run_add(args: Any) -> int:
    db = database(args)
    actor = acting_user(args, db)
    try:
        accounts.add_user(db, args.name, args.role, _new_password(args.name), actor=actor)
    except accounts.UserError as error:
        raise UsageError(str(error)) from None
    roles = sorted(set(args.role))
    print_done(
        args, f"added {args.name} ({', '.join(roles)})", {"added": args.name, "roles": roles}
    )
    return 0


def run_list(args: Any) -> int:
    db = database(args)
    users = accounts.list_users(db, actor=acting_user(args, db))
    rows = [
        {
            "name": u.name,
            "roles": u.roles,
            "state": "disabled" if u.disabled else "active",
            "password": "set" if u.has_password else "none",
            "created_at": u.created_at,
            "created_by": u.created_by,
        }
        for u in users
    ]
    print_rows(rows, args.format)
    return 0


def run_disable(args: Any) -> int:
    db = database(args)
    try:
        accounts.disable_user(db, args.name, actor=acting_user(args, db))
    except accounts.UserError as error:
        raise UsageError(str(error)) from None
    print_done(args, f"disabled {args.name}", {"disabled": args.name})
    return 0


def run_passwd(args: Any) -> int:
    db = database(args)
    actor = acting_user(args, db)
    name = args.name or actor.name
    try:
        accounts.set_password(db, name, _new_password(name), actor=actor)
    except accounts.UserError as error:
        raise UsageError(str(error)) from None
    print_done(args, f"password set for {name}", {"password_set": name})
    return 0
