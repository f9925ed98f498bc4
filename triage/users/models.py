"""The stored users: a name, an argon2id password hash, roles, disabled or not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from triage.store.models import Base


class User(Base):
    """A local user. Never deleted (the audit names them): disabled instead."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # None: no password (only while the database has this one user).
    password_hash: Mapped[str | None] = mapped_column(Text)
    # Role names joined by ";" (``roles.ROLES`` keys).
    roles: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
