"""Rows and published figures shared by the statistics tests (tasking and EM)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from sqlalchemy import insert

from triage.store.models import IntelItem, TaskingOutcome

NOW = datetime(2026, 11, 20, 9, 0)
_ids = itertools.count(1)

# NAO Figure 9 canonical integer counts (shared/domain.md §2.1):
# region -> group -> (accepted, rejected, not discussed)
FIG9 = {
    "LSE": {"high": (302, 42, 121), "low": (2616, 1744, 17441)},
    "NMWSW": {"high": (593, 84, 21), "low": (2825, 941, 1772)},
    "SNI": {"high": (45, 23, 62), "low": (365, 154, 292)},
}
FIG9_PCT = {
    "London and South East": (22266, 465, (65, 9, 26), 21801, (12, 8, 80)),
    "North, Midlands, Wales and South West": (6236, 698, (85, 12, 3), 5538, (51, 17, 32)),
    "Scotland and Northern Ireland": (941, 130, (35, 18, 48), 811, (45, 19, 36)),
}


def assert_figure9_regions(rows) -> None:
    """Every published cell of NAO Figure 9's three region rows."""
    for row in rows:
        received, high, high_pct, low, low_pct = FIG9_PCT[row["region"]]
        assert (row["received"], row["high_available"], row["low_available"]) == (
            received,
            high,
            low,
        )
        assert (
            row["high_accepted_pct"],
            row["high_rejected_pct"],
            row["high_not_discussed_pct"],
        ) == high_pct
        assert (
            row["low_accepted_pct"],
            row["low_rejected_pct"],
            row["low_not_discussed_pct"],
        ) == low_pct


def item(region="LSE", *, received=datetime(2019, 6, 1, 12), bucket=6, **extra) -> dict:
    n = next(_ids)
    return {
        "id": n,
        "intel_id": f"I{n}",
        "received_at": received,
        "region": region,
        "upstream_bucket": bucket,
        "status": "open",
        "carry_over_count": 0,
        "created_at": NOW,
        "updated_at": NOW,
        **extra,
    }


def outcome(item_id: int, decision: str, day: date = date(2019, 6, 10), **extra) -> dict:
    return {
        "item_id": item_id,
        "meeting_date": day,
        "decision": decision,
        "reason": "no_capacity" if decision == "rejected" else None,
        "decided_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=10),
        **extra,
    }


def load(db, items: list[dict], outcomes: list[dict]) -> None:
    with db.transaction() as session:
        if items:
            session.execute(insert(IntelItem), items)
        if outcomes:
            session.execute(insert(TaskingOutcome), outcomes)


# ICIBI Figure 6 (shared/domain.md §2.5), one list per row, Sept. 21 to Feb. 22.
FIG6 = {
    "battery": [314, 498, 670, 966, 1156, 1363],
    "absence_15min": [191, 190, 127, 128, 155, 124],
    "full_curfew_missed": [133, 81, 70, 76, 26, 7],
    "interference_pid": [25, 43, 54, 59, 91, 75],
    "not_available_for_installation": [41, 41, 47, 58, 67, 67],
}
OTHER = [12, 23, 32, 23, 38, 60]
TOTALS = [716, 876, 1000, 1310, 1533, 1696]
