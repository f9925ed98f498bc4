"""Tasking outcome statistics: NAO Figure 9 reproduced exactly, every cell asserted."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from stats_helpers import FIG9, FIG9_PCT, assert_figure9_regions, item, load, outcome

from triage.stats import tasking
from triage.stats.period import Period, local_date_sql, offset_intervals
from triage.stats.table import percent, suppress


def build_figure9(db) -> None:
    """Items and outcomes with the canonical counts, plus history to see through."""
    items, outcomes = [], []
    for region, groups in FIG9.items():
        for group, (acc, rej, nd) in groups.items():
            buckets = (1, 2, 3, 4) if group == "high" else (5, 6)
            for k, decision in enumerate(["accepted"] * acc + ["rejected"] * rej + ["nd"] * nd):
                row = item(
                    region,
                    bucket=buckets[k % len(buckets)],
                    received=datetime(2019, 2 + k % 10, 1 + k % 27, 12),
                )
                items.append(row)
                if k % 3 == 0:
                    # An earlier meeting that did not get to it: the latest decision counts.
                    outcomes.append(outcome(row["id"], "not_discussed", date(2019, 12, 1)))
                if decision == "nd":
                    if k % 2:
                        outcomes.append(outcome(row["id"], "not_discussed", date(2019, 12, 5)))
                else:
                    outcomes.append(outcome(row["id"], decision, date(2019, 12, 5)))
    load(db, items, outcomes)


def test_figure9_reproduced_exactly(db):
    build_figure9(db)
    stats = tasking.compute(
        db, Period.resolve(date(2019, 2, 1), date(2019, 11, 30), as_of=date(2020, 1, 1))
    )
    table = tasking.figure9(stats)
    assert [r["region"] for r in table.rows] == [*FIG9_PCT, "All regions"]
    assert_figure9_regions(table.rows[:3])
    sni = table.rows[2]
    assert (
        sni["high_accepted_pct"] + sni["high_rejected_pct"] + sni["high_not_discussed_pct"] == 101
    )
    total = table.rows[3]
    assert total["received"] == 29443
    assert (total["high_available"] + total["low_available"]) == 29443
    assert (total["high_accepted"] + total["low_accepted"]) == 6746
    assert (total["high_rejected"] + total["low_rejected"]) == 2988
    assert (total["high_not_discussed"] + total["low_not_discussed"]) == 19709


def test_json_rows_per_region_group_and_bucket(db):
    build_figure9(db)
    stats = tasking.compute(
        db, Period.resolve(date(2019, 2, 1), date(2019, 11, 30), as_of=date(2020, 1, 1))
    )
    rows = tasking.outcome_rows(stats).plain_rows()
    groups = {(r["region"], r["group"]): r for r in rows if r["group"] != "bucket"}
    assert set(groups) == {(r, g) for r in FIG9 for g in ("high", "low")}
    sni_high = groups[("SNI", "high")]
    assert sni_high == {
        "region": "SNI",
        "group": "high",
        "bucket": None,
        "received": 941,
        "available": 130,
        "accepted": 45,
        "rejected": 23,
        "not_discussed": 62,
        "accepted_pct": 35,
        "rejected_pct": 18,
        "not_discussed_pct": 48,
    }
    buckets = [r for r in rows if r["group"] == "bucket" and r["region"] == "SNI"]
    assert [r["bucket"] for r in buckets] == [1, 2, 3, 4, 5, 6]
    assert sum(r["available"] for r in buckets) == 941
    assert sum(r["accepted"] for r in buckets[:4]) == 45


def test_every_cell_of_a_small_known_case(db):
    """Latest decision, as-of cut-off, period bounds and group split, cell by cell."""
    a = item("LSE", bucket=1, received=datetime(2026, 3, 2, 9))
    b = item("LSE", bucket=2, received=datetime(2026, 3, 3, 9))
    c = item("LSE", bucket=5, received=datetime(2026, 3, 4, 9))
    d = item("LSE", bucket=6, received=datetime(2026, 3, 5, 9))
    e = item("LSE", bucket=6, received=datetime(2026, 3, 6, 9))
    late = item("LSE", bucket=6, received=datetime(2026, 4, 1, 9))  # outside the period
    load(
        db,
        [a, b, c, d, e, late],
        [
            outcome(a["id"], "rejected", date(2026, 3, 10)),
            outcome(a["id"], "accepted", date(2026, 3, 17)),  # latest: accepted
            outcome(b["id"], "accepted", date(2026, 3, 10)),
            outcome(b["id"], "rejected", date(2026, 3, 24)),  # after as-of: ignored
            outcome(c["id"], "not_discussed", date(2026, 3, 10)),
            outcome(d["id"], "rejected", date(2026, 3, 17)),
            outcome(late["id"], "accepted", date(2026, 4, 2)),
        ],
    )
    stats = tasking.compute(
        db, Period.resolve(date(2026, 3, 1), date(2026, 3, 31), as_of=date(2026, 3, 20))
    )
    rows = {(r["group"], r["bucket"]): r for r in tasking.outcome_rows(stats).rows}
    high, low = rows[("high", None)], rows[("low", None)]
    assert (
        high["received"],
        high["available"],
        high["accepted"],
        high["rejected"],
        high["not_discussed"],
    ) == (5, 2, 2, 0, 0)
    assert (high["accepted_pct"], high["rejected_pct"], high["not_discussed_pct"]) == (100, 0, 0)
    assert (low["available"], low["accepted"], low["rejected"], low["not_discussed"]) == (
        3,
        0,
        1,
        2,
    )
    assert (low["accepted_pct"], low["rejected_pct"], low["not_discussed_pct"]) == (0, 33, 67)
    assert rows[("bucket", 6)]["available"] == 2
    assert rows[("bucket", 3)]["accepted_pct"] is None  # nothing available: no rate
    # The same period seen later: b's rejection now counts.
    later = tasking.compute(
        db, Period.resolve(date(2026, 3, 1), date(2026, 3, 31), as_of=date(2026, 4, 30))
    )
    high = next(r for r in tasking.outcome_rows(later).rows if r["group"] == "high")
    assert (high["accepted"], high["rejected"]) == (1, 1)


def test_conversion_age_carry_over_pass_on_and_pool(db):
    received = datetime(2026, 5, 1, 8)
    rows = [
        item(
            "SNI",
            bucket=3,
            received=received,
            passed_at=received + timedelta(hours=48),
            carry_over_count=2,
        ),
        item(
            "SNI",
            bucket=3,
            received=received,
            passed_at=received + timedelta(hours=48, microseconds=1),
        ),
        item("SNI", bucket=4, received=received, carry_over_count=1),
        item("SNI", bucket=5, received=received),
        item("SNI", bucket=6, received=received - timedelta(days=200)),
    ]
    load(
        db,
        rows,
        [
            outcome(
                rows[0]["id"],
                "accepted",
                date(2026, 5, 4),
                result="arrest",
                result_at=date(2026, 6, 1),
            ),
            outcome(
                rows[1]["id"],
                "accepted",
                date(2026, 5, 11),
                result="removal",
                result_at=date(2026, 12, 1),
            ),  # recorded after the as-of date
            outcome(rows[2]["id"], "accepted", date(2026, 6, 1), result="no_trace"),
            outcome(rows[3]["id"], "rejected", date(2026, 5, 31)),
        ],
    )
    stats = tasking.compute(db, Period.resolve(None, date(2026, 10, 31), as_of=date(2026, 10, 31)))
    conv = {r["group"]: r for r in tasking.conversion(stats).rows}
    assert conv["high"] == {
        "region": "SNI",
        "group": "high",
        "accepted": 3,
        "results_recorded": 2,
        "awaiting_result": 1,
        "arrest": 1,
        "removal": 0,
        "arrest_or_removal": 1,
        "conversion_pct": 33,
    }
    age = {r["decision"]: r for r in tasking.age_at_decision(stats).rows}
    # 3, 10 and 31 days (received 1 May, meetings 4 May, 11 May, 1 June).
    assert age["accepted"]["decided"] == 3
    assert age["accepted"]["mean_days"] == 14.7
    assert (
        age["accepted"]["days_0_2"],
        age["accepted"]["days_3_7"],
        age["accepted"]["days_8_30"],
        age["accepted"]["days_31_90"],
    ) == (0, 1, 1, 1)
    assert age["rejected"]["mean_days"] == 30.0
    carry = tasking.carry_overs(stats).rows[0]
    assert (
        carry["items"],
        carry["carried_over"],
        carry["carried_over_pct"],
        carry["carry_overs"],
    ) == (5, 2, 40, 3)
    passed = tasking.pass_on_48h(stats).rows[0]
    # Exactly 48 h is met (inclusive); 48 h and a microsecond is missed.
    assert (
        passed["with_pass_time"],
        passed["met"],
        passed["missed"],
        passed["met_pct"],
        passed["no_pass_time"],
    ) == (2, 1, 1, 50, 3)
    pool = tasking.not_discussed_pool(stats).rows[0]
    # One item not discussed, received 13 Oct 2025: 383 days before 31 Oct 2026.
    assert pool["pool"] == 1 and pool["oldest_days"] == 383 and pool["days_181_plus"] == 1


def test_pass_on_within_48_hours_counts_every_microsecond(db):
    # SQLite rounds a fraction to milliseconds when it reads a time: .9996 s
    # must not become the next second (48 h and half a second would pass).
    start = datetime(2026, 5, 1, 8, 0, 0, 999600)
    cases = {
        timedelta(hours=48, seconds=1, microseconds=500000 - 999600): False,
        timedelta(hours=48): True,
        timedelta(hours=48, microseconds=-400): True,
        timedelta(hours=48, microseconds=1): False,
        timedelta(hours=47, minutes=59, seconds=59, microseconds=999999): True,
    }
    load(db, [item("SNI", received=start, passed_at=start + gap) for gap in cases], [])
    stats = tasking.compute(db, Period.resolve(None, date(2026, 10, 31), as_of=date(2026, 10, 31)))
    passed = tasking.pass_on_48h(stats).rows[0]
    assert (passed["met"], passed["missed"]) == (3, 2)


def test_month_uses_the_uk_date():
    # 23:30 UTC on 31 July is 00:30 on 1 August in London (BST).
    assert any(
        s <= datetime(2026, 7, 31, 23, 30) < e
        for s, e, m in offset_intervals(datetime(2026, 1, 1), datetime(2026, 12, 31))
    )
    from sqlalchemy import create_engine, text

    with create_engine("sqlite://").connect() as connection:
        expression = local_date_sql(connection, "x", datetime(2026, 1, 1), datetime(2026, 12, 31))

        def local(moment: str) -> str:
            return connection.execute(
                text(f"SELECT {expression} FROM (SELECT :v AS x)"), {"v": moment}
            ).scalar_one()

        assert local("2026-07-31 23:30:00.000000") == "2026-08-01"
        assert local("2026-12-31 23:30:00.000000") == "2026-12-31"
        assert local("2026-03-29 00:59:59.000000") == "2026-03-29"  # clocks change at 01:00 UTC
        assert local("2026-03-28 23:30:00.000000") == "2026-03-28"
        assert local("2026-10-24 23:30:00.000000") == "2026-10-25"
        assert local("2026-10-25 23:30:00.000000") == "2026-10-25"


def test_by_month_groups_on_uk_month(db):
    load(
        db,
        [
            item("LSE", received=datetime(2026, 7, 31, 23, 30)),
            item("LSE", received=datetime(2026, 7, 31, 22, 30)),
        ],
        [],
    )
    stats = tasking.compute(
        db, Period.resolve(date(2026, 7, 1), date(2026, 8, 31), as_of=date(2026, 9, 1))
    )
    months = {r["month"]: r["available"] for r in tasking.by_month(stats).rows}
    assert months == {"2026-07": 1, "2026-08": 1}


def test_period_boundaries_are_uk_days(db):
    # 31 Mar 23:30 UTC is 1 April 00:30 BST: outside a March period.
    load(
        db,
        [
            item("LSE", received=datetime(2026, 3, 31, 23, 30)),
            item("LSE", received=datetime(2026, 3, 1, 0, 0)),
        ],
        [],
    )
    stats = tasking.compute(
        db, Period.resolve(date(2026, 3, 1), date(2026, 3, 31), as_of=date(2026, 4, 1))
    )
    assert tasking.figure9(stats).rows[0]["received"] == 1


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (45, 130, 35),
        (23, 130, 18),
        (62, 130, 48),
        (1, 8, 13),
        (1, 200, 1),
        (1, 201, 0),
        (5, 10, 50),
        (1, 40, 3),
        (0, 5, 0),
        (3, 0, None),
    ],
)
def test_percent_rounds_half_up(part, whole, expected):
    assert percent(part, whole) == expected


def test_suppression_hides_small_counts_and_their_percentages(db):
    rows = [item("SNI", bucket=1) for _ in range(3)] + [item("SNI", bucket=6) for _ in range(20)]
    load(
        db,
        rows,
        [outcome(rows[0]["id"], "accepted")] + [outcome(r["id"], "accepted") for r in rows[3:15]],
    )
    stats = tasking.compute(
        db, Period.resolve(date(2019, 1, 1), date(2019, 12, 31), as_of=date(2019, 12, 31))
    )
    table = suppress(tasking.outcome_rows(stats), 5)
    high = next(r for r in table.rows if r["group"] == "high")
    low = next(r for r in table.rows if r["group"] == "low")
    assert (high["available"], high["accepted"], high["rejected"]) == ("<5", "<5", 0)
    assert high["accepted_pct"] == "c" and high["rejected_pct"] == "c"
    assert (low["available"], low["accepted"], low["not_discussed"]) == (20, 12, 8)
    assert (low["accepted_pct"], low["not_discussed_pct"]) == (60, 40)


def test_bad_period_is_refused():
    with pytest.raises(ValueError, match="starts"):
        Period.resolve(date(2026, 3, 2), date(2026, 3, 1), as_of=date(2026, 3, 5))
