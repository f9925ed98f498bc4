"""Breach trends: breaches per case-month by harm level, vulnerability and,
where recorded, protected characteristics [004 ¶5.25, Rec 1a].

The Inspectorate found "no systematic monitoring of trends" in breaches and
compliance against vulnerabilities and protected characteristics. These
tables are that monitoring, in aggregate only: the characteristics are read
here and by the harm model's fairness report, never by the rankings or the
model (``triage.em.queue``, ``triage.rules``, ``triage.harm.features``).

* A **breach** is a breach notification (the 17 breach types) that started
  in the period, with battery notifications replaced by the consolidated
  battery reports raised in it (12 hours in a rolling 7 days make one; the
  same count as Figure 6's "battery consolidated" total).
* A **case-month** is one case monitored for one whole UK calendar month:
  a case counts from its fitting (``fitted_at``) to the end of the period,
  or to the day a review ceased its monitoring; a month partly covered
  counts as its fraction. Cases never fitted add no exposure (and have no
  breaches to count); a ceased case without a ceasing review is left out
  and counted in the table's definition.
* The **95% interval** of a rate is the exact Poisson (Garwood) interval:
  breaches are counts of events over an exposure, and one case can breach
  several times a month, so the count is not a number of successes out of
  trials and Wilson's interval for a proportion does not apply. With few
  breaches it stays honest (wide, and never below zero), where a normal
  approximation would not.
* Groups: a case with several vulnerability flags is in each flag's row;
  "none recorded" and "not recorded" rows keep every case counted once per
  characteristic. Small counts are suppressed on release like every other
  table (``stats.table.suppress``): a suppressed count hides the rate and
  interval built on it, and a small number of cases hides the group's
  exposure as well.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from triage import clock, vocab
from triage.em import battery
from triage.em.models import EmReview
from triage.stats.period import Period
from triage.stats.table import Chart, Column, StatTable
from triage.store.db import Database
from triage.store.models import PROTECTED_CHARACTERISTICS, EmCase, EmEvent

NOT_RECORDED = "not recorded"
NO_FLAG = "none recorded"
# (dimension key, its label): harm, vulnerability, then each protected
# characteristic the case extract can carry (formats.md §2).
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("harm_level", "Harm level"),
    ("vulnerability", "Vulnerability flag"),
    *((column, label) for column, label in PROTECTED_CHARACTERISTICS.items()),
)
HARM_ORDER = {level: n for n, level in enumerate(vocab.HARM_LEVELS)}


@dataclass
class _Case:
    groups: dict[str, list[str]]  # dimension -> the case's group(s)
    exposure: dict[str, float]  # UK month -> case-months
    breaches: dict[str, int]  # UK month -> breaches


def poisson_interval(count: int, exposure: float) -> tuple[float, float]:
    """Exact (Garwood) 95% interval of a Poisson rate: ``count`` events over ``exposure``."""
    from scipy.stats import chi2  # here: scipy loads in ~0.3 s, only the tables need it

    lower = 0.0 if count == 0 else float(chi2.ppf(0.025, 2 * count)) / 2
    upper = float(chi2.ppf(0.975, 2 * count + 2)) / 2
    return lower / exposure, upper / exposure


def _month_starts(first: date, last: date) -> list[date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def _exposure(start: datetime, end: datetime, months: list[date]) -> dict[str, float]:
    """Case-months of [start, end) in each UK month (a month's covered fraction)."""
    out = {}
    for n, month in enumerate(months):
        month_start = clock.start_of_local_day(month)
        following = (
            months[n + 1]
            if n + 1 < len(months)
            else date(month.year + month.month // 12, month.month % 12 + 1, 1)
        )
        month_end = clock.start_of_local_day(following)
        overlap = (min(end, month_end) - max(start, month_start)).total_seconds()
        if overlap > 0:
            out[month.strftime("%Y-%m")] = overlap / (month_end - month_start).total_seconds()
    return out


def _groups(row: Any) -> dict[str, list[str]]:
    groups = {
        "harm_level": [row.harm_level or NOT_RECORDED],
        "vulnerability": vocab.split_list(row.vulnerabilities) or [NO_FLAG],
    }
    for column in PROTECTED_CHARACTERISTICS:
        value = getattr(row, column)
        groups[column] = [value.strip().lower() if value and value.strip() else NOT_RECORDED]
    return groups


def read_cases(db: Database, period: Period, region: str | None = None) -> tuple[list[_Case], int]:
    """Each case's groups, exposure and breaches by month; and how many ceased
    cases were left out for want of the day their monitoring ceased."""
    start, end = period.utc_bounds()
    end = min(end, period.as_of_end)
    where = [EmCase.region == region] if region else []
    with db.transaction() as session:
        rows = session.execute(
            select(
                EmCase.case_id,
                EmCase.fitted_at,
                EmCase.em_status,
                EmCase.harm_level,
                EmCase.vulnerabilities,
                *(EmCase.__table__.c[column] for column in PROTECTED_CHARACTERISTICS),
            ).where(*where)
        ).all()
        ceased_on = dict(
            session.execute(
                select(EmReview.case_id, func.min(EmReview.completed_on))
                .where(EmReview.outcome == "ceased")
                .group_by(EmReview.case_id)
            ).all()
        )
        event_where = [
            EmEvent.event_type.in_([t for t in vocab.BREACH_TYPES if t != "battery"]),
            EmEvent.started_at < end,
        ]
        if start is not None:
            event_where.append(EmEvent.started_at >= start)
        events = session.execute(select(EmEvent.case_id, EmEvent.started_at).where(*event_where))
        breach_times: dict[str, list[datetime]] = defaultdict(list)
        for case_id, started_at in events:
            breach_times[case_id].append(started_at)
        cases_wanted: Iterable[str] | None = [r.case_id for r in rows] if region else None
        for case_id, view in battery.battery_by_case(session, cases_wanted).items():
            breach_times[case_id] += [
                r.raised_at
                for r in view.reports
                if r.raised_at < end and (start is None or r.raised_at >= start)
            ]
    fitted = [r.fitted_at for r in rows if r.fitted_at is not None]
    first = start or (min(fitted) if fitted else end)
    months = _month_starts(clock.to_local(first).date(), clock.to_local(end).date())
    cases, left_out = [], 0
    for row in rows:
        if row.fitted_at is None:
            continue
        stop = end
        if row.em_status == "ceased":
            if row.case_id not in ceased_on:
                left_out += 1
                continue
            stop = min(end, clock.start_of_local_day(ceased_on[row.case_id]))
        since = max(row.fitted_at, first)
        counts: dict[str, int] = defaultdict(int)
        for moment in breach_times.get(row.case_id, []):
            counts[clock.to_local(moment).strftime("%Y-%m")] += 1
        cases.append(_Case(_groups(row), _exposure(since, stop, months), dict(counts)))
    return cases, left_out


def _rate_cells(breaches: int, exposure: float) -> dict[str, Any]:
    if exposure <= 0:
        return {"rate": None, "ci_low": None, "ci_high": None}
    low, high = poisson_interval(breaches, exposure)
    return {
        "rate": round(breaches / exposure, 3),
        "ci_low": round(low, 3),
        "ci_high": round(high, 3),
    }


RATE_COLUMNS = [
    Column("cases", "Cases"),
    Column("case_months", "Case-months monitored", "number", of="cases"),
    Column("breaches", "Breaches"),
    Column("rate", "Breaches per case-month", "number", of="breaches", per="cases"),
    Column("ci_low", "95% interval: from", "number", of="breaches", per="cases"),
    Column("ci_high", "95% interval: to", "number", of="breaches", per="cases"),
]


def breach_rates(cases: list[_Case], left_out: int) -> StatTable:
    """Breaches per case-month over the period, by each characteristic's groups."""
    rows: list[dict[str, Any]] = []
    for dimension, label in DIMENSIONS:
        tallies: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])
        for case in cases:
            for group in case.groups[dimension]:
                tally = tallies[group]
                tally[0] += 1
                tally[1] += sum(case.exposure.values())
                tally[2] += sum(case.breaches.values())

        def order(group: str, dimension: str = dimension) -> tuple[int, int, str]:
            last = group in (NOT_RECORDED, NO_FLAG)
            return (last, HARM_ORDER.get(group, 99) if dimension == "harm_level" else 0, group)

        for group in sorted(tallies, key=order):
            count, exposure, breaches = tallies[group]
            rows.append(
                {
                    "characteristic": label,
                    "group": group.replace("_", " "),
                    "cases": int(count),
                    "case_months": round(exposure, 1),
                    "breaches": int(breaches),
                    **_rate_cells(int(breaches), exposure),
                }
            )
    return StatTable(
        "breach_rates",
        "Breaches per case-month by harm level, vulnerability and protected characteristic",
        [Column("characteristic", "Characteristic", "text"), Column("group", "Group", "text")]
        + RATE_COLUMNS,
        rows,
        "Breaches (breach notifications started in the period, battery notifications replaced "
        "by consolidated battery reports) per case-month monitored (from fitting to the end of "
        "the period or the review that ceased monitoring; part months as fractions), with the "
        "exact Poisson 95% interval. A case with several vulnerability flags is in each flag's "
        "row. Protected characteristics are reported for monitoring only, where recorded; they "
        "are never used to rank cases or items or by the harm model. "
        + (
            f"{left_out} ceased case(s) without a ceasing review date are left out."
            if left_out
            else "No case was left out."
        ),
        Chart("group", ("rate",), "Breaches per case-month", rows=len(rows)),
    )


