"""One statistics table: columns, rows, its definition, chart and drill-down.

Every statistic is returned as a ``StatTable`` so that the CLI, the CSV, XLSX
and PDF exports and the dashboard print the same rows. Percentages are whole
numbers rounded half-up, each on its own (``percent``): never adjusted to sum
to 100, because the published tables are not (NAO Figure 9, Scotland and
Northern Ireland high priority: 35 + 18 + 48 = 101).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Column:
    """A column: ``kind`` is count, pct, number or text.

    A pct column (or a number built on counts, such as a rate) names the
    count it is a share of in ``of`` and its
    denominator in ``per`` (either may be kept in the rows without being
    shown), so suppression can hide the percentage of a suppressed count.
    ``filters`` are the queue filters a click on this column adds to the
    row's (e.g. statuses, buckets).
    """

    key: str
    title: str
    kind: str = "count"
    of: str | None = None
    per: str | None = None
    filters: dict[str, Any] | None = None


@dataclass(frozen=True)
class Chart:
    """How to chart a table: bars of the ``values`` columns for each ``category`` row."""

    category: str
    values: tuple[str, ...]
    title: str = ""
    stacked: bool = False
    # Chart only the first ``rows`` rows (totals below them would dwarf the bars).
    rows: int | None = None
    # True: each row is a series over the ``values`` columns (months across).
    by_row: bool = False


@dataclass
class StatTable:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    definition: str
    chart: Chart | None = None
    # Per row, the queue filters it stands for (None: not a queue of items).
    row_filters: Sequence[dict[str, Any] | None] = field(default_factory=list)
    # Cells to draw attention to, as (row index, column key): a figure below
    # its target. The rows say it in words too; the screen also colours them.
    flagged: set[tuple[int, str]] = field(default_factory=set)

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(f"table {self.name} has no column {key!r}")

    def filters_for(self, row: int, key: str | None = None) -> dict[str, Any] | None:
        """The queue filters for a click on a row (and column), or None."""
        base = self.row_filters[row] if row < len(self.row_filters) else None
        if base is None:
            return None
        extra = self.column(key).filters if key else None
        return {**base, **(extra or {})}

    def plain_rows(self) -> list[dict[str, Any]]:
        """The rows restricted to the shown columns, in column order."""
        return [{c.key: row.get(c.key) for c in self.columns} for row in self.rows]


def cell_text(value: Any, kind: str) -> str:
    """A cell as the CLI and the dashboard print it: 35%, 1,234, blank for None."""
    if value is None:
        return ""
    if kind == "pct" and isinstance(value, int):
        return f"{value}%"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def percent(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` as a whole-number percentage, rounded half-up.

    Integer arithmetic: Python's ``round`` rounds half to even and floats
    cannot hold every half exactly. None when ``whole`` is 0 (no rate).
    """
    if whole <= 0:
        return None
    return (200 * part + whole) // (2 * whole)


def mean(total: float, count: int, places: int = 1) -> float | None:
    """``total / count`` rounded half-up to ``places`` decimals, or None."""
    if count <= 0:
        return None
    scale: int = 10**places
    # total is a whole number of days in every caller: stay in integers.
    return ((2 * int(total) * scale + count) // (2 * count)) / scale


SUPPRESSED_PCT = "c"


def suppress(table: StatTable, below: int) -> StatTable:
    """A copy with counts 1..below-1 shown as "<below" and their percentages as "c".

    Zero stays 0 (nothing to disclose). A percentage, or a number column
    naming counts in ``of``/``per`` (a rate and its interval), is hidden when
    the count it is a share of (``of``) or its denominator (``per``) is hidden. Totals
    are left as they are: see docs/statistics.md on secondary suppression.
    """
    if below <= 1:
        return table

    def small(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 < value < below

    counts = [c.key for c in table.columns if c.kind == "count"]
    # Percentages, and numbers built on counts (a rate, its interval), go
    # with the counts they name in ``of`` and ``per``.
    pcts = [c for c in table.columns if c.kind == "pct" or (c.kind == "number" and (c.of or c.per))]
    rows = []
    for row in table.rows:
        new = dict(row)
        for key in counts:
            if small(row.get(key)):
                new[key] = f"<{below}"
        for column in pcts:
            if any(small(row.get(k)) for k in (column.of, column.per) if k):
                new[column.key] = SUPPRESSED_PCT
        rows.append(new)
    return replace(table, rows=rows)


def total_row(
    rows: Sequence[dict[str, Any]], label: dict[str, str], keys: Sequence[str]
) -> dict[str, Any]:
    """A row under ``rows``: its ``label`` cells, then each of ``keys`` summed over them."""
    return {**label, **{key: sum(row[key] for row in rows) for key in keys}}
