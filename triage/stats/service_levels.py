"""EMS service levels against their targets, and the EM process-issue log
[004 ¶5.25, ¶5.66, Figures 12 and 13].

* ``service_levels``: ICIBI Figure 12 layout. One row per measure: its
  target, the achieved percentage of each month in the period, and the
  average, the simple mean of the months shown (as the published figure's,
  rounded half-up to one decimal). A month below its target is flagged:
  listed in the row's "Below target" cell and marked in ``flagged`` (the
  Statistics screen colours those cells).
* ``process_issues``: the Hub's log of incorrect referrals, supplier
  failures and equipment faults, counted by kind and UK month.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from triage import clock, vocab
from triage.em.models import EmProcessIssue, EmServiceLevel
from triage.stats.period import Period
from triage.stats.table import Chart, Column, StatTable, total_row
from triage.store.db import Database

ISSUE_LABELS = {
    "incorrect_referral": "Incorrect or incomplete referrals",
    "supplier_failed_request": "Supplier failed a request",
    "supplier_no_confirmation": "Supplier did not confirm a request",
    "equipment_fault": "Equipment faults",
    "other": "Other",
}


def _title(month: str) -> str:
    return clock.parse_date(f"{month}-01").strftime("%b %Y")


def one_decimal(value: float | Decimal) -> float:
    """Half-up to one decimal, in decimal arithmetic (79.15 -> 79.2, as printed)."""
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def service_levels(db: Database, period: Period) -> StatTable:
    first = period.start.replace(day=1) if period.start else None
    last = min(period.end, period.as_of)
    query = select(
        EmServiceLevel.measure,
        EmServiceLevel.month,
        EmServiceLevel.target_pct,
        EmServiceLevel.achieved_pct,
    ).where(EmServiceLevel.month <= last)
    if first is not None:
        query = query.where(EmServiceLevel.month >= first)
    with db.transaction() as session:
        records = session.execute(query.order_by(EmServiceLevel.id)).all()
    months = sorted({r.month.strftime("%Y-%m") for r in records})
    measures: dict[str, dict[str, Any]] = {}
    for measure, month, target, achieved in records:
        row = measures.setdefault(measure, {"measure": measure, "target": target, "values": {}})
        # The latest month's target is the one shown (a target rarely changes).
        row["target"] = target
        row["values"][month.strftime("%Y-%m")] = (achieved, target)
    rows: list[dict[str, Any]] = []
    flagged: set[tuple[int, str]] = set()
    for n, row in enumerate(measures.values()):
        cells: dict[str, Any] = {"measure": row["measure"], "target": row["target"]}
        below = []
        shown = []
        for month in months:
            achieved, target = row["values"].get(month, (None, None))
            cells[f"m{month}"] = achieved
            if achieved is None:
                continue
            shown.append(Decimal(str(achieved)))
            if achieved < target:
                below.append(_title(month))
                flagged.add((n, f"m{month}"))
        average = one_decimal(sum(shown) / len(shown)) if shown else None
        cells["average"] = average
        if average is not None and average < row["target"]:
            flagged.add((n, "average"))
        cells["below_target"] = ", ".join(below) or "none"
        rows.append(cells)
    return StatTable(
        "service_levels",
        "EMS performance against service levels (ICIBI Figure 12 layout)",
        [
            Column("measure", "Service level", "text"),
            Column("target", "Target %", "number"),
            *[Column(f"m{m}", f"{_title(m)} %", "number") for m in months],
            Column("average", "Average %", "number"),
            Column("below_target", "Below target", "text"),
        ],
        rows,
        "Supplier service-level figures as imported (service-levels extracts): the "
        "percentage achieved each month against the measure's target. Average = the simple "
        "mean of the months shown, half-up to one decimal. A month (or average) strictly below "
        "its target is flagged and listed under 'Below target'; a blank month had no figure.",
        Chart("measure", tuple(f"m{m}" for m in months), "Achieved by month", rows=len(rows)),
        flagged=flagged,
    )


def process_issues(db: Database, period: Period) -> StatTable:
    start, end = period.utc_bounds()
    end = min(end, period.as_of_end)
    query = select(EmProcessIssue.kind, EmProcessIssue.occurred_at).where(
        EmProcessIssue.occurred_at < end
    )
    if start is not None:
        query = query.where(EmProcessIssue.occurred_at >= start)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    with db.transaction() as session:
        for kind, occurred_at in session.execute(query):
            counts[(kind, clock.to_local(occurred_at).strftime("%Y-%m"))] += 1
    months = sorted({m for _, m in counts})
    rows: list[dict[str, Any]] = []
    for kind in vocab.PROCESS_ISSUE_KINDS:
        cells: dict[str, Any] = {"kind": ISSUE_LABELS[kind]}
        for month in months:
            cells[f"m{month}"] = counts.get((kind, month), 0)
        cells["total"] = sum(cells[f"m{m}"] for m in months)
        rows.append(cells)
    rows.append(total_row(rows, {"kind": "Total"}, [*(f"m{m}" for m in months), "total"]))
    return StatTable(
        "process_issues",
        "EM process issues by month",
        [
            Column("kind", "Issue", "text"),
            *[Column(f"m{m}", _title(m)) for m in months],
            Column("total", "Total"),
        ],
        rows,
        "The Hub's process-issue log (process-issues extracts) by kind and the UK month it "
        "occurred in: incorrect or incomplete referrals, supplier requests failed or never "
        "confirmed, equipment faults [004 ¶5.25, ¶5.71-5.73].",
        Chart("kind", tuple(f"m{m}" for m in months), "Process issues", True, len(rows) - 1, True),
    )


def tables(db: Database, period: Period) -> list[StatTable]:
    return [service_levels(db, period), process_issues(db, period)]
