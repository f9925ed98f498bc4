"""The tables that keep a laptop copy and its server in step.

``sync_copy``: one row per laptop copy, on both sides. On the server
(``side='laptop'``) it registers a copy pulled from it; on the laptop
(``side='server'``) it says where the copy came from. ``origin`` is the
copy's random id, the same on both sides.

``sync_link``: a laptop row and the server row it is (``pulled``: copied
from the server with the same id; otherwise made offline and pushed). Kept
on both sides, so a push that is retried after the laptop's half failed
finds the rows it already wrote instead of writing them twice.

``sync_owner`` (laptop): for each intelligence item and EM case pulled, a
digest of its decision state as the server had it at the pull. A push
compares it with the laptop's and the server's state now: changed on the
server since the pull and offline as well is a conflict.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from triage.store.models import Base


class SyncCopy(Base):
    __tablename__ = "sync_copy"

    origin: Mapped[str] = mapped_column(String(36), primary_key=True)
    side: Mapped[str] = mapped_column(String(8), primary_key=True)
    region: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(64))
    # Where the copy came from, as shown (a URL never with its password).
    server: Mapped[str] = mapped_column(Text)
    pulled_at: Mapped[datetime] = mapped_column(DateTime)
    pulled_by: Mapped[str] = mapped_column(String(128))
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The rule pack the server's queue was ranked with when pulled.
    pack_version: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("side IN ('server', 'laptop')", name="side_known"),)


class SyncLink(Base):
    __tablename__ = "sync_link"

    origin: Mapped[str] = mapped_column(String(36), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(48), primary_key=True)
    local_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    server_id: Mapped[int] = mapped_column(Integer)
    pulled: Mapped[bool] = mapped_column(Boolean)


class SyncOwner(Base):
    __tablename__ = "sync_owner"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    pulled_digest: Mapped[str] = mapped_column(String(64))
