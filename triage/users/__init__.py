"""Users, roles and the acting user that every core operation is given."""

from triage.users.roles import (
    ALL_ROLES,
    ROLES,
    Action,
    Actor,
    NotPermitted,
    permitted,
    require,
)

__all__ = ["ALL_ROLES", "ROLES", "Action", "Actor", "NotPermitted", "permitted", "require"]
