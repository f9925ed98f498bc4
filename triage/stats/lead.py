"""Lead indicators: what is waiting, how old it is and what falls due soon.

Performance packs were almost all lag measures (NAO Figure 15: 738 of 744);
this table is the lead side, one row per workstream: the backlog on the
as-of day, how much of it is overdue, how much falls due soon, and the age
of the oldest item. It is the top of the one-page PDF and the dashboard.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from triage import clock
from triage.em.pack import default_pack
from triage.stats.em import LEGAL_ROWS, _in_region, review_backlog
from triage.stats.period import Period
from triage.stats.table import Chart, Column, StatTable
from triage.stats.tasking import STATUS_FILTERS, Tally, TaskingStats, counted
from triage.store.db import Database


def reference_instant(period: Period) -> datetime:
    """The instant "now" stands for: the end of the as-of day, or now if earlier."""
    return min(clock.now(), period.as_of_end)


def _days(since: datetime | date | None, as_of: date) -> int | None:
    if since is None:
        return None
    day = clock.to_local(since).date() if isinstance(since, datetime) else since
    return (as_of - day).days


def _instant(value: str | datetime) -> datetime:
    """A timestamp column's value: stored text on SQLite, a datetime on PostgreSQL."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def lead_indicators(db: Database, stats: TaskingStats) -> StatTable:
    period = stats.period
    pack = default_pack()
    moment = reference_instant(period)
    soon = moment + timedelta(hours=pack.due_soon_hours)
    total = Tally.of(stats.cube)
    rows: list[dict[str, Any]] = [
        {
            "workstream": "Intelligence not discussed",
            "backlog": total.not_discussed,
            "overdue": None,
            "due_soon": None,
            "oldest_days": total.pool_oldest,
        },
        {
            "workstream": "Accepted, awaiting a result",
            "backlog": total.awaiting_result,
            "overdue": None,
            "due_soon": None,
            "oldest_days": _days(total.awaiting_since, period.as_of),
        },
    ]
    # Only the two intelligence rows open a queue (StatTable.filters_for: None for the rest).
    filters: list[dict[str, Any] | None] = [
        {**({"region": stats.region} if stats.region else {}), **STATUS_FILTERS["not_discussed"]},
        {**({"region": stats.region} if stats.region else {}), **STATUS_FILTERS["accepted"]},
    ]
    region = stats.region
    reviews = review_backlog(db, period.as_of, pack, region)
    rows.append(
        {
            "workstream": "EM reviews",
            "backlog": reviews["overdue"] + reviews["due_soon"],
            "overdue": reviews["overdue"],
            "due_soon": reviews["due_soon"],
            "oldest_days": _days(reviews["oldest_due"], period.as_of),
        }
    )
    params = {
        "now": clock.sql_timestamp(moment),
        "soon": clock.sql_timestamp(soon),
        **({"region": region} if region else {}),
    }
    with db.engine.connect() as connection:
        for kind, label in LEGAL_ROWS:
            waiting: tuple[int, int | None, int | None, str | datetime | None] = connection.execute(
                text(
                    f"SELECT count(*), {counted('due_at < :now')},"
                    f" {counted('due_at >= :now AND due_at <= :soon')},"
                    " min(started_at) FROM em_event WHERE event_type = :kind"
                    " AND started_at < :now AND (responded_at IS NULL OR responded_at >= :now)"
                    + _in_region("case_id", region)
                ),
                {**params, "kind": kind},
            ).one()
            backlog, overdue, due_soon, oldest = waiting
            rows.append(
                {
                    "workstream": f"{label} awaiting a reply",
                    "backlog": backlog,
                    "overdue": int(overdue or 0),
                    "due_soon": int(due_soon or 0),
                    "oldest_days": _days(_instant(oldest), period.as_of) if oldest else None,
                }
            )
        # The IJ deadline is granted + so many hours: compared as granted
        # against now and soon less those hours (no date arithmetic in SQL).
        hours = timedelta(hours=pack.ij_release_hours)
        awaiting_fit: tuple[int, str | datetime | None, int | None, int | None] = (
            connection.execute(
                text(
                    "SELECT count(*), min(bail_granted_at), "
                    + counted("bail_type = 'ij' AND bail_granted_at < :now_less")
                    + ", "
                    + counted(
                        "bail_type = 'ij' AND bail_granted_at >= :now_less "
                        "AND bail_granted_at <= :soon_less"
                    )
                    + " FROM em_case WHERE em_status = 'awaiting_fit'"
                    + (" AND region = :region" if region else "")
                ),
                {
                    **params,
                    "now_less": clock.sql_timestamp(moment - hours),
                    "soon_less": clock.sql_timestamp(soon - hours),
                },
            ).one()
        )
        awaiting, oldest_bail, overdue, due_soon = awaiting_fit
    rows.append(
        {
            "workstream": "Awaiting a device (IJ 72-hour deadline)",
            "backlog": awaiting,
            "overdue": int(overdue or 0),
            "due_soon": int(due_soon or 0),
            "oldest_days": _days(_instant(oldest_bail), period.as_of) if oldest_bail else None,
        }
    )
    return StatTable(
        "lead_indicators",
        "Lead indicators: backlog, overdue, due soon and the oldest item",
        [
            Column("workstream", "Workstream", "text"),
            Column("backlog", "Waiting"),
            Column("overdue", "Overdue"),
            Column("due_soon", f"Due within {pack.due_soon_hours:g} h"),
            Column("oldest_days", "Oldest (days)", "number"),
        ],
        rows,
        "On the as-of day. Intelligence: items of the period not yet accepted or rejected; "
        "accepted items without a result. EM reviews: active cases whose 3-monthly review is "
        f"overdue or due within {pack.review_horizon_days:g} days. Legal: representations, PAP "
        "letters and JRs received and not answered, against their reply date (due_at). Awaiting "
        "a device: cases awaiting fitting; for immigration-judge bail the release deadline is "
        "the grant + 72 hours. Oldest = days since received / decided / due / bail granted.",
        Chart("workstream", ("overdue", "due_soon"), "Overdue and due soon"),
        filters,
    )
