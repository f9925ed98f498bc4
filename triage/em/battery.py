"""Accumulated battery breaches: many short battery periods, one report.

Battery out-of-contact periods of one case are summed over a rolling window
(7 days); when the sum reaches the threshold (12 hours) one consolidated
breach report is raised and the periods it used are consumed, so they can
never count towards a second report [004 ¶5.16; shared/domain.md §5]. The raw
events stay stored and counted; this is a view over them.

A period belongs to the window ending at the close of the current period
when any of it lies within the window before that instant, and then counts
by its whole extent (11 hours, then 3 hours six days after it ended, is one
report), not by when it started. Periods without an end (still flat) are not
evaluated until they end. The supplier can send one notification twice: a
second battery event of the same case with the same start is a duplicate,
kept stored but counted once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.em.pack import EmPack
from triage.store.models import EmEvent

WINDOW = timedelta(days=7)
THRESHOLD = timedelta(hours=12)


@dataclass(frozen=True)
class BatteryReport:
    """One consolidated report: the periods it consumed, by input index."""

    raised_at: datetime
    first_start: datetime
    periods: tuple[int, ...]
    total: timedelta

    @property
    def hours(self) -> float:
        return self.total.total_seconds() / 3600


def consolidate_battery(
    periods: Sequence[tuple[datetime, datetime | None]],
    *,
    window: timedelta = WINDOW,
    threshold: timedelta = THRESHOLD,
) -> list[BatteryReport]:
    """Consolidated reports for the battery periods ``(start, end)`` of one case."""
    # Ended periods only (an open one has no length yet), by index in ``periods``.
    ended = {
        i: (start, end)
        for i, (start, end) in enumerate(periods)
        if end is not None and end >= start
    }
    order = sorted(ended, key=lambda i: (ended[i][0], i))
    reports: list[BatteryReport] = []
    pending: list[int] = []  # unconsumed periods, in start order
    for index in order:
        start, end = ended[index]
        pending.append(index)
        # A period counts, whole, while any of it lies inside the window ending now.
        pending = [i for i in pending if ended[i][1] >= end - window]
        total = sum((ended[i][1] - ended[i][0] for i in pending), timedelta())
        if total >= threshold:
            reports.append(
                BatteryReport(
                    raised_at=end,
                    first_start=min(ended[i][0] for i in pending),
                    periods=tuple(pending),
                    total=total,
                )
            )
            pending = []
    return reports


@dataclass(frozen=True)
class CaseBattery:
    """Raw battery events of one case and their consolidated reports.

    ``event_ids`` and ``periods`` are the distinct notifications; ``duplicates``
    the event ids repeating one of them (same start), counted once.
    """

    case_id: str
    event_ids: tuple[str, ...]
    periods: tuple[tuple[datetime, datetime | None], ...]
    reports: tuple[BatteryReport, ...]
    duplicates: tuple[str, ...] = ()

    @property
    def consumed(self) -> set[int]:
        return {i for report in self.reports for i in report.periods}

    def report_json(self) -> list[dict[str, Any]]:
        return [
            {
                "raised_at": r.raised_at.isoformat(),
                "first_start": r.first_start.isoformat(),
                "hours": round(r.hours, 2),
                "event_ids": [self.event_ids[i] for i in r.periods],
            }
            for r in self.reports
        ]


def battery_by_case(
    session: Session,
    case_ids: Iterable[str] | None = None,
    *,
    window: timedelta = WINDOW,
    threshold: timedelta = THRESHOLD,
) -> dict[str, CaseBattery]:
    """Every case's battery view, from one query over the events table."""
    query = select(EmEvent.case_id, EmEvent.event_id, EmEvent.started_at, EmEvent.ended_at).where(
        EmEvent.event_type == "battery"
    )
    if case_ids is not None:
        query = query.where(EmEvent.case_id.in_(list(case_ids)))
    grouped: dict[str, list[tuple[str, datetime, datetime | None]]] = defaultdict(list)
    for case_id, event_id, start, end in session.execute(
        query.order_by(EmEvent.case_id, EmEvent.started_at, EmEvent.event_id)
    ):
        grouped[case_id].append((event_id, start, end))
    result = {}
    for case_id, rows in grouped.items():
        distinct: dict[datetime, tuple[str, datetime, datetime | None]] = {}
        duplicates: list[str] = []
        for event_id, start, end in rows:
            if start in distinct:
                duplicates.append(event_id)
            else:
                distinct[start] = (event_id, start, end)
        periods = tuple((start, end) for _, start, end in distinct.values())
        result[case_id] = CaseBattery(
            case_id=case_id,
            event_ids=tuple(event_id for event_id, _, _ in distinct.values()),
            periods=periods,
            reports=tuple(consolidate_battery(periods, window=window, threshold=threshold)),
            duplicates=tuple(duplicates),
        )
    return result


@dataclass(frozen=True)
class BatterySaving:
    raw_events: int  # distinct notifications (duplicates counted once)
    consolidated_reports: int
    cases: int
    duplicates: int = 0

    @property
    def saved(self) -> int:
        return self.raw_events - self.consolidated_reports

    @property
    def saving_ratio(self) -> float:
        return self.saved / self.raw_events if self.raw_events else 0.0


def battery_saving(
    session: Session, *, window: timedelta = WINDOW, threshold: timedelta = THRESHOLD
) -> BatterySaving:
    """How many breach reports consolidation saves over raw battery events."""
    views = battery_by_case(session, window=window, threshold=threshold)
    return BatterySaving(
        raw_events=sum(len(v.event_ids) for v in views.values()),
        consolidated_reports=sum(len(v.reports) for v in views.values()),
        cases=len(views),
        duplicates=sum(len(v.duplicates) for v in views.values()),
    )


def battery_with_pack(
    session: Session, pack: EmPack, case_ids: Iterable[str] | None = None
) -> dict[str, CaseBattery]:
    """``battery_by_case`` with the window and threshold of an EM pack."""
    return battery_by_case(
        session,
        case_ids,
        window=timedelta(hours=pack.battery_window_hours),
        threshold=timedelta(hours=pack.battery_threshold_hours),
    )
