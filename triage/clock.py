"""Dates and times: parsing the extract conventions and the one clock.

Extracts give ISO 8601 values or UK ``dd/mm/yyyy`` dates; a value without
an offset is UK local time (Europe/London). The database stores naive UTC
datetimes so that arithmetic (72 hours, 7 days out of contact) is exact
across clock changes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def now() -> datetime:
    """Current time as naive UTC. ``TRIAGE_NOW`` pins it (tests, demos)."""
    pinned = os.environ.get("TRIAGE_NOW")
    if pinned:
        return parse_datetime(pinned)
    return datetime.now(UTC).replace(tzinfo=None)


# UK day-first dates as people type them: 14/03/2026, 14/03/2026 09:30(:15).
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_datetime(text: str) -> datetime:
    """ISO 8601 or UK ``dd/mm/yyyy[ hh:mm[:ss]]`` -> naive UTC.

    A time without an offset is UK local time. One that does not exist (the
    hour skipped when clocks go forward) or that happens twice (the hour
    repeated when they go back) raises ValueError rather than being shifted
    or guessed. Messages never repeat the text (it may be personal data)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = _uk_datetime(value)
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "not a date or time (YYYY-MM-DD, YYYY-MM-DDTHH:MM, dd/mm/yyyy or dd/mm/yyyy hh:mm)"
            ) from None
    if parsed.tzinfo is None:
        return parsed - _london_offset(parsed.year, parsed.month, parsed.day, parsed.hour)
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _uk_datetime(value: str) -> datetime | None:
    """A UK day-first date(-time), None if ``value`` is not written that way."""
    match = _UK_DATE.match(value)
    if match is None:
        return None
    day, month, year = int(match[1]), int(match[2]), int(match[3])
    if day != month and day <= 12 and month <= 12:
        # 05/06/2026 is 5 June in the UK and 6 May in the US: refuse, never guess.
        raise ValueError(
            "a date that could be read two ways (day/month or month/day); "
            "write it as YYYY-MM-DD or with a day after the 12th"
        )
    hour, minute, second = (int(part) if part else 0 for part in match.group(4, 5, 6))
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise ValueError("not a real date or time (dd/mm/yyyy hh:mm)") from None


@lru_cache(maxsize=1 << 16)
def _london_offset(year: int, month: int, day: int, hour: int) -> timedelta:
    # UK clocks change on the hour, so the offset (or the problem) is the same
    # all through an hour: caching it per hour keeps bulk imports fast.
    moment = datetime(year, month, day, hour, tzinfo=LONDON)
    offset = moment.utcoffset()
    assert offset is not None  # Europe/London always has one
    if offset != moment.replace(fold=1).utcoffset():
        if moment.astimezone(UTC).astimezone(LONDON).hour != hour:
            raise ValueError(
                "a local time that does not exist (the hour skipped when UK clocks "
                "go forward); check the time or give its offset"
            )
        raise ValueError(
            "a local time that happens twice (the hour repeated when UK clocks go "
            "back); give its offset, +01:00 or +00:00"
        )
    return offset


def parse_date(text: str) -> date:
    """ISO or UK ``dd/mm/yyyy`` date (a datetime is accepted and its local
    date taken)."""
    value = text.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    parsed = _uk_datetime(value)
    if parsed is not None and len(value) <= 10:
        return parsed.date()
    try:
        return to_local(parse_datetime(value)).date()
    except ValueError as error:
        if "could be read two ways" in str(error) or "local time" in str(error):
            raise
        raise ValueError("not a date (YYYY-MM-DD or dd/mm/yyyy)") from None


