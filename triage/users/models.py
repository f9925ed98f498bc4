"""The stored users' ORM model, mapped onto ``triage.users.tables.app_user``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from triage.store.models import Base
from triage.users import tables


class User(Base):
    """A local user. Never deleted (the audit names them): disabled instead."""

    __table__ = tables.app_user

    id: Mapped[int]
    name: Mapped[str]
    password_hash: Mapped[str | None]
    roles: Mapped[str]
    disabled: Mapped[bool]
    created_at: Mapped[datetime]
    created_by: Mapped[str]
