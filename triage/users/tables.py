"""The users' table in SQLAlchemy Core (``triage.store.tables`` says why):
every command signs in first, reading it. ``triage.users.models`` maps
``User`` onto it."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table, Text

from triage.store.tables import metadata

# A local user: a name, an argon2id password hash, roles, disabled or not.
# Never deleted (the audit names them): disabled instead.
app_user = Table(
    "app_user",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    # None: no password (only while the database has this one user).
    Column("password_hash", Text),
    # Role names joined by ";" (``roles.ROLES`` keys).
    Column("roles", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
)
