"""The model registry: one database row per trained artefact.

The row holds the manifest written at training time (file hash, library
versions, features, training-data hash). It is the trust anchor: an artefact
file is only ever deserialised when its bytes hash to the registered SHA-256
and the running library versions equal the registered ones. At most one model
is active (a partial unique index enforces it, whoever writes). The file's
bytes are kept too (``harm_model_file``), so the model travels with the
database to other machines; they are trusted only through the row's hash.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from triage import clock
from triage.store import audit
from triage.store.models import AuditEntry, Base
from triage.users import Action, Actor, require


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


class HarmModelFile(Base):
    """A registered model's file, byte for byte, so that any machine using this
    database can load it; trusted only when it hashes to the row's SHA-256."""

    __tablename__ = "harm_model_file"

    model_id: Mapped[str] = mapped_column(String(40), ForeignKey("harm_model.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


def stored_file(session: Session, model_id: str) -> bytes | None:
    """The bytes stored for ``model_id`` (None: registered before they were kept)."""
    return session.scalar(select(HarmModelFile.content).where(HarmModelFile.model_id == model_id))


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


ACCEPT = "model.accept"  # the audit action that records what was accepted


class ModelChanged(Exception):
    """The model's file or row is not what was accepted: it is not used."""


def row_digest(row: HarmModel) -> str:
    """SHA-256 of what makes the model itself: id, file hash, classifier and
    manifest (not who activated it or when)."""
    canonical = json.dumps(
        [row.id, row.sha256, row.classifier, row.manifest], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_accepted(session: Session, row: HarmModel) -> None:
    """Refuse (``ModelChanged``) an accepted model whose row no longer matches
    what the audit chain recorded at its acceptance. The file is checked
    against the row's hash when it is loaded (``artefact.load_verified``)."""
    entry = session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.action == ACCEPT,
            AuditEntry.entity == "harm_model",
            AuditEntry.entity_id == row.id,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if not row.active:
        return  # about to be accepted (activated), or not in use
    if entry is None:
        raise ModelChanged(
            f"model {row.id} is active but its acceptance is not in the audit log: "
            "a rules owner must activate it again"
        )
    expected = f"artefact={row.sha256} row={row_digest(row)}"
    if entry.new_value != expected:
        raise ModelChanged(
            f"model {row.id} refused: its registry row was changed after it was accepted "
            f"(audit entry {entry.id}); a rules owner must re-train or activate it again"
        )


def set_active(session: Session, model_id: str | None, actor: Actor) -> str | None:
    """Make ``model_id`` the one active model (None: none). Returns the previous one."""
    require(session, actor, Action.MODEL)
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
        row.activated_by = actor.name
        # What is accepted goes into the hash chain: a later change to the
        # file or the row no longer matches it (``check_accepted``).
        audit.record(
            session,
            ACCEPT,
            "harm_model",
            model_id,
            "trust",
            None,
            f"artefact={row.sha256} row={row_digest(row)}",
            who=actor.name,
        )
    audit.record(
        session,
        "model_activate" if model_id else "model_deactivate",
        "harm_model",
        model_id or previous_id or "",
        "active",
        previous_id,
        model_id,
        who=actor.name,
    )
    return previous_id
