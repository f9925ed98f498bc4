"""Deadline arithmetic for EM cases: pure functions, no database.

All datetimes are naive UTC (``triage.clock``); review dates are UK calendar
dates. The boundaries are the product's rules (shared/domain.md §5): the IJ
release deadline is overdue strictly after bail + 72 hours; a review is due
3 calendar months after the later of fitting and the last review, with the
day clamped to the month's end.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import overload

from triage import clock
from triage.em.pack import EmPack


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, the day clamped to the month's end."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def release_deadline(
    bail_type: str | None, bail_granted_at: datetime | None, pack: EmPack
) -> datetime | None:
    """IJ bail: grant + 72 hours. SoS bail (or unknown): no deadline."""
    if bail_type != "ij" or bail_granted_at is None:
        return None
    return bail_granted_at + timedelta(hours=pack.ij_release_hours)


def is_overdue(due_at: datetime | None, as_of: datetime) -> bool:
    """Overdue strictly after the deadline instant."""
    return due_at is not None and as_of > due_at


def is_due_soon(due_at: datetime | None, as_of: datetime, pack: EmPack) -> bool:
    return due_at is not None and as_of <= due_at <= as_of + timedelta(hours=pack.due_soon_hours)


def review_base(fitted_at: datetime | None, last_review_at: date | None) -> date | None:
    """The later of the fitting (its UK date) and the last review."""
    fitted = clock.to_local(fitted_at).date() if fitted_at else None
    dates = [d for d in (fitted, last_review_at) if d is not None]
    return max(dates) if dates else None


def review_due(
    fitted_at: datetime | None, last_review_at: date | None, pack: EmPack
) -> date | None:
    """The scheduled review date, or None when neither date is known."""
    base = review_base(fitted_at, last_review_at)
    return add_months(base, pack.review_months) if base else None


def review_overdue(due: date | None, as_of: datetime) -> bool:
    """A review is overdue from the UK day after its due date."""
    return due is not None and clock.to_local(as_of).date() > due


@overload
def representation_window_end(decided_at: datetime, pack: EmPack) -> datetime: ...
@overload
def representation_window_end(decided_at: None, pack: EmPack) -> None: ...
@overload
def representation_window_end(decided_at: datetime | None, pack: EmPack) -> datetime | None: ...
def representation_window_end(decided_at: datetime | None, pack: EmPack) -> datetime | None:
    """The person may make representations for 3 days after the EM decision."""
    if decided_at is None:
        return None
    return decided_at + timedelta(days=pack.representation_window_days)


def deadline_state(due_at: datetime | None, as_of: datetime, pack: EmPack) -> str:
    """'overdue', 'due_soon', 'later' or 'none' (no deadline)."""
    if due_at is None:
        return "none"
    if is_overdue(due_at, as_of):
        return "overdue"
    if is_due_soon(due_at, as_of, pack):
        return "due_soon"
    return "later"
