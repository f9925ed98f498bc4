"""Deadline arithmetic at its boundaries (issue 6 §5, domain.md §5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from triage.em import deadlines
from triage.em.pack import default_pack

PACK = default_pack()


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (date(2026, 11, 30), date(2027, 2, 28)),  # the documented example
        (date(2027, 11, 30), date(2028, 2, 29)),  # leap year
        (date(2026, 8, 31), date(2026, 11, 30)),
        (date(2026, 10, 31), date(2027, 1, 31)),
        (date(2026, 1, 15), date(2026, 4, 15)),
        (date(2026, 12, 1), date(2027, 3, 1)),
    ],
)
def test_review_due_three_calendar_months_clamped(start, due):
    assert deadlines.review_due(None, start, PACK) == due


def test_review_uses_later_of_fitting_and_last_review():
    fitted = datetime(2026, 9, 10, 12, 0)
    assert deadlines.review_due(fitted, date(2026, 8, 1), PACK) == date(2026, 12, 10)
    assert deadlines.review_due(fitted, date(2026, 10, 5), PACK) == date(2027, 1, 5)
    assert deadlines.review_due(None, None, PACK) is None


def test_fitting_date_is_the_uk_date():
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (BST).
    assert deadlines.review_due(datetime(2026, 5, 31, 23, 30), None, PACK) == date(2026, 9, 1)


def test_review_overdue_from_the_day_after():
    due = date(2027, 2, 28)
    assert not deadlines.review_overdue(due, datetime(2027, 2, 28, 23, 59))
    assert deadlines.review_overdue(due, datetime(2027, 3, 1, 0, 0))


def test_ij_release_deadline_overdue_strictly_after_72_hours():
    granted = datetime(2026, 11, 17, 10, 0)
    due = deadlines.release_deadline("ij", granted, PACK)
    assert due == granted + timedelta(hours=72)
    assert not deadlines.is_overdue(due, due)
    assert deadlines.is_overdue(due, due + timedelta(seconds=1))
    assert deadlines.deadline_state(due, due, PACK) == "due_soon"
    assert deadlines.deadline_state(due, due + timedelta(microseconds=1), PACK) == "overdue"


def test_sos_bail_has_no_deadline():
    assert deadlines.release_deadline("sos", datetime(2026, 11, 1), PACK) is None
    assert deadlines.deadline_state(None, datetime(2026, 11, 20), PACK) == "none"


def test_representation_window_three_days_after_decision():
    decided = datetime(2026, 11, 20, 9, 0)
    assert deadlines.representation_window_end(decided, PACK) == datetime(2026, 11, 23, 9, 0)


def test_due_soon_boundary():
    as_of = datetime(2026, 11, 20, 9, 0)
    assert deadlines.deadline_state(as_of + timedelta(hours=48), as_of, PACK) == "due_soon"
    assert deadlines.deadline_state(as_of + timedelta(hours=48, seconds=1), as_of, PACK) == "later"
