"""The signed-in user of this app window: the acting user passed to every core
operation (the core records it in the audit and checks its roles)."""

from __future__ import annotations

from triage import settings
from triage.users import Actor, NotPermitted

_signed_in: Actor | None = None


def current() -> Actor:
    """The acting user (signed in when the database was opened)."""
    if _signed_in is None:
        raise NotPermitted("nobody is signed in")
    return _signed_in


def sign_in(actor: Actor | None) -> None:
    global _signed_in
    _signed_in = actor


def model_weight() -> float:
    """The user's weight for the harm score in the queue order (a setting)."""
    return float(settings.load().model_weight)
