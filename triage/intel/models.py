"""The stored ranking's ORM models, mapped onto the Core tables of
``triage.intel.tables`` (where the columns, constraints and indexes are
declared, and what each holds is said): one rank per intelligence item,
written by ``ranking.refresh``, the ranking's state and its change log.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Mapped

from triage.intel import tables
from triage.store.models import Base


class IntelRank(Base):
    """The computed rank of one intelligence item (contract: docs/rules.md)."""

    __table__ = tables.intel_rank

    item_id: Mapped[int]
    bucket: Mapped[int]
    bucket_rule: Mapped[str]
    score: Mapped[float]
    flags: Mapped[str | None]
    stale: Mapped[bool]
    age_days: Mapped[int]
    harm_score: Mapped[float | None]
    rules_version: Mapped[str]
    as_of: Mapped[datetime]
    ranked_at: Mapped[datetime]
    queue_key: Mapped[float | None]


class RankState(Base):
    """Whether the stored ranking is current: one row, kept by the store itself."""

    __table__ = tables.rank_state

    id: Mapped[int]
    dirty: Mapped[bool]
    rules_version: Mapped[str | None]
    ranked_day: Mapped[date | None]
    position_weight: Mapped[float | None]
    full_rerank: Mapped[bool]
    as_of: Mapped[datetime | None]


class RankChange(Base):
    """An item whose rank inputs changed (or which was deleted) since the last
    ranking, with its old corroboration keys."""

    __table__ = tables.rank_change

    id: Mapped[int]
    item_id: Mapped[int]
    subject_ref: Mapped[str | None]
    postcode: Mapped[str | None]
    business_name: Mapped[str | None]
