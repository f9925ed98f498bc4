"""The feedback loop: how the rules' choices fare at meetings and afterwards.

Which bucket rules fill the agenda with items teams keep rejecting, how each
bucket's acceptance and results move month by month, and how often the
optional model's suggestion agreed with the decision taken. The first two are
summed from the tasking cube (``triage.stats.tasking``); model agreement is
one more grouped query over the decisions that recorded a model score.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from triage.stats.period import Period
from triage.stats.table import Chart, Column, StatTable, percent
from triage.stats.tasking import (
    STATUS_FILTERS,
    Tally,
    TaskingStats,
    compute,
    period_params,
    tally,
)
from triage.store.db import Database

NOT_RANKED = "(not ranked)"
# Model scores are grouped in fifths for the agreement table.
SCORE_BANDS = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0))

RATE_COLUMNS = [
    Column("available", "Available"),
    Column("discussed", "Discussed"),
    Column("accepted", "Accepted", filters=STATUS_FILTERS["accepted"]),
    Column("rejected", "Rejected", filters=STATUS_FILTERS["rejected"]),
    Column("not_discussed", "Not discussed", filters=STATUS_FILTERS["not_discussed"]),
    Column("accept_rate_pct", "% of discussed accepted", "pct", of="accepted", per="discussed"),
    Column("reject_rate_pct", "% of discussed rejected", "pct", of="rejected", per="discussed"),
    Column("not_discussed_pct", "% not discussed", "pct", of="not_discussed", per="available"),
    Column("arrest_or_removal", "Arrest or removal"),
    Column(
        "result_rate_pct",
        "% of accepted ending in arrest or removal",
        "pct",
        of="arrest_or_removal",
        per="accepted",
    ),
]


def rates(t: Tally) -> dict[str, Any]:
    return {
        "available": t.received,
        "discussed": t.decided,
        "accepted": t.accepted,
        "rejected": t.rejected,
        "not_discussed": t.not_discussed,
        "accept_rate_pct": percent(t.accepted, t.decided),
        "reject_rate_pct": percent(t.rejected, t.decided),
        "not_discussed_pct": percent(t.not_discussed, t.received),
        "arrest_or_removal": t.arrest_or_removal,
        "result_rate_pct": percent(t.arrest_or_removal, t.accepted),
    }


def _filters(stats: TaskingStats, bucket: int | None) -> dict[str, Any]:
    return {
        **({"region": stats.region} if stats.region else {}),
        **({"buckets": [bucket]} if bucket else {}),
    }


def rule_feedback(stats: TaskingStats) -> StatTable:
    """Acceptance and result rates per bucket rule (the rule that placed the item)."""
    tallies = tally(stats.cube, lambda r: (r.rule or NOT_RANKED, r.bucket))
    keys = sorted(tallies, key=lambda k: (k[1] is None, k[1] or 0, k[0]))
    rows = [
        {"rule": rule, "bucket": bucket, **rates(tallies[(rule, bucket)])} for rule, bucket in keys
    ]
    return StatTable(
        "rule_feedback",
        "Feedback per bucket rule",
        [
            Column("rule", "Bucket rule", "text"),
            Column("bucket", "Bucket", "number"),
            *RATE_COLUMNS,
        ],
        rows,
        "Items received in the period by the bucket rule that matched them "
        "(intel_rank.bucket_rule; '(not ranked)' = no ranking row, upstream bucket used). "
        "Acceptance and rejection rates "
        "are of the items discussed (accepted + rejected); result rate = arrest or removal of "
        "the accepted. A rule whose items are mostly rejected fills agendas with unworkable work.",
        Chart("rule", ("accepted", "rejected", "not_discussed"), "Outcomes per rule", stacked=True),
        [_filters(stats, b) for _, b in keys],
    )


def bucket_trend(stats: TaskingStats) -> StatTable:
    """Acceptance and result rates per bucket and UK month received."""
    tallies = tally(stats.cube, lambda r: (r.month, r.bucket))
    keys = sorted(tallies, key=lambda k: (k[0], k[1] is None, k[1] or 0))
    rows = [{"month": m, "bucket": b, **rates(tallies[(m, b)])} for m, b in keys]
    return StatTable(
        "bucket_trend",
        "Feedback per bucket over time",
        [
            Column("month", "Month received", "text"),
            Column("bucket", "Bucket", "number"),
            *RATE_COLUMNS,
        ],
        rows,
        "As the rule table, per bucket and UK calendar month in which the items were received.",
        None,
        [_filters(stats, b) for _, b in keys],
    )


def model_agreement(db: Database, period: Period, *, region: str | None = None) -> StatTable:
    """How often the decision matched the model's suggestion, by score band.

    Only decisions (accepted/rejected) that recorded the model score shown at
    the time count; "agree" = accepted when the model suggested accept, or
    rejected when it suggested reject.
    """
    params, where = period_params(period, region)
    # Driven by the decisions that recorded a score (a scan of the covering
    # ix_stats_outcome), each kept if it is its item's latest up to the
    # as-of day: few decisions have a score, so few look-ups. (Joining every
    # item's latest decision first cost 0.7 s at a million items.)
    # round() of a number cast to NUMERIC: PostgreSQL rounds no double to places.
    sql = f"""
