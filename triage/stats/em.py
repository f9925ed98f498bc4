"""EM caseload statistics: ICIBI Figures 5, 6 and 14 from the stored cases and events.

* Figure 6: breach notifications by type and UK month (the five named types,
  "Other" = every other breach type), with beside it the battery row as
  consolidated reports (``triage.em.battery``: 12 hours within a rolling 7
  days make one report; every raw event is still counted in the raw table).
* Figure 14: reviews and legal challenges completed in the period and
  outstanding on the as-of day.
* Figure 5: cases awaiting a device, by induction status (current state).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select, text

from triage import clock, vocab
from triage.em import battery, deadlines
from triage.em.pack import EmPack, default_pack
from triage.stats.period import Period, column_span, local_date_sql
from triage.stats.table import Chart, Column, StatTable, total_row
from triage.stats.tasking import counted
from triage.store.db import Database
from triage.store.models import EmCase

# Figure 6 rows: the named types, then "Other" for every other breach type.
FIG6_ROWS = (
    ("battery", "Battery breach"),
    ("absence_15min", "15-minute absence"),
    ("full_curfew_missed", "Full curfew missed"),
    ("interference_pid", "Interference PID"),
    (
        "not_available_for_installation",
        "Not available for installation (unable to locate or uncooperative)",
    ),
)
OTHER = "Other"
TOTAL = "Total monthly breaches"
# Figure 5 rows: the induction_status values (em_case.induction_status) and their labels.
INDUCTION_LABELS = {
    "attempted_unsuccessful": "Attempted and unsuccessful",
    "not_attempted_pending": "Not yet attempted - pending",
    "arranged": "Pending that have been arranged",
}
LEGAL_ROWS = (
    ("jr_lodged", "Judicial reviews"),
    ("pap_received", "Pre-application protocol letters"),
    ("representation_received", "Representations"),
)


def _month_title(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y")


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _in_region(column: str, region: str | None) -> str:
    """SQL restricting ``column`` (a case_id) to the cases of one region."""
    if not region:
        return ""
    return f" AND {column} IN (SELECT case_id FROM em_case WHERE region = :region)"


def _bounds(period: Period) -> tuple[datetime | None, datetime]:
    start, end = period.utc_bounds()
    return start, min(end, period.as_of_end)


def breach_counts(
    db: Database, period: Period, region: str | None = None
) -> dict[tuple[str, str], int]:
    """(event_type, UK month) -> breach events that started in the period."""
    start, end = _bounds(period)
    with db.engine.connect() as connection:
        month = local_date_sql(
            connection, "started_at", *column_span(connection, "em_event", "started_at")
        )
        types = ", ".join(f"'{t}'" for t in vocab.BREACH_TYPES)
        where = "started_at < :end" + (" AND started_at >= :start" if start else "")
        where += _in_region("case_id", region)
        records: Sequence[tuple[str, str, int]] = connection.execute(
            text(
                f"SELECT event_type, substr({month}, 1, 7), count(*) FROM em_event "
                f"WHERE event_type IN ({types}) AND {where} GROUP BY 1, 2"
            ),
            {
                "end": clock.sql_timestamp(end),
                **({"start": clock.sql_timestamp(start)} if start else {}),
                **({"region": region} if region else {}),
            },
        ).all()
    return {(kind, month): count for kind, month, count in records}


def consolidated_battery_counts(
    db: Database, period: Period, region: str | None = None
) -> dict[str, int]:
    """UK month -> consolidated battery reports raised in the period.

    Every battery period of every case is read (a report can use periods
    from before the period starts); reports are counted by when raised.
    """
    start, end = _bounds(period)
    with db.transaction() as session:
        cases: Iterable[str] | None = None
        if region:
            cases = session.execute(
                text("SELECT case_id FROM em_case WHERE region = :region"), {"region": region}
            ).scalars()
        views = battery.battery_by_case(session, cases)
    counts: dict[str, int] = defaultdict(int)
    for view in views.values():
        for report in view.reports:
            if report.raised_at < end and (start is None or report.raised_at >= start):
                counts[clock.to_local(report.raised_at).strftime("%Y-%m")] += 1
    return counts


def figure6(
    period: Period, raw: dict[tuple[str, str], int], consolidated: dict[str, int]
) -> StatTable:
    """Breaches by type by month, with the consolidated battery total beside it."""
    seen = sorted({m for _, m in raw} | set(consolidated))
    first = period.start.strftime("%Y-%m") if period.start else (seen[0] if seen else None)
    last = min(period.end, period.as_of).strftime("%Y-%m")
    months = _months(first, last) if first else []
    named = {kind for kind, _ in FIG6_ROWS}

    def row(label: str, kinds: set[str], battery_consolidated: bool) -> dict[str, Any]:
        cells: dict[str, Any] = {"breach_type": label}
        for m in months:
            cells[f"m{m}"] = sum(raw.get((k, m), 0) for k in kinds)
        cells["total"] = sum(cells[f"m{m}"] for m in months)
        battery_raw = sum(raw.get(("battery", m), 0) for m in months) if "battery" in kinds else 0
        battery_reports = sum(consolidated.get(m, 0) for m in months) if battery_consolidated else 0
        cells["total_consolidated"] = cells["total"] - battery_raw + battery_reports
        return cells

    rows = [row(label, {kind}, kind == "battery") for kind, label in FIG6_ROWS]
    rows.append(row(OTHER, set(vocab.BREACH_TYPES) - named, False))
    rows.append(row(TOTAL, set(vocab.BREACH_TYPES), True))
    columns = [
        Column("breach_type", "Breach type", "text"),
        *[Column(f"m{m}", _month_title(m)) for m in months],
        Column("total", "Total"),
        Column("total_consolidated", "Total, battery consolidated"),
    ]
    return StatTable(
        "figure6",
        "EM breaches by type (ICIBI Figure 6 layout)",
        columns,
        rows,
        "Breach notifications (em_event, the 17 breach types) by the UK month in which they "
        "started. 'Other' = every breach type not named above it. The last column repeats the "
        "total with battery events replaced by consolidated battery reports (battery periods of "
        "a case summed over a rolling 7 days; one report when the sum reaches 12 hours).",
        Chart(
            "breach_type",
            tuple(f"m{m}" for m in months),
            "Breaches by type and month",
            stacked=True,
            rows=len(FIG6_ROWS) + 1,
            by_row=True,
        ),
    )


def battery_by_month(raw: dict[tuple[str, str], int], consolidated: dict[str, int]) -> StatTable:
    """Raw battery events against consolidated reports, month by month."""
    months = sorted({m for k, m in raw if k == "battery"} | set(consolidated))
    rows: list[dict[str, Any]] = [
        {
            "month": m,
            "raw_events": raw.get(("battery", m), 0),
            "consolidated_reports": consolidated.get(m, 0),
        }
        for m in months
    ]
    rows.append(total_row(rows, {"month": "Total"}, ("raw_events", "consolidated_reports")))
    return StatTable(
        "battery_consolidated",
        "Battery breaches: raw events and consolidated reports",
        [
            Column("month", "Month", "text"),
            Column("raw_events", "Battery events"),
            Column("consolidated_reports", "Consolidated reports"),
        ],
        rows,
        "Raw battery events started in the month beside the consolidated reports raised in it "
        "(12 hours out of contact within a rolling 7 days per case; periods used are consumed).",
        Chart(
            "month",
            ("raw_events", "consolidated_reports"),
            "Battery: raw events vs consolidated reports",
            rows=len(rows) - 1,
        ),
    )


def review_backlog(
    db: Database, as_of: date, pack: EmPack | None = None, region: str | None = None
) -> dict[str, Any]:
    """Active cases whose 3-monthly review is overdue on ``as_of``, with the oldest due date."""
    pack = pack or default_pack()
    as_of_instant = clock.start_of_local_day(as_of)
    overdue, due_soon, oldest = 0, 0, None
    with db.engine.connect() as connection:
        cases: Sequence[tuple[str | datetime | None, str | date | None]] = connection.execute(
            text(
                "SELECT fitted_at, last_review_at FROM em_case WHERE em_status = 'active'"
                + (" AND region = :region" if region else "")
            ),
            {"region": region} if region else {},
        ).all()
    for fitted, last in cases:
        # Stored text on SQLite; a datetime and a date on PostgreSQL.
        fitted_at = datetime.fromisoformat(fitted) if isinstance(fitted, str) else fitted
        last_review = date.fromisoformat(last) if isinstance(last, str) else last
        due = deadlines.review_due(fitted_at, last_review, pack)
        if due is None:
            continue
        if deadlines.review_overdue(due, as_of_instant):
            overdue += 1
            oldest = due if oldest is None or due < oldest else oldest
        elif (due - as_of).days <= pack.review_horizon_days:
            due_soon += 1
    return {"active": len(cases), "overdue": overdue, "due_soon": due_soon, "oldest_due": oldest}


def figure14(db: Database, period: Period, region: str | None = None) -> StatTable:
    """Reviews and legal challenges: completed in the period, outstanding on the as-of day."""
    start, end = _bounds(period)
    first_day = period.start.isoformat() if period.start else "0001-01-01"
    last_day = min(period.end, period.as_of).isoformat()
    with db.engine.connect() as connection:
        reviews: dict[int, int] = dict(
            connection.execute(
                text(
                    "SELECT CASE WHEN outcome = 'continue' THEN 1 ELSE 0 END, count(*) "
                    "FROM em_review "
                    "WHERE completed_on >= :first AND completed_on <= :last"
                    + _in_region("case_id", region)
                    + " GROUP BY 1"
                ),
                {"first": first_day, "last": last_day, **({"region": region} if region else {})},
            ).all()
        )
        legal: dict[str, tuple[int | None, int | None]] = {}
        for kind, _ in LEGAL_ROWS:
            legal[kind] = connection.execute(
                text(
                    "SELECT "
                    + counted(
                        "responded_at IS NOT NULL AND responded_at < :end"
                        + (" AND responded_at >= :start" if start else "")
                    )
                    + ", "
                    + counted(
                        "started_at < :as_of_end AND (responded_at IS NULL"
                        " OR responded_at >= :as_of_end)"
                    )
                    + " "
                    "FROM em_event WHERE event_type = :kind" + _in_region("case_id", region)
                ),
                {
                    **({"region": region} if region else {}),
                    "kind": kind,
                    "end": clock.sql_timestamp(end),
                    "as_of_end": clock.sql_timestamp(period.as_of_end),
                    **({"start": clock.sql_timestamp(start)} if start else {}),
                },
            ).one()
    backlog = review_backlog(db, period.as_of, region=region)
    rows = [
        {"kind": "EM reviews", "completed": reviews.get(1, 0), "outstanding": backlog["overdue"]},
        {
            "kind": "EM reviews - ceased/tagging removed/varied",
            "completed": reviews.get(0, 0),
            "outstanding": 0,
        },
    ]
    for kind, label in LEGAL_ROWS:
        done, open_ = legal[kind]
        rows.append({"kind": label, "completed": int(done or 0), "outstanding": int(open_ or 0)})
    rows.append(total_row(rows, {"kind": "TOTAL"}, ("completed", "outstanding")))
    return StatTable(
        "figure14",
        "Completed and outstanding reviews and legal challenges (ICIBI Figure 14 layout)",
        [
            Column("kind", "", "text"),
            Column("completed", "Completed"),
            Column("outstanding", "Outstanding"),
        ],
        rows,
        "Completed: EM reviews recorded (em_review.completed_on) in the period, split by outcome "
        "(continue vs ceased/varied/curfew removed or amended); representations, PAP letters and "
        "JRs answered (responded_at) in the period. Outstanding on the as-of day: active cases "
        "whose 3-monthly review is overdue (due 3 calendar months after the later of fitting and "
        "last review, clamped to month end), and legal events received but not yet answered.",
        Chart(
            "kind", ("completed", "outstanding"), "Completed and outstanding", rows=len(rows) - 1
        ),
    )


def figure5(db: Database, region: str | None = None) -> StatTable:
    """People not in detention awaiting a device, by induction status (current state)."""
    awaiting = [EmCase.em_status == "awaiting_fit"]
    if region:
        awaiting.append(EmCase.region == region)
    with db.engine.connect() as connection:
        records: Sequence[tuple[str | None, int]] = connection.execute(
            select(EmCase.induction_status, func.count())
            .where(*awaiting, or_(EmCase.held_at.is_(None), EmCase.held_at == "community"))
            .group_by(EmCase.induction_status)
        ).all()
        detained: Sequence[tuple[str | None, int]] = connection.execute(
            select(EmCase.bail_type, func.count())
            .where(*awaiting, EmCase.held_at.in_(("prison", "irc")))
            .group_by(EmCase.bail_type)
        ).all()
    counts = {(status or ""): n for status, n in records}
    rows: list[dict[str, Any]] = [
        {"reason": label, "total": counts.pop(key, 0)} for key, label in INDUCTION_LABELS.items()
    ]
    for key, n in sorted(counts.items()):
        rows.append({"reason": key or "Not recorded", "total": n})
    total_index = len(rows)
    rows.append(total_row(rows, {"reason": "Total requiring a GPS device"}, ("total",)))
    for bail_type, n in sorted(detained, key=lambda r: r[0] or ""):
        label = {"ij": "IJ bail", "sos": "SoS bail"}.get(bail_type or "", "bail type unknown")
        rows.append({"reason": f"In detention pending fitting ({label})", "total": n})
    return StatTable(
        "figure5",
        "Awaiting a GPS device (ICIBI Figure 5 layout)",
        [Column("reason", "Reason", "text"), Column("total", "Total")],
        rows,
        "Cases with em_status awaiting_fit, as they stand now: those not in detention by their "
        "induction status (the case's induction_status column), then those still detained "
        "(prison or IRC) by bail type.",
        Chart("reason", ("total",), "Awaiting a device", rows=total_index),
    )


def tables(db: Database, period: Period, *, region: str | None = None) -> list[StatTable]:
    """Every EM table, Figure 6 first."""
    raw = breach_counts(db, period, region)
    consolidated = consolidated_battery_counts(db, period, region)
    return [
        figure6(period, raw, consolidated),
        battery_by_month(raw, consolidated),
        figure14(db, period, region),
        figure5(db, region),
    ]
