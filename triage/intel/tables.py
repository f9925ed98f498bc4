"""The stored ranking's tables in SQLAlchemy Core (``triage.store.tables``
says why Core): the ranks themselves, whether they are current, and the log
of items changed since. ``triage.intel.models`` maps its classes onto them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    true,
)

from triage.store.tables import intel_item, metadata

# The computed rank of one intelligence item (contract: docs/rules.md). Each
# row records which bucket rule matched, the points within the bucket and the
# rule-pack version and instant (``as_of``) it was computed for, so any rank
# shown to a meeting can be reproduced later from the same pack.
intel_rank = Table(
    "intel_rank",
    metadata,
    Column(
        "item_id",
        Integer,
        ForeignKey("intel_item.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("bucket", Integer, nullable=False),
    # Id of the first-matching bucket rule (rules/intel/buckets.toml).
    Column("bucket_rule", String(48), nullable=False),
    # Points within the bucket: higher is worked first.
    Column("score", Float, nullable=False),
    # ';a;b;' like intel_item.harm_flags (police_coordination, safeguarding, ...).
    Column("flags", Text),
    Column("stale", Boolean, nullable=False, default=False),
    Column("age_days", Integer, nullable=False),
    # The optional ML harm score; NULL unless a valid model is active.
    Column("harm_score", Float),
    Column("rules_version", String(64), nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("ranked_at", DateTime, nullable=False),
    # Where the item sorts within its bucket: minus (score + the model weight
    # x the harm score), so the index on (bucket, queue_key) walks the queue
    # in order and a page stops early, with nothing renumbered when one item
    # is re-ranked. The weight is ``rank_state.position_weight``.
    Column("queue_key", Float),
    CheckConstraint("bucket BETWEEN 1 AND 6", name="bucket_range"),
    # No index on (bucket, score): a refresh rewrites every row and that index
    # made it 3x slower; a full refresh builds the queue index after writing.
    Index("ix_rank_queue_key", "bucket", "queue_key"),
)

# Corroboration counts ("other items about the same subject / premises,
# received by the ranking instant") are range counts on these two indexes of
# intel_item, for the whole-database ranking and the single-item trace alike
# (triage.rules.engine.corroboration_count). Kept here, beside the ranking
# that needs them.
Index("ix_intel_subject_received", intel_item.c.subject_ref, intel_item.c.received_at)
Index(
    "ix_intel_premises_received",
    intel_item.c.postcode,
    intel_item.c.business_name,
    intel_item.c.received_at,
)

# Whether the stored ranking is current: one row, kept by the store itself.
# Triggers (migration 0003) set ``dirty`` when an intelligence item or a harm
# model is added, changed or removed; ``ranking.refresh`` clears it and notes
# the rule-pack version, the UK day and the model weight it ranked with. So
# "is the ranking current?" is one primary-key read (``ranking.is_current``),
# compared with the pack in force, today and the weight setting.
rank_state = Table(
    "rank_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dirty", Boolean, nullable=False, default=True),
    Column("rules_version", String(64)),
    Column("ranked_day", Date),
    Column("position_weight", Float),
    # Set when every item must be ranked again (a harm model changed: every
    # score moves); item changes are logged one by one in ``rank_change``.
    Column("full_rerank", Boolean, nullable=False, default=True, server_default=true()),
    # The instant of the last full ranking.
    Column("as_of", DateTime),
    CheckConstraint("id = 1", name="one_row"),
)

# An item whose rank inputs changed (or which was deleted) since the last
# ranking, with its old corroboration keys: items sharing them are ranked
# again too. Written by triggers (migration 0008); new items need no entry
# (they have no rank yet).
rank_change = Table(
    "rank_change",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, nullable=False),
    Column("subject_ref", String(64)),
    Column("postcode", String(10)),
    Column("business_name", Text),
)
