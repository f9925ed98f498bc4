"""Dates and times: parsing the extract conventions and the one clock.

Extracts give ISO 8601 values; a value without an offset is UK local time
(Europe/London). The database stores naive UTC datetimes so that arithmetic
(72 hours, 7 days out of contact) is exact across clock changes.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def now() -> datetime:
    """Current time as naive UTC. ``TRIAGE_NOW`` pins it (tests, demos)."""
    pinned = os.environ.get("TRIAGE_NOW")
    if pinned:
        return parse_datetime(pinned)
    return datetime.now(UTC).replace(tzinfo=None)


def parse_datetime(text: str) -> datetime:
    """ISO date or datetime -> naive UTC. Raises ValueError with the bad text."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"not an ISO 8601 date or datetime (YYYY-MM-DD or YYYY-MM-DDTHH:MM): {text!r}"
        ) from None
    if parsed.tzinfo is None:
        return parsed - _london_offset(parsed.year, parsed.month, parsed.day, parsed.hour)
    return parsed.astimezone(UTC).replace(tzinfo=None)


@lru_cache(maxsize=1 << 16)
def _london_offset(year: int, month: int, day: int, hour: int) -> timedelta:
    # UK clocks change on the hour, so the offset is constant within an hour:
    # caching it per hour makes bulk imports fast without changing a result.
    return LONDON.utcoffset(datetime(year, month, day, hour))  # type: ignore[return-value]


def parse_date(text: str) -> date:
    """ISO date (a datetime is accepted and its local date taken)."""
    value = text.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return to_local(parse_datetime(value)).date()
    except ValueError:
        raise ValueError(f"not an ISO 8601 date (YYYY-MM-DD): {text!r}") from None


def sql_timestamp(moment: datetime) -> str:
    """A naive-UTC datetime in the text form SQLAlchemy stores, so text order is
    time order in SQL comparisons."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def to_local(moment: datetime) -> datetime:
    """Naive UTC -> aware UK local time, for display."""
    return moment.replace(tzinfo=UTC).astimezone(LONDON)


def start_of_local_day(day: date) -> datetime:
    """Midnight UK time at the start of ``day``, as naive UTC."""
    return datetime.combine(day, time()).replace(tzinfo=LONDON).astimezone(UTC).replace(tzinfo=None)
