"""Covering indexes for the statistics scan.

The tasking statistics read a few narrow columns of every item received in
the period and of every decision. Without these indexes SQLite reads the
whole (wide) rows, in region/team order, with a random table lookup each;
with them the period is one range scan of a narrow index, and the latest
decision per item one ordered scan of another (benchmarks/bench_stats.py).
"""

from __future__ import annotations

from sqlalchemy import Index

from triage.store.models import IntelItem, TaskingOutcome

ITEM_STATS = Index(
    "ix_stats_item",
    IntelItem.received_at,
    IntelItem.region,
    IntelItem.team,
    IntelItem.upstream_bucket,
    IntelItem.carry_over_count,
    IntelItem.passed_at,
)
OUTCOME_STATS = Index(
    "ix_stats_outcome",
    TaskingOutcome.item_id,
    TaskingOutcome.meeting_date,
    TaskingOutcome.decision,
    TaskingOutcome.reason,
    TaskingOutcome.result,
    TaskingOutcome.result_at,
    TaskingOutcome.model_score,
)