def breach_trend(cases: list[_Case]) -> StatTable:
    """Breaches per case-month, month by month, by harm level."""
    months = sorted({m for case in cases for m in case.exposure})
    levels = [*vocab.HARM_LEVELS, NOT_RECORDED]
    rows: list[dict[str, Any]] = []
    for level in levels:
        members = [c for c in cases if c.groups["harm_level"] == [level]]
        if not members:
            continue
        for month in months:
            exposure = sum(c.exposure.get(month, 0.0) for c in members)
            breaches = sum(c.breaches.get(month, 0) for c in members)
            monitored = sum(1 for c in members if c.exposure.get(month, 0.0) > 0)
            rows.append(
                {
                    "harm_level": level.replace("_", " "),
                    "month": month,
                    "cases": monitored,
                    "case_months": round(exposure, 1),
                    "breaches": breaches,
                    **_rate_cells(breaches, exposure),
                }
            )
    return StatTable(
        "breach_trend",
        "Breaches per case-month by month and harm level",
        [Column("harm_level", "Harm level", "text"), Column("month", "Month", "text")]
        + RATE_COLUMNS,
        rows,
        "As the breach_rates table, month by month (UK calendar months) for each harm level: "
        "cases monitored for some of the month, their case-months, breaches started (battery "
        "reports raised) in the month, the rate and its exact Poisson 95% interval.",
        None,
    )


def tables(db: Database, period: Period, *, region: str | None = None) -> list[StatTable]:
    cases, left_out = read_cases(db, period, region)
    return [breach_rates(cases, left_out), breach_trend(cases)]