def sql_timestamp(moment: datetime) -> str:
    """A naive-UTC datetime in the text form SQLAlchemy stores, so text order is
    time order in SQL comparisons."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def to_local(moment: datetime) -> datetime:
    """Naive UTC -> aware UK local time: the time that decides a day (a local
    date, a deadline's day, "today"), whatever zone times are shown in."""
    return moment.replace(tzinfo=UTC).astimezone(LONDON)


# The zone times are shown in: UK time unless a front end sets the user's
# display time zone (a setting: the front ends read settings, the core doesn't).
_display_zone = LONDON


def use_display_zone(name: str) -> None:
    """Show times in the IANA zone ``name`` from now on (ZoneInfoNotFoundError
    for an unknown name)."""
    global _display_zone
    _display_zone = ZoneInfo(name)


def to_display(moment: datetime) -> datetime:
    """Naive UTC -> aware time in the display time zone, for showing it
    (screens, CLI tables, exports)."""
    return moment.replace(tzinfo=UTC).astimezone(_display_zone)


def display_zone_label() -> str:
    """How headers name the display time zone: "UK time", or the zone's name."""
    return "UK time" if _display_zone.key == LONDON.key else _display_zone.key


def local_text(moment: datetime) -> str:
    """Naive UTC -> UK local time as text with its zone ('2026-03-29 02:30 BST'),
    for texts the core writes (summaries, reasons)."""
    return to_local(moment).strftime("%Y-%m-%d %H:%M %Z")


def start_of_local_day(day: date) -> datetime:
    """Midnight UK time at the start of ``day``, as naive UTC."""
    return datetime.combine(day, time()).replace(tzinfo=LONDON).astimezone(UTC).replace(tzinfo=None)


_MONTH_DAYS: Any = None  # numpy is imported when first needed


def parse_datetimes(
    texts: Sequence[str],
    stored: list[str | None] | None = None,
    uk_days: list[int | None] | None = None,
) -> tuple[list[datetime | None], dict[int, str]]:
    """``parse_datetime`` over a column: the values (None for an empty cell)
    and the problem of each cell that fails (position -> message).

    ``stored``, if given, is filled with each value as the database stores
    it (``isoformat(" ", "microseconds")``, None where the value is None),
    made from numpy's array for the plain cells: a third of the cost.
    ``uk_days``, if given, is filled with each value's UK calendar day as
    days since 1970-01-01 (a plain cell's own date: it is UK local time).

    Cells in a plain ISO shape without an offset (``2026-03-14``,
    ``2026-03-14T09:30``, ``2026-03-14 09:30:15``) are converted together with
    numpy, the UK offset looked up once per distinct local hour (so a time
    that does not exist or happens twice fails exactly as it does one by
    one); any other cell goes through ``parse_datetime`` itself."""
    import numpy as np

    global _MONTH_DAYS
    if _MONTH_DAYS is None:
        _MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    count = len(texts)
    values: list[datetime | None] = [None] * count
    problems: dict[int, str] = {}
    lengths = np.fromiter(map(len, texts), np.int64, count)
    shaped = (lengths == 10) | (lengths == 16) | (lengths == 19)
    rest: list[int] = np.flatnonzero(~shaped & (lengths > 0)).tolist()
    positions = np.flatnonzero(shaped)
    if len(positions):
        picked = texts if len(positions) == count else [texts[k] for k in positions.tolist()]
        # Shorter cells are padded with NULs, which fail the checks of the
        # characters they do not have.
        chars = np.array(picked, dtype="<U19").view(np.uint32).reshape(len(positions), 19)
        length = lengths[positions]
        timed, with_seconds = length > 10, length > 16
        digits = chars.astype(np.int64) - 48
        is_digit = (digits >= 0) & (digits <= 9)
        plain = is_digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1)
        plain &= (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-"))
        plain &= ~timed | (
            ((chars[:, 10] == ord("T")) | (chars[:, 10] == ord(" ")))
            & is_digit[:, [11, 12, 14, 15]].all(axis=1)
            & (chars[:, 13] == ord(":"))
        )
        plain &= ~with_seconds | (is_digit[:, [17, 18]].all(axis=1) & (chars[:, 16] == ord(":")))
        digits = np.where(is_digit, digits, 0)

        def number(start: int, width: int) -> Any:
            value = digits[:, start]
            for i in range(start + 1, start + width):
                value = value * 10 + digits[:, i]
            return value

        year, month, day = number(0, 4), number(5, 2), number(8, 2)
        hour, minute, second = number(11, 2), number(14, 2), number(17, 2)
        plain &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
        plain &= (hour <= 23) & (minute <= 59) & (second <= 59)
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        month_days = _MONTH_DAYS[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
        plain &= day <= month_days
        local_days = _days_from_civil(year, month, day)
        local = local_days * 86400 + (hour * 3600 + minute * 60 + second)
        hours, where = np.unique(np.where(plain, local // 3600, 0), return_inverse=True)
        offsets, refused = _hour_offsets(hours)
        seconds = local - offsets[where]
        instants = seconds.astype("datetime64[s]").astype("datetime64[us]")
        if len(positions) == count and not refused and plain.all():
            values = instants.tolist()  # the usual column: every cell plain
            if stored is not None:
                stored[:] = _stored_text_array(seconds).tolist()
            if uk_days is not None:
                uk_days[:] = local_days.tolist()
        else:
            # Cells left out (empty or not plain) or refused: the good ones
            # put in place over the whole column at once (one by one, a
            # column with some empty cells took twice as long as a full one).
            refused_at = np.isin(where, list(refused)) & plain
            for k, at in zip(
                positions[refused_at].tolist(), where[refused_at].tolist(), strict=True
            ):
                problems[k] = refused[at]
            rest += positions[~plain].tolist()
            good = plain & ~refused_at
            at_good = positions[good]
            if len(at_good) < FEW_TIMES:  # a column mostly empty: a few to place
                _place(values, at_good, instants[good].tolist())
                if stored is not None:
                    stored[:] = [None] * count
                    _place(stored, at_good, _stored_text_array(seconds[good]).tolist())
                if uk_days is not None:
                    uk_days[:] = [None] * count
                    _place(uk_days, at_good, local_days[good].tolist())
            else:
                in_place = np.full(count, None, dtype=object)
                in_place[at_good] = instants[good]
                values = in_place.tolist()
                if stored is not None:
                    in_place[:] = None
                    in_place[at_good] = _stored_text_array(seconds[good])
                    stored[:] = in_place.tolist()
                if uk_days is not None:
                    in_place[:] = None
                    in_place[at_good] = local_days[good]
                    uk_days[:] = in_place.tolist()
    else:
        if stored is not None:
            stored[:] = [None] * count
        if uk_days is not None:
            uk_days[:] = [None] * count
    for k in rest:
        if not texts[k].strip():
            continue  # empty, as a cell of spaces is
        try:
            values[k] = moment = parse_datetime(texts[k])
        except ValueError as error:
            problems[k] = str(error)
        else:
            if stored is not None:
                stored[k] = moment.isoformat(" ", "microseconds")
            if uk_days is not None:
                uk_days[k] = to_local(moment).toordinal() - _EPOCH.toordinal()
    return values, problems


# Fewer good times than this in a column are put in place one by one (the
# whole-column way costs a few arrays of the column's length).
FEW_TIMES = 256


def _place(column: list[Any], positions: Any, values: list[Any]) -> None:
    for k, value in zip(positions.tolist(), values, strict=True):
        column[k] = value


_EPOCH = datetime(1970, 1, 1)
# Per calendar year: the UK offset in seconds of each local hour of the year,
# and the local hours that have none (skipped or repeated), with the problem.
# The most recently used YEAR_TABLES_KEPT years are kept.
_YEAR_OFFSETS: dict[int, tuple[Any, Any, list[str]]] = {}
# A year's table costs about 2 ms and 70 KB: it is made for a year with at
# least YEAR_TABLE_HOURS distinct hours in a column; a year with fewer (times
# spread one or two a year over centuries) takes a call per hour instead.
YEAR_TABLE_HOURS = 100
YEAR_TABLES_KEPT = 128  # 9 MB: a file's times span a few decades


def _hour_offsets(hours: Any) -> tuple[Any, dict[int, str]]:
    """The UK offset (seconds) of each local hour in ``hours`` (a numpy array
    of distinct hours since 1970-01-01, local time), and the problem of each position
    whose hour has none: ``_london_offset`` over the array, by table look-up
    (a column of times spread over years has thousands of distinct hours a
    chunk, each a Python call before)."""
    import numpy as np

    offsets = np.zeros(len(hours), dtype=np.int64)
    refused: dict[int, str] = {}
    years = hours.astype("datetime64[h]").astype("datetime64[Y]").astype(np.int64) + 1970
    for year in np.unique(years).tolist():
        at = np.flatnonzero(years == year)
        if year not in _YEAR_OFFSETS and len(at) < YEAR_TABLE_HOURS:  # hours are distinct
            for k in at.tolist():
                moment = _EPOCH + timedelta(hours=int(hours[k]))
                try:
                    offset = _london_offset(moment.year, moment.month, moment.day, moment.hour)
                except ValueError as error:
                    refused[k] = str(error)
                    continue
                offsets[k] = offset // timedelta(seconds=1)
            continue
        table, bad_hours, problems = _year_offsets(year)
        within = hours[at] - (datetime(year, 1, 1) - _EPOCH) // timedelta(hours=1)
        offsets[at] = table[within]
        for k in np.flatnonzero(np.isin(within, bad_hours)).tolist():
            refused[int(at[k])] = problems[int(np.searchsorted(bad_hours, within[k]))]
    return offsets, refused


def _year_offsets(year: int) -> tuple[Any, Any, list[str]]:
    """``year``'s hour table for ``_hour_offsets``: each day's offset at noon,
    and hour by hour (``_london_offset``) the days next to a change of it and
    the year's first and last day. UK clocks change at most once in a day and
    a half, so every other day has its noon's offset all day."""
    import numpy as np

    found = _YEAR_OFFSETS.pop(year, None)
    if found is not None:
        _YEAR_OFFSETS[year] = found  # the most recently used last
        return found
    while len(_YEAR_OFFSETS) >= YEAR_TABLES_KEPT:
        del _YEAR_OFFSETS[next(iter(_YEAR_OFFSETS))]  # the least recently used
    first = date(year, 1, 1)
    days = (date(year, 12, 31) - first).days + 1
    noon = [
        _seconds(datetime.combine(first + timedelta(days=d), time(12), LONDON)) for d in range(days)
    ]
    table = np.repeat(np.array(noon, dtype=np.int64), 24)
    hourly = {0, days - 1}
    for d in range(1, days):
        if noon[d] != noon[d - 1]:
            hourly |= {d - 1, d}
    bad: list[int] = []
    problems: list[str] = []
    for d in sorted(hourly):
        moment = first + timedelta(days=d)
        for hour in range(24):
            try:
                offset = _london_offset(year, moment.month, moment.day, hour)
            except ValueError as error:
                bad.append(d * 24 + hour)
                problems.append(str(error))
                continue
            table[d * 24 + hour] = offset // timedelta(seconds=1)
    found = _YEAR_OFFSETS[year] = (table, np.array(bad, dtype=np.int64), problems)
    return found


def _seconds(moment: datetime) -> int:
    offset = moment.utcoffset()
    assert offset is not None  # Europe/London always has one
    return offset // timedelta(seconds=1)


def _stored_text_array(seconds: Any) -> Any:
    """Instants (a numpy array of seconds since 1970-01-01, UTC, in years 1
    to 9999) as the database stores them, ``YYYY-MM-DD HH:MM:SS.000000``
    (a numpy array of texts).

    Each digit is computed for the whole array and written into an array of
    characters: numpy's ``datetime_as_string`` took 0.27 s of CPU for a
    column of 860,000 times, about 40% of parsing it (docs/benchmarks.md)."""
    import numpy as np

    days, second_of_day = np.divmod(seconds, 86400)
    year, month, day = _civil_from_days(days)
    chars = np.empty((len(seconds), 26), dtype=np.uint32)
    chars[:, 4] = chars[:, 7] = ord("-")
    chars[:, 10] = ord(" ")
    chars[:, 13] = chars[:, 16] = ord(":")
    chars[:, 19] = ord(".")
    chars[:, 20:] = ord("0")  # whole seconds: a plain cell has no fraction
    global _TWO_DIGITS
    if _TWO_DIGITS is None:  # "00" to "99" as pairs of character codes
        _TWO_DIGITS = np.array([[ord(a), ord(b)] for a in "0123456789" for b in "0123456789"])
    minute_of_day = second_of_day // 60
    for at, value in (
        (0, year // 100),
        (2, year % 100),
        (5, month),
        (8, day),
        (11, minute_of_day // 60),
        (14, minute_of_day % 60),
        (17, second_of_day % 60),
    ):
        chars[:, at : at + 2] = _TWO_DIGITS[value]
    return chars.view("<U26").ravel()


_TWO_DIGITS: Any = None


def _civil_from_days(days: Any) -> tuple[Any, Any, Any]:
    """(year, month, day) of days since 1970-01-01, on numpy arrays: the
    inverse of ``_days_from_civil`` (H. Hinnant's algorithm)."""
    days = days + 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153  # March is 0
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 - 12 * (shifted_month >= 10)
    return year_of_era + era * 400 + (month <= 2), month, day


def _days_from_civil(year: Any, month: Any, day: Any) -> Any:
    """Days since 1970-01-01 of (proleptic Gregorian) dates, on numpy arrays
    (H. Hinnant's algorithm: integer arithmetic only)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (month > 2) * -3 + (month <= 2) * 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468