SELECT round(CAST(o.model_score AS NUMERIC), 3) AS score, o.decision, count(*)
FROM tasking_outcome o CROSS JOIN intel_item i
WHERE i.id = o.item_id AND o.model_score IS NOT NULL
  AND o.decision IN ('accepted', 'rejected') AND o.meeting_date <= :as_of
  AND o.meeting_date = (
      SELECT max(x.meeting_date) FROM tasking_outcome x
      WHERE x.item_id = o.item_id AND x.meeting_date <= :as_of)
  AND {where}
GROUP BY 1, 2
"""
    with db.engine.connect() as connection:
        found: list[Any] = list(connection.execute(text(sql), params))
    # A float on SQLite, a Decimal (NUMERIC) on PostgreSQL.
    records = [(float(score), str(decision), int(n)) for score, decision, n in found]
    bands = [{"accepted": 0, "rejected": 0, "agree": 0} for _ in SCORE_BANDS]
    if records:
        # Imported here: scoring loads scikit-learn (1.5 s of CPU), which
        # nothing else in statistics needs, and only decisions with a score.
        from triage.harm.scoring import suggestion, threshold

        cut = threshold(db)
        for score, decision, count in records:
            index = next(
                (i for i, (lo, hi) in enumerate(SCORE_BANDS) if lo <= score < hi),
                len(SCORE_BANDS) - 1,
            )
            bands[index][decision] += count
            if (suggestion(score, cut) == "accept") == (decision == "accepted"):
                bands[index]["agree"] += count
    rows: list[dict[str, Any]] = []
    for (lo, hi), band in zip(SCORE_BANDS, bands, strict=True):
        decided = band["accepted"] + band["rejected"]
        rows.append(
            {
                "score_band": f"{lo:.1f}-{hi:.1f}",
                "decided": decided,
                **band,
                "accepted_pct": percent(band["accepted"], decided),
                "agree_pct": percent(band["agree"], decided),
            }
        )
    decided = sum(r["decided"] for r in rows)
    agree = sum(r["agree"] for r in rows)
    accepted = sum(r["accepted"] for r in rows)
    rows.append(
        {
            "score_band": "All",
            "decided": decided,
            "accepted": accepted,
            "rejected": decided - accepted,
            "agree": agree,
            "accepted_pct": percent(accepted, decided),
            "agree_pct": percent(agree, decided),
        }
    )
    return StatTable(
        "model_agreement",
        "Model suggestion and decision",
        [
            Column("score_band", "Model score", "text"),
            Column("decided", "Decided"),
            Column("accepted", "Accepted"),
            Column("rejected", "Rejected"),
            Column("accepted_pct", "% accepted", "pct", of="accepted", per="decided"),
            Column("agree", "Decision agreed with model"),
            Column("agree_pct", "% agreed", "pct", of="agree", per="decided"),
        ],
        rows,
        "Latest decisions (accepted/rejected) of items received in the period that recorded the "
        "model's score (tasking_outcome.model_score). The model suggests accept at or above its "
        "threshold (triage.harm.scoring.suggestion). Advice only: agreement is not accuracy.",
        Chart(
            "score_band",
            ("accepted", "rejected"),
            "Decisions by model score",
            stacked=True,
            rows=len(SCORE_BANDS),
        ),
    )


def tables(db: Database, stats: TaskingStats) -> list[StatTable]:
    """The feedback tables; model agreement only when some decision recorded a score."""
    result = [rule_feedback(stats), bucket_trend(stats)]
    agreement = model_agreement(db, stats.period, region=stats.region)
    if agreement.rows[-1]["decided"]:
        result.append(agreement)
    return result


def rule_rates(db: Database, period: Period | None = None) -> dict[str, dict[str, Any]]:
    """Rates per bucket rule id, for showing beside each rule in the Rules view."""
    stats = compute(db, period or Period.resolve())
    return {row["rule"]: row for row in rule_feedback(stats).rows if row["rule"] != NOT_RANKED}
