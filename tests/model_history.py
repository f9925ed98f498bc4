"""Synthetic tasking history with a known harm signal, for the model tests.

Inserted with Core (not the demo generator) so the model tests own their
data: items whose chance of a harmful result follows a logistic function of
weapon/violence flags, whereabouts, source grade and corroboration, and
never of nationality or gender (which are filled in for the fairness report).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import insert, text

from triage.store import dialect
from triage.store.db import Database
from triage.store.models import EmCase, IntelItem, TaskingOutcome

NATIONALITIES = ("ALB", "IND", "PAK", "NGA", "VNM", "POL", "ROU", "BGD")


def make_history(db: Database, n: int = 1600, seed: int = 0, start: date = date(2025, 1, 6)):
    """Insert ``n`` accepted items with results over ~n/20 weekly-ish meeting days."""
    rng = np.random.default_rng(seed)
    weapon = rng.random(n) < 0.15
    violence = rng.random(n) < 0.1
    whereabouts = rng.choice(["known", "last_known", "unknown"], n, p=[0.4, 0.35, 0.25])
    grade = rng.choice([1, 2, 3], n)
    subjects = rng.integers(0, n // 2, n)
    logit = (
        -1.0
        + 1.8 * weapon
        + 1.0 * violence
        + 1.2 * (whereabouts == "known")
        - 1.0 * (whereabouts == "unknown")
        - 0.6 * (grade - 2)
    )
    harmful = rng.random(n) < 1 / (1 + np.exp(-logit))
    now = datetime(2026, 11, 1)
    items, outcomes, cases = [], [], []
    for i in range(n):
        meeting = start + timedelta(days=int(i * 600 / n))
        received = datetime.combine(meeting, datetime.min.time()) - timedelta(
            days=int(rng.integers(2, 40))
        )
        flags = [f for f, on in (("weapon", weapon[i]), ("violence", violence[i])) if on]
        em = f"EM{i}" if i % 5 == 0 else None
        if em:
            cases.append(
                {
                    "case_id": em,
                    "gender": "female" if i % 3 == 0 else "male",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        items.append(
            {
                "id": i + 1,
                "intel_id": f"I{i:06d}",
                "received_at": received,
                "passed_at": received + timedelta(hours=int(rng.integers(1, 100))),
                "region": "LSE",
                "team": "T1",
                "source_type": "public",
                "grading": None,
                "grade_source": int(grade[i]),
                "grade_intel": "B",
                "grade_handling": "P",
                "subject_named": bool(i % 2),
                "subject_ref": f"S{subjects[i]}",
                "nationality": NATIONALITIES[i % len(NATIONALITIES)],
                "whereabouts": whereabouts[i],
                "postcode": f"E{i % 40} 1AA",
                "business_name": "Shop" if i % 3 else None,
                "sector": ("construction", "care", "catering")[i % 3],
                "persons_estimated": int(i % 7),
                "allegation": "illegal_working",
                "harm_flags": (";" + ";".join(flags) + ";") if flags else None,
                "campaign": None,
                "upstream_bucket": 3 if weapon[i] else 6,
                "status": "accepted",
                "carry_over_count": 0,
                "em_case_id": em,
                "created_at": now,
                "updated_at": now,
            }
        )
        outcomes.append(
            {
                "item_id": i + 1,
                "meeting_date": meeting,
                "decision": "accepted",
                "decided_at": datetime.combine(meeting, datetime.min.time()),
                "result": "arrest" if harmful[i] else "no_trace",
            }
        )
    with db.transaction() as session:
        if cases:
            session.execute(insert(EmCase), cases)
        session.execute(insert(IntelItem), items)
        session.execute(insert(TaskingOutcome), outcomes)
        if dialect.is_postgres(session):
            # The items were given their ids: PostgreSQL's sequence must move
            # past them (SQLite takes the largest id plus one by itself).
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('intel_item', 'id'), "
                    "coalesce((SELECT max(id) FROM intel_item), 0) + 1, false)"
                )
            )
    return harmful


def as_if_trained_by_an_older_triage(db: Database, model_id: str) -> None:
    """Make a registered model look trained before the pipelines read
    matrices (pandas era): no ``pipeline_input`` in its manifest, in the
    registry row and in the file beside the model."""
    import json
    from pathlib import Path

    from sqlalchemy import update

    from triage.harm import artefact, registry

    with db.transaction() as session:
        row = registry.get(session, model_id)
        manifest = {k: v for k, v in row.manifest.items() if k != "pipeline_input"}
        session.execute(
            update(registry.HarmModel)
            .where(registry.HarmModel.id == model_id)
            .values(manifest=manifest)
        )
        beside = Path(row.path).parent / artefact.MANIFEST_FILE
    beside.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
