"""Test data for the EM tests: cases and events inserted with Core."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from triage.store.models import EmCase, EmEvent

NOW = datetime(2026, 11, 20, 9, 0)  # TRIAGE_NOW of conftest (UTC, GMT in November)


def add_case(session, case_id: str, **fields) -> None:
    row = {
        "case_id": case_id,
        "created_at": NOW,
        "updated_at": NOW,
        "region": "LSE",
        "em_status": "active",
    }
    row.update(fields)
    session.execute(insert(EmCase), [row])


def add_event(
    session, event_id: str, case_id: str, event_type: str, started_at: datetime, **fields
) -> None:
    row = {
        "event_id": event_id,
        "case_id": case_id,
        "event_type": event_type,
        "started_at": started_at,
        "created_at": NOW,
    }
    row.update(fields)
    session.execute(insert(EmEvent), [row])
