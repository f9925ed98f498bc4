"""A case's last contact: the later of its recorded ``last_contact_at`` and
its latest ``contact_made`` event.

The case extract's column is as fresh as the last extract; a caseworker's
``contact_made`` event (formats.md §3) is contact too, so both count. Events
after the moment asked about are not known yet at that moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select

from triage.store.models import EmCase, EmEvent

CONTACT_EVENT = "contact_made"


def last_contact_sql(as_of: datetime) -> ColumnElement[datetime | None]:
    """SQL for an ``em_case`` row's last contact as known at ``as_of``
    (portable: a correlated max and a CASE, no dialect's greatest())."""
    latest_event = (
        select(func.max(EmEvent.started_at))
        .where(
            EmEvent.case_id == EmCase.case_id,
            EmEvent.event_type == CONTACT_EVENT,
            EmEvent.started_at <= as_of,
        )
        .scalar_subquery()
    )
    recorded = EmCase.last_contact_at
    return case(
        (latest_event > recorded, latest_event),
        else_=func.coalesce(recorded, latest_event),
    )


def last_contact(
    recorded: datetime | None, contact_events: Iterable[datetime], as_of: datetime
) -> datetime | None:
    """The same in Python, from a case's recorded value and its contact
    events' start times."""
    known = [moment for moment in contact_events if moment <= as_of]
    if recorded is not None:
        known.append(recorded)
    return max(known, default=None)
