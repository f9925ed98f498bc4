"""The stored ranking: one row per intelligence item, written by ``ranking.refresh``.

Each row records which bucket rule matched, the points within the bucket and
the rule-pack version and instant (``as_of``) it was computed for, so any
rank shown to a meeting can be reproduced later from the same pack.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from triage.store.models import Base, IntelItem


class IntelRank(Base):
    """The computed rank of one intelligence item (contract: docs/rules.md)."""

    __tablename__ = "intel_rank"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("intel_item.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    bucket: Mapped[int] = mapped_column(Integer)
    # Id of the first-matching bucket rule (rules/intel/buckets.toml).
    bucket_rule: Mapped[str] = mapped_column(String(48))
    # Points within the bucket: higher is worked first.
    score: Mapped[float] = mapped_column(Float)
    # ';a;b;' like IntelItem.harm_flags (police_coordination, safeguarding, ...).
    flags: Mapped[str | None] = mapped_column(Text)
    stale: Mapped[bool] = mapped_column(default=False)
    age_days: Mapped[int] = mapped_column(Integer)
    # The optional ML harm score; NULL unless a valid model is active.
    harm_score: Mapped[float | None] = mapped_column(Float)
    rules_version: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[datetime] = mapped_column(DateTime)
    ranked_at: Mapped[datetime] = mapped_column(DateTime)
    # Where the item sorts within its bucket: minus (score + the model weight
    # x the harm score), so the index on (bucket, queue_key) walks the queue
    # in order and a page stops early, with nothing renumbered when one item
    # is re-ranked. The weight is ``RankState.position_weight``.
    queue_key: Mapped[float | None] = mapped_column(Float)

    # No index on (bucket, score): a refresh rewrites every row and that index
    # made it 3x slower; a full refresh builds the queue index after writing.
    __table_args__ = (
        CheckConstraint("bucket BETWEEN 1 AND 6", name="bucket_range"),
        Index("ix_rank_queue_key", "bucket", "queue_key"),
    )


# Corroboration counts ("other items about the same subject / premises,
# received by the ranking instant") are range counts on these two indexes of
# intel_item, for the whole-database ranking and the single-item trace alike
# (triage.rules.engine.corroboration_count). Kept here, beside the ranking
# that needs them.
_item = IntelItem.__table__
Index("ix_intel_subject_received", _item.c.subject_ref, _item.c.received_at)
Index("ix_intel_premises_received", _item.c.postcode, _item.c.business_name, _item.c.received_at)


class RankState(Base):
    """Whether the stored ranking is current: one row, kept by the store itself.

    Triggers (migration 0003) set ``dirty`` when an intelligence item or a harm
    model is added, changed or removed; ``ranking.refresh`` clears it and notes
    the rule-pack version, the UK day and the model weight it ranked with. So
    "is the ranking current?" is one primary-key read (``ranking.is_current``),
    compared with the pack in force, today and the weight setting.
    """

    __tablename__ = "rank_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dirty: Mapped[bool] = mapped_column(default=True)
    rules_version: Mapped[str | None] = mapped_column(String(64))
    ranked_day: Mapped[date | None] = mapped_column(Date)
    position_weight: Mapped[float | None] = mapped_column(Float)
    # Set when every item must be ranked again (a harm model changed: every
    # score moves); item changes are logged one by one in ``rank_change``.
    full_rerank: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The instant of the last full ranking.
    as_of: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class RankChange(Base):
    """An item whose rank inputs changed (or which was deleted) since the last
    ranking, with its old corroboration keys: items sharing them are ranked
    again too. Written by triggers (migration 0008); new items need no entry
    (they have no rank yet)."""

    __tablename__ = "rank_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer)
    subject_ref: Mapped[str | None] = mapped_column(String(64))
    postcode: Mapped[str | None] = mapped_column(String(10))
    business_name: Mapped[str | None] = mapped_column(Text)
