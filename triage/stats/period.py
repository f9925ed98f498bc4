"""The reporting period, and how its UK calendar dates map to stored instants.

Statistics are asked for in UK dates (``--from``, ``--to``, ``--as-of``) but
the database stores naive UTC (``triage.clock``). An item received at 23:30
UTC on 31 July was received on 1 August in London, so grouping by month or
counting days must use the local date. SQLite has no time zones, so
``local_date_sql`` writes the Europe/London offsets of the years concerned
into the SQL as a CASE expression: set-based, and exact at every clock change
(PostgreSQL converts with its own time-zone data: ``dialect.local_date_text``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection

from triage import clock
from triage.store import dialect


@dataclass(frozen=True)
class Period:
    """Items received from ``start`` to ``end`` (UK dates, inclusive), as known on ``as_of``.

    ``start`` None means from the first record. Decisions taken and results
    recorded after ``as_of`` are ignored, so a past period can be reported
    exactly as it stood on a given day.
    """

    start: date | None
    end: date
    as_of: date

    @classmethod
    def resolve(
        cls, start: date | None = None, end: date | None = None, as_of: date | None = None
    ) -> Period:
        """Fill the defaults (as of today; to = as of) and check the order."""
        as_of = as_of or clock.to_local(clock.now()).date()
        end = min(end, as_of) if end else as_of
        if start and start > end:
            raise ValueError(f"the period starts ({start}) after it ends ({end})")
        return cls(start, end, as_of)

    def utc_bounds(self) -> tuple[datetime | None, datetime]:
        """[first instant, instant after the last day) in naive UTC."""
        first = clock.start_of_local_day(self.start) if self.start else None
        return first, clock.start_of_local_day(self.end + timedelta(days=1))

    @property
    def as_of_end(self) -> datetime:
        """The first instant after the as-of day, naive UTC."""
        return clock.start_of_local_day(self.as_of + timedelta(days=1))

    @property
    def label(self) -> str:
        start = self.start.isoformat() if self.start else "from the first record"
        return f"received {start} to {self.end.isoformat()}, as of {self.as_of.isoformat()}"


def offset_intervals(first: datetime, last: datetime) -> list[tuple[datetime, datetime, int]]:
    """UTC intervals [from, to) in which London is ahead of UTC, with the minutes ahead."""
    intervals: list[tuple[datetime, datetime, int]] = []
    for year in range(first.year - 1, last.year + 2):
        moment = datetime(year, 1, 1)
        end_of_year = datetime(year + 1, 1, 1)
        current = _offset_minutes(moment)
        opened = moment if current else None
        # Daily steps find the change days; hourly steps find the instant.
        day = moment
        while day < end_of_year:
            nxt = day + timedelta(days=1)
            if _offset_minutes(nxt) != current:
                hour = day
                while _offset_minutes(hour) == current:
                    hour += timedelta(hours=1)
                if current:
                    intervals.append((opened, hour, current))  # type: ignore[arg-type]
                current = _offset_minutes(hour)
                opened = hour if current else None
            day = nxt
        if current and opened is not None:
            intervals.append((opened, end_of_year, current))
    return _merge(intervals)


def _offset_minutes(utc_moment: datetime) -> int:
    offset = utc_moment.replace(tzinfo=UTC).astimezone(clock.LONDON).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def _merge(intervals: list[tuple[datetime, datetime, int]]) -> list[tuple[datetime, datetime, int]]:
    merged: list[tuple[datetime, datetime, int]] = []
    for start, end, minutes in intervals:
        if merged and merged[-1][1] == start and merged[-1][2] == minutes:
            merged[-1] = (merged[-1][0], end, minutes)
        else:
            merged.append((start, end, minutes))
    return merged


def column_span(
    connection: Connection, table: str, column: str
) -> tuple[datetime | None, datetime | None]:
    """The first and last value of a naive-UTC column: the bounds ``local_date_sql`` takes."""
    # SQLite gives stored text, PostgreSQL a datetime.
    span: tuple[str | datetime | None, str | datetime | None] = connection.exec_driver_sql(
        f"SELECT min({column}), max({column}) FROM {table}"
    ).one()
    low, high = (
        datetime.fromisoformat(value) if isinstance(value, str) else value for value in span
    )
    return low, high


def local_date_sql(
    connection: Connection, column: str, first: datetime | None, last: datetime | None
) -> str:
    """SQL for the UK date (text 'YYYY-MM-DD') of a naive-UTC column.

    ``first``/``last`` bound the values the column can hold (e.g. its min and
    max); only those years' clock changes are written into SQLite's expression.
    """
    if dialect.is_postgres(connection) or first is None or last is None:
        return dialect.local_date_text(connection, column, [])
    offsets = [
        (clock.sql_timestamp(start), clock.sql_timestamp(end), minutes)
        for start, end, minutes in offset_intervals(first, last)
    ]
    return dialect.local_date_text(connection, column, offsets)
