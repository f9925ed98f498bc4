"""Feedback loop: rates per bucket rule (computed bucket first), per month, model agreement."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert
from stats_helpers import NOW, item, load, outcome

from triage.intel.models import IntelRank
from triage.stats import feedback, tasking
from triage.stats.period import Period

PERIOD = Period.resolve(date(2026, 1, 1), date(2026, 3, 31), as_of=date(2026, 6, 30))


def rank(item_id: int, bucket: int, rule: str) -> dict:
    return {
        "item_id": item_id,
        "bucket": bucket,
        "bucket_rule": rule,
        "score": 1.0,
        "age_days": 0,
        "stale": False,
        "rules_version": "t",
        "as_of": NOW,
        "ranked_at": NOW,
    }


def test_rates_per_rule_use_the_computed_bucket(db):
    jan, feb = datetime(2026, 1, 10, 9), datetime(2026, 2, 10, 9)
    items = [item("LSE", bucket=6, received=jan) for _ in range(4)]  # upstream says 6
    items += [item("LSE", bucket=6, received=feb) for _ in range(3)]
    unranked = item("LSE", bucket=5, received=feb)
    load(
        db,
        [*items, unranked],
        [
            outcome(items[0]["id"], "accepted", date(2026, 1, 20), result="arrest"),
            outcome(items[1]["id"], "accepted", date(2026, 1, 20), result="no_trace"),
            outcome(items[2]["id"], "rejected", date(2026, 1, 20)),
            outcome(items[4]["id"], "rejected", date(2026, 2, 20)),
            outcome(items[5]["id"], "rejected", date(2026, 2, 20)),
            outcome(unranked["id"], "accepted", date(2026, 2, 20)),
        ],
    )
    with db.transaction() as session:
        session.execute(
            insert(IntelRank),
            [rank(i["id"], 1, "national_campaign_code") for i in items[:4]]
            + [rank(i["id"], 3, "business_many_persons") for i in items[4:]],
        )
    stats = tasking.compute(db, PERIOD)
    assert stats.ranked
    rules = {r["rule"]: r for r in feedback.rule_feedback(stats).rows}
    assert rules["national_campaign_code"] == {
        "rule": "national_campaign_code",
        "bucket": 1,
        "available": 4,
        "discussed": 3,
        "accepted": 2,
        "rejected": 1,
        "not_discussed": 1,
        "accept_rate_pct": 67,
        "reject_rate_pct": 33,
        "not_discussed_pct": 25,
        "arrest_or_removal": 1,
        "result_rate_pct": 50,
    }
    assert rules["business_many_persons"]["reject_rate_pct"] == 100
    assert rules[feedback.NOT_RANKED]["bucket"] == 5
    # Figure 9 groups follow the computed bucket: the 7 ranked items are high.
    fig9 = tasking.figure9(stats).rows[0]
    assert (fig9["high_available"], fig9["low_available"]) == (7, 1)
    trend = {(r["month"], r["bucket"]): r for r in feedback.bucket_trend(stats).rows}
    assert trend[("2026-01", 1)]["accept_rate_pct"] == 67
    assert trend[("2026-02", 3)]["rejected"] == 2
    assert feedback.rule_rates(db, PERIOD)["business_many_persons"]["available"] == 3


def test_model_agreement(db):
    received = datetime(2026, 2, 1, 9)
    items = [item("NMWSW", received=received) for _ in range(5)]
    load(
        db,
        items,
        [
            outcome(items[0]["id"], "accepted", date(2026, 2, 9), model_score=0.9),  # agree
            outcome(items[1]["id"], "rejected", date(2026, 2, 9), model_score=0.85),  # disagree
            outcome(items[2]["id"], "rejected", date(2026, 2, 9), model_score=0.1),  # agree
            outcome(
                items[3]["id"], "accepted", date(2026, 2, 9), model_score=0.5
            ),  # agree (>= 0.5)
            outcome(
                items[4]["id"], "not_discussed", date(2026, 2, 9), model_score=0.7
            ),  # no decision
        ],
    )
    table = feedback.model_agreement(db, PERIOD)
    bands = {r["score_band"]: r for r in table.rows}
    assert bands["0.8-1.0"] == {
        "score_band": "0.8-1.0",
        "decided": 2,
        "accepted": 1,
        "rejected": 1,
        "agree": 1,
        "accepted_pct": 50,
        "agree_pct": 50,
    }
    assert bands["All"]["decided"] == 4 and bands["All"]["agree"] == 3
    assert bands["All"]["agree_pct"] == 75
    names = [t.name for t in feedback.tables(db, tasking.compute(db, PERIOD))]
    assert "model_agreement" in names


def test_no_model_agreement_table_without_scores(db):
    load(db, [item("SNI", received=datetime(2026, 2, 1, 9))], [])
    names = [t.name for t in feedback.tables(db, tasking.compute(db, PERIOD))]
    assert names == ["rule_feedback", "bucket_trend"]


def test_model_agreement_counts_only_each_items_latest_decision_as_of_the_day(db):
    received = datetime(2026, 2, 1, 9)
    items = [item("NMWSW", received=received) for _ in range(3)]
    load(
        db,
        items,
        [
            # Superseded by a later decision without a score: not counted.
            outcome(items[0]["id"], "accepted", date(2026, 2, 9), model_score=0.9),
            outcome(items[0]["id"], "rejected", date(2026, 2, 16)),
            # The later decision is after the as-of day: the scored one counts.
            outcome(items[1]["id"], "rejected", date(2026, 2, 9), model_score=0.3),
            outcome(items[1]["id"], "accepted", date(2026, 7, 6), model_score=0.95),
            # The only decision, scored: counted (and not in a period before receipt).
            outcome(items[2]["id"], "accepted", date(2026, 2, 9), model_score=0.9),
        ],
    )
    early = Period.resolve(date(2026, 1, 1), date(2026, 1, 31), as_of=date(2026, 6, 30))
    assert feedback.model_agreement(db, early).rows[-1]["decided"] == 0
    table = feedback.model_agreement(db, PERIOD)
    bands = {r["score_band"]: r for r in table.rows}
    assert bands["0.2-0.4"]["rejected"] == 1 and bands["0.2-0.4"]["agree"] == 1
    assert bands["0.8-1.0"]["accepted"] == 1
    assert bands["All"]["decided"] == 2
