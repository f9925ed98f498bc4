"""Test data for the EM tests: cases and events inserted with Core."""

from __future__ import annotations

from datetime import datetime, timedelta

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


def add_release_and_battery_cases(session) -> None:
    """REL1: an IJ release 80 hours after bail was granted (past its 72-hour
    deadline); BAT1: fitted, in contact, with three battery events."""
    add_case(
        session,
        "REL1",
        harm_level="high",
        em_status="awaiting_fit",
        bail_type="ij",
        bail_granted_at=NOW - timedelta(hours=80),
    )
    add_case(
        session, "BAT1", harm_level="low", fitted_at=NOW - timedelta(days=20), last_contact_at=NOW
    )
    for n, hours in enumerate((5, 4, 3)):
        start = NOW - timedelta(days=5 - n)
        add_event(
            session, f"B{n}", "BAT1", "battery", start, ended_at=start + timedelta(hours=hours)
        )
