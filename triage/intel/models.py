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
    # The item's place in the whole queue (1 = first), worked out once per
    # refresh with the model weight in ``position_weight``. A filtered queue
    # then reads this index in order and stops at its page, instead of sorting
    # every matching row (1,000,000 items: ~0.6 s a page without it).
    queue_position: Mapped[int | None] = mapped_column(Integer)
    position_weight: Mapped[float | None] = mapped_column(Float)

    # No index on (bucket, score): a refresh rewrites every row and that index
    # made it 3x slower; the position index is written once, in order.
    __table_args__ = (
        CheckConstraint("bucket BETWEEN 1 AND 6", name="bucket_range"),
        Index("ix_rank_queue_position", "bucket", "queue_position"),
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

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
