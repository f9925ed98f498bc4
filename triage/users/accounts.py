"""Local users: adding, listing, disabling, passwords, and signing in.

Passwords are stored only as argon2id hashes (argon2-cffi). A new database
has one user with every role and no password (a single-user laptop), and
while that is so nobody has to sign in. Once there is a second user, every
user needs a password, and commands must say who is acting.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, func, insert, select, update

from triage import clock, vocab
from triage.store import audit
from triage.store.db import Database
from triage.users.roles import ROLES, Action, Actor, NotPermitted, require
from triage.users.tables import app_user as _users

if TYPE_CHECKING:
    from argon2 import PasswordHasher

NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")


@cache
def _hasher() -> PasswordHasher:
    """argon2id, RFC 9106 low-memory profile. Imported when a password is
    hashed or checked: most commands (an open-mode database) never do, and
    argon2 cost ~15 ms of CPU at every start."""
    from argon2 import PasswordHasher

    return PasswordHasher()


class SignInError(NotPermitted):
    """No such user, disabled, or a wrong or missing password (exit status 4)."""


class UserError(ValueError):
    """A user command that cannot be done as asked (a bad name or role)."""


@dataclass(frozen=True)
class UserInfo:
    name: str
    roles: list[str]
    disabled: bool
    has_password: bool
    created_at: datetime
    created_by: str


def first_user_name() -> str:
    """The first user's name: the login that created the database, if it is a
    valid user name (else ``owner``). Recorded once; never read again."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = ""
    return login if NAME.fullmatch(login) else "owner"


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise UserError("a user name is a letter then up to 63 letters, digits, '.', '_' or '-'")
    return name


def check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        problem = f"unknown role {', '.join(unknown)}" if unknown else "give at least one role"
        raise UserError(f"{problem} (roles: {', '.join(ROLES)})")
    return sorted(set(roles))


def _actor(user: Row[Any]) -> Actor:
    return Actor(user.name, frozenset(vocab.split_list(user.roles)))


# The users' table in SQLAlchemy Core, on a plain connection for signing in:
# every command signs in first, and one that then needs no model (``rank
# intel``) never imports the ORM (~0.1 s of its start with the models).
_SIGN_IN_COLUMNS = (_users.c.id, _users.c.name, _users.c.password_hash, _users.c.roles,
                    _users.c.disabled)  # fmt: skip


def _open_mode_user(connection: Connection) -> Row[Any] | None:
    """The one user of a single-user database without a password, else None."""
    users = connection.execute(select(*_SIGN_IN_COLUMNS).limit(2)).all()
    if len(users) == 1 and users[0].password_hash is None and not users[0].disabled:
        return users[0]
    return None


def sign_in(db: Database, name: str | None, password: str | None) -> Actor:
    """The acting user for ``name`` and ``password``.

    Without a name: the database's single password-less user, if that is all
    it has. Raises ``SignInError`` naming the problem (never the password).
    """
    with db.engine.connect() as connection:
        if name is None:
            user = _open_mode_user(connection)
            if user is None:
                raise SignInError(
                    "this database has several users: say who you are "
                    "(--user NAME or TRIAGE_USER, password from a prompt or TRIAGE_PASSWORD)"
                )
            return _actor(user)
        user = connection.execute(
            select(*_SIGN_IN_COLUMNS).where(_users.c.name == name)
        ).one_or_none()
        if user is None:
            raise SignInError(f"no user {name!r} in this database")
        if user.disabled:
            raise SignInError(f"user {name!r} is disabled")
        if user.password_hash is None:
            only = _open_mode_user(connection)
            if only is not None and only.id == user.id:
                return _actor(user)
            raise SignInError(f"user {name!r} has no password: an admin must set one")
        if password is None:
            raise SignInError(f"user {name!r} needs a password")
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            _hasher().verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise SignInError(f"wrong password for user {name!r}") from None
        return _actor(user)


def needs_password(db: Database, name: str) -> bool:
    """Whether signing in as ``name`` asks for a password (so a front end
    prompts only when it must)."""
    with db.engine.connect() as connection:
        user = connection.execute(
            select(_users.c.password_hash).where(_users.c.name == name)
        ).one_or_none()
        return user is not None and user.password_hash is not None


def add_user(db: Database, name: str, roles: list[str], password: str, *, actor: Actor) -> None:
    """A new user (admin only). A second user ends the password-less mode, so
    the acting admin must have a password first."""
    require(db, actor, Action.MANAGE_USERS)
    check_name(name)
    roles = check_roles(roles)
    if not password:
        raise UserError("a new user needs a password")
    hashed = _hasher().hash(password)
    with db.transaction() as session:
        if session.scalar(select(_users.c.id).where(_users.c.name == name)) is not None:
            raise UserError(f"there is already a user {name!r}")
        me = session.execute(
            select(_users.c.password_hash).where(_users.c.name == actor.name)
        ).one_or_none()
        if me is not None and me.password_hash is None:
            raise UserError(
                f"set your own password first (triage user passwd): once there are two "
                f"users, {actor.name} could otherwise be used by anyone"
            )
        session.execute(
            insert(_users).values(
                name=name,
                password_hash=hashed,
                roles=vocab.join_list(roles),
                disabled=False,
                created_at=clock.now(),
                created_by=actor.name,
            )
        )
        audit.record(
            session, "user.add", "user", name, "roles", None, ",".join(roles), who=actor.name
        )


def list_users(db: Database, *, actor: Actor) -> list[UserInfo]:
    require(db, actor, Action.MANAGE_USERS)
    with db.sessions() as session:
        return [
            UserInfo(
                u.name,
                vocab.split_list(u.roles),
                u.disabled,
                u.password_hash is not None,
                u.created_at,
                u.created_by,
            )
            for u in session.execute(select(_users).order_by(_users.c.name))
        ]


def disable_user(db: Database, name: str, *, actor: Actor) -> None:
    """Disable a user (kept: the audit names them). The last enabled admin stays."""
    require(db, actor, Action.MANAGE_USERS)
    with db.transaction() as session:
        user = session.execute(select(_users).where(_users.c.name == name)).one_or_none()
        if user is None:
            raise UserError(f"no user {name!r}")
        if user.disabled:
            return
        if "admin" in vocab.split_list(user.roles):
            admins = session.scalar(
                select(func.count()).where(
                    _users.c.disabled.is_(False),
                    _users.c.roles.like("%;admin;%"),
                    _users.c.id != user.id,
                )
            )
            if not admins:
                raise UserError(f"{name} is the last admin: add another admin first")
        session.execute(update(_users).where(_users.c.id == user.id).values(disabled=True))
        audit.record(session, "user.disable", "user", name, "disabled", False, True, who=actor.name)


def set_password(db: Database, name: str, password: str, *, actor: Actor) -> None:
    """Set ``name``'s password: your own, or anyone's as an admin."""
    if name != actor.name:
        require(db, actor, Action.MANAGE_USERS)
    if not password:
        raise UserError("the password may not be empty")
    hashed = _hasher().hash(password)
    with db.transaction() as session:
        user_id = session.scalar(select(_users.c.id).where(_users.c.name == name))
        if user_id is None:
            raise UserError(f"no user {name!r}")
        session.execute(update(_users).where(_users.c.id == user_id).values(password_hash=hashed))
        # Never the hash itself: only that it changed.
        audit.record(
            session, "user.password", "user", name, "password", None, "set", who=actor.name
        )
