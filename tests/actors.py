"""Acting users for tests that call core operations directly."""

from __future__ import annotations

from typing import Any

from triage.users import ALL_ROLES, Actor, accounts

# A user with every role: what a new single-user database's first user has.
EVERYONE = Actor("tester", ALL_ROLES)


def as_user(name: str) -> Actor:
    """A named user with every role (for tests about who did what)."""
    return Actor(name, ALL_ROLES)


def add_users(db: Any, *names: str, roles: tuple[str, ...] = tuple(ALL_ROLES)) -> None:
    """Stored users ``names`` (password "pw"); the database's first user gets
    the same password, as an admin must before adding anyone."""
    owner = accounts.sign_in(db, None, None)
    accounts.set_password(db, owner.name, "pw", actor=owner)
    for name in names:
        accounts.add_user(db, name, list(roles), "pw", actor=owner)
