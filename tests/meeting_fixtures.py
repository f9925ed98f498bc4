"""Test data for the meeting and UI tests: intelligence items built with Core
inserts so each lands in a known bucket under the bundled rule pack."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from triage import clock
from triage.store.models import IntelItem

REGION = "LSE"
TEAM = "London North"

# kind -> the fields that put an item in that bucket (contracts: bucket rules)
KINDS = {
    "national": {"campaign": "NAT-CONSTRUCTION", "sector": "construction"},
    "business": {"business_name": "Acme Works", "persons_estimated": 8, "postcode": "E1 6AN"},
    "harm": {"harm_flags": ";weapon;", "allegation": "fno", "subject_ref": "P-77"},
    "named": {"subject_named": True, "allegation": "overstayer", "subject_ref": "P-12"},
    "other": {"allegation": "other"},
}


def add_items(db, specs: list[dict]) -> list[int]:
    """Insert items: each spec has intel_id, age_days and any IntelItem fields."""
    now = clock.now()
    rows = []
    for spec in specs:
        spec = dict(spec)
        age = spec.pop("age_days", 5)
        received: datetime = now - timedelta(days=age, hours=1)
        rows.append(
            {
                "region": REGION,
                "team": TEAM,
                "status": "open",
                "carry_over_count": 0,
                "received_at": received,
                "created_at": now,
                "updated_at": now,
                "summary": f"Summary of {spec['intel_id']}",
                **spec,
            }
        )
    with db.transaction() as session:
        session.execute(insert(IntelItem), rows)
        ids = (
            session.execute(
                IntelItem.__table__.select().with_only_columns(IntelItem.id).order_by(IntelItem.id)
            )
            .scalars()
            .all()
        )
    return list(ids)[-len(specs) :]


def standard_items(db, n: int = 30, *, team: str = TEAM) -> None:
    """``n`` items cycling through the bucket kinds, fresh, one stale harm item."""
    kinds = list(KINDS)
    specs = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        spec = {"intel_id": f"INT-{i:04d}", "age_days": 3 + i % 20, "team": team, **KINDS[kind]}
        specs.append(spec)
    # One old harm item: top of the queue (bucket 4) and stale.
    specs.append({"intel_id": "INT-STALE", "age_days": 200, "team": team, **KINDS["harm"]})
    add_items(db, specs)


def ranked(db) -> None:
    from triage.intel import ranking

    ranking.refresh(db)
