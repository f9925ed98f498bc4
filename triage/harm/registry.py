"""The model registry: one database row per trained artefact.

The row holds the manifest written at training time (file hash, library
versions, features, training-data hash). It is the trust anchor: an artefact
file is only ever deserialised when its bytes hash to the registered SHA-256
and the running library versions equal the registered ones. At most one model
is active (a partial unique index enforces it, whoever writes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, String, Text, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from triage import clock
from triage.store import audit
from triage.store.models import Base


class HarmModel(Base):
    """A trained harm-score model: where its file is and what it must hash to."""

    __tablename__ = "harm_model"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    classifier: Mapped[str] = mapped_column(String(32))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    activated_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        Index("uq_harm_model_one_active", "active", unique=True, sqlite_where=text("active = 1")),
    )


def active_model(session: Session) -> HarmModel | None:
    return session.scalars(select(HarmModel).where(HarmModel.active.is_(True))).first()


def get(session: Session, model_id: str) -> HarmModel:
    row = session.get(HarmModel, model_id)
    if row is None:
        raise LookupError(f"no registered model {model_id!r} (see `triage model list`)")
    return row


def latest(session: Session) -> HarmModel | None:
    return session.scalars(
        select(HarmModel).order_by(HarmModel.created_at.desc(), HarmModel.id.desc())
    ).first()


def all_models(session: Session) -> list[HarmModel]:
    return list(session.scalars(select(HarmModel).order_by(HarmModel.created_at, HarmModel.id)))


def set_active(session: Session, model_id: str | None, who: str) -> str | None:
    """Make ``model_id`` the one active model (None: none). Returns the previous one."""
    previous = active_model(session)
    previous_id = previous.id if previous else None
    if previous_id == model_id:
        return previous_id
    session.execute(update(HarmModel).where(HarmModel.active.is_(True)).values(active=False))
    session.flush()
    if model_id is not None:
        row = get(session, model_id)
        row.active = True
        row.activated_at = clock.now()
        row.activated_by = who
    audit.record(
        session,
        "model_activate" if model_id else "model_deactivate",
        "harm_model",
        model_id or previous_id or "",
        "active",
        previous_id,
        model_id,
        who=who,
    )
    return previous_id
