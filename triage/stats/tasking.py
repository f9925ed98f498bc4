"""Tasking outcome statistics: NAO Figure 9 and the tables beside it.

One SQL pass reads every item received in the period with its latest
decision (as of the as-of day) and groups it into a small "cube" (region x
team x bucket x rule x month x outcome x reason x result, with sums for ages,
carry-overs and the 48-hour target). Every table here and in
``triage.stats.feedback`` is then summed from the cube in Python, so a
million items cost one scan, not one per table.

Definitions (docs/statistics.md, shared/domain.md §5): an item belongs to
the period in which it was received; it counts once, by its latest decision
(latest meeting date; the schema allows one decision per item per meeting
day, so there is no tie); without an accepted or rejected latest decision it
counts as not discussed. The bucket is the computed one (``intel_rank``)
when the item has been ranked, else the bucket given upstream; buckets 1-4
are the high group, 5-6 the low group.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, inspect, text

from triage import clock
from triage.intel import regions
from triage.stats.period import Period
from triage.stats.table import Chart, Column, StatTable, mean, percent
from triage.store import dialect
from triage.store.db import Database

HIGH = (1, 2, 3, 4)
LOW = (5, 6)
OUTCOMES = ("accepted", "rejected", "not_discussed")
# Queue filters for a click on an outcome: the live queue's item status.
STATUS_FILTERS: dict[str, dict[str, Any]] = {
    "accepted": {"statuses": ["accepted"], "include_decided": True},
    "rejected": {"statuses": ["rejected"], "include_decided": True},
    # An item closed without a decision counts as not discussed (domain.md §5).
    "not_discussed": {"statuses": ["open", "closed"]},
}
DECISION_AGE_BANDS = ((0, 2), (3, 7), (8, 30), (31, 90), (91, None))
POOL_AGE_BANDS = ((0, 30), (31, 90), (91, 180), (181, None))


def group_of(bucket: int | None) -> str:
    if bucket in HIGH:
        return "high"
    if bucket in LOW:
        return "low"
    return "unbucketed"


def group_buckets(group: str) -> list[int] | None:
    return {"high": list(HIGH), "low": list(LOW)}.get(group)


@dataclass
class CubeRow:
    """One cell of the cube: a combination of dimensions and its sums."""

    region: str
    team: str | None
    bucket: int | None
    rule: str | None
    month: str
    outcome: str
    reason: str | None
    result: str | None
    n: int
    carry_sum: int
    carried: int
    met48: int
    known48: int
    age_sum: int
    age_bands: tuple[int, ...]
    pool_age_sum: int
    pool_bands: tuple[int, ...]
    pool_oldest: int | None
    awaiting_result: int
    awaiting_since: date | None


@dataclass
class TaskingStats:
    """The cube for one period (and region, if asked) and what it was made from."""

    period: Period
    region: str | None
    ranked: bool
    cube: list[CubeRow]


def period_params(period: Period, region: str | None = None) -> tuple[dict[str, Any], str]:
    """Bind parameters and the WHERE clause (on ``i``) selecting the period's items."""
    start, end = period.utc_bounds()
    params: dict[str, Any] = {"end": clock.sql_timestamp(end), "as_of": period.as_of.isoformat()}
    # Always a lower bound too, so the planner scans ix_stats_item by range.
    params["start"] = (
        clock.sql_timestamp(start) if start is not None else "0001-01-01 00:00:00.000000"
    )
    where = ["i.received_at >= :start", "i.received_at < :end"]
    if region:
        params["region"] = region
        where.append("i.region = :region")
    return params, " AND ".join(where)


def counted(condition: str) -> str:
    """SQL counting the rows where ``condition`` holds (PostgreSQL cannot sum
    a comparison as SQLite does; FILTER is in both, SQLite from 3.30)."""
    return f"count(*) FILTER (WHERE {condition})"


class _Codes:
    """Text values as small whole numbers in SQL, for packing.

    ``sql(column)`` is the 1-based position of the column's value in one
    string of every value present, each followed by a separator no value
    contains (``instr``; 0 for NULL); ``values`` turns a position back into
    the text. Shorter values come first, so a value is always found at its
    own place, never inside another (which would be longer), and no
    separators need joining to each value in SQL.
    """

    def __init__(self, name: str, values: Iterable[Any]) -> None:
        present = sorted({str(v) for v in values if v is not None}, key=lambda v: (len(v), v))
        separator = next(
            c for c in map(chr, range(1, 0x110000)) if not any(c in v for v in present)
        )
        self.name = name
        self.text = "".join(value + separator for value in present)
        self.values: dict[int, str | None] = {0: None}
        position = 1
        for value in present:
            # instr('...', '') is 1: the empty value, if present, is first.
            assert self.text.find(value) + 1 == position
            self.values[position] = value
            position += len(value) + 1
        self.radix = len(self.text) + 1

    def sql(self, column: str) -> str:
        return f"coalesce(instr(:{self.name}, {column}), 0)"

    def params(self) -> dict[str, str]:
        return {self.name: self.text}


def _key_sql(parts: list[tuple[str, int]]) -> str:
    """One whole number from (expression, radix) parts, the first the lowest digit."""
    sql, scale = "0", 1
    for expression, radix in parts:
        sql += f" + ({expression}) * CAST({scale} AS BIGINT)"
        scale *= radix
    return sql


def _digits(keys: np.ndarray, radices: list[int]) -> list[np.ndarray]:
    """The parts of packed keys, lowest first (the inverse of ``_key_sql``)."""
    parts = []
    for radix in radices:
        parts.append(keys % radix)
        keys = keys // radix
    return parts


OUTCOME_NAMES = {0: "not_discussed", 1: "accepted", 2: "rejected"}
EPOCH_JULIAN_DAY = 2440587.5  # julianday('1970-01-01')


def compute(db: Database, period: Period, *, region: str | None = None) -> TaskingStats:
    """Read the cube of one period (optionally one region).

    One row per item comes from SQL as four whole numbers: its place (region,
    team, bucket, rule), its latest decision (outcome, reason, result and
    meeting day), its UK day received with the 48-hour target (both stored
    with the item when it was written: ``store.item_values``), and its
    carry-overs; numpy sums them per cell. (SQLite's GROUP BY sorted a million
    rows of eight text keys and twenty aggregates: two-thirds of the time,
    benchmarks/bench_stats.py.) A text value's code is its position in a
    list of the values present (``_Codes``).
    """
    with db.engine.connect() as connection:
        # One snapshot for the value lists and the items they code.
        dialect.begin_read(connection)
        ranked = inspect(connection).has_table("intel_rank")
        params, where = period_params(period, region)
        places = connection.execute(text("SELECT DISTINCT region, team FROM intel_item")).all()
        reasons = connection.execute(
            text("SELECT DISTINCT reason, result FROM tasking_outcome")
        ).all()
        rules: Iterable[Any] = (
            connection.execute(text("SELECT DISTINCT bucket_rule FROM intel_rank")).scalars()
            if ranked
            else []
        )
        codes = {
            "region": _Codes("region_codes", (r for r, _ in places)),
            "team": _Codes("team_codes", (t for _, t in places)),
            "rule": _Codes("rule_codes", rules),
            "reason": _Codes("reason_codes", (r for r, _ in reasons)),
            "result": _Codes("result_codes", (r for _, r in reasons)),
        }
        bucket = "coalesce(r.bucket, i.upstream_bucket)" if ranked else "i.upstream_bucket"
        place = _key_sql(
            [
                (codes["region"].sql("i.region"), codes["region"].radix),
                (codes["team"].sql("i.team"), codes["team"].radix),
                # Rule packs give buckets 1-6 (rules.pack); 7 would be any other.
                (f"CASE WHEN {bucket} BETWEEN 1 AND 6 THEN {bucket} "
                 f"WHEN {bucket} IS NULL THEN 0 ELSE 7 END", 8),
                (codes["rule"].sql("r.bucket_rule") if ranked else "0", codes["rule"].radix),
            ]
        )  # fmt: skip
        reason_radix, result_radix = codes["reason"].radix, codes["result"].radix
        decision_radix = 3 * reason_radix * result_radix
        decision = f"""CASE x.decision
                WHEN 'accepted' THEN 1 + {3 * reason_radix} * CASE
                    WHEN x.result_at IS NULL OR x.result_at <= :as_of
                    THEN {codes["result"].sql("x.result")} ELSE 0 END
                    + CAST({decision_radix} AS BIGINT)
                    * CAST(julianday(x.meeting_date) - {EPOCH_JULIAN_DAY} AS BIGINT)
                WHEN 'rejected' THEN 2 + 3 * {codes["reason"].sql("x.reason")}
                    + CAST({decision_radix} AS BIGINT)
                    * CAST(julianday(x.meeting_date) - {EPOCH_JULIAN_DAY} AS BIGINT)
                ELSE 0 END"""
        rank_join = "LEFT JOIN intel_rank r ON r.item_id = i.id" if ranked else ""
        scan = "" if period.start else dialect.full_scan(connection)
        # Items are read in table order (``scan``: no index, when the period
        # starts at the first record), so the rank and decision look-ups walk
        # their indexes in order. The latest decision is the one on the
        # latest meeting date up to the as-of day ((item_id, meeting_date) is
        # unique), read from the covering ix_stats_outcome in one seek: its
        # outcome, reason and result codes and, for a decision, its meeting
        # day, as one number.
        sql = f"""
SELECT {place},
       coalesce((SELECT {decision}
        FROM tasking_outcome x WHERE x.item_id = i.id AND x.meeting_date <= :as_of
        ORDER BY x.meeting_date DESC LIMIT 1), 0),
       3 * i.received_uk_day + coalesce(i.passed_within_48h, 2),
       coalesce(i.carry_over_count, 0)
FROM intel_item i {scan}
{rank_join}
WHERE {where}
"""
        for c in codes.values():
            params.update(c.params())
        values = _fetch_numbers(connection, sql, params, 4)
    as_of_day = (period.as_of - date(1970, 1, 1)).days
    return TaskingStats(
        period=period, region=region, ranked=ranked, cube=_cells(values, codes, as_of_day)
    )


def _fetch_numbers(
    connection: Connection, sql: str, params: dict[str, Any], width: int
) -> np.ndarray:
    """A query's rows of whole numbers (no NULLs) as one array, read through
    the driver's cursor: SQLAlchemy's row objects cost more than the query."""
    compiled = text(sql).compile(dialect=connection.dialect)
    values = compiled.construct_params(params)
    arguments: Any = values
    if compiled.positional:
        arguments = tuple(values[name] for name in compiled.positiontup or ())
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), arguments)
        rows = cast(Iterable[tuple[int, ...]], cursor)
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64)
        return flat.reshape(-1, width)
    finally:
        cursor.close()


def _band_index(ages: np.ndarray, bands: tuple[tuple[int, int | None], ...]) -> np.ndarray:
    """Each whole-number age's band (bands are consecutive: the first takes
    everything up to its top, the last everything from its bottom)."""
    tops = [high for _, high in bands[:-1]]
    return np.searchsorted(np.array(tops, dtype=np.float64), ages, side="left")


def _cells(values: np.ndarray, codes: dict[str, _Codes], as_of_day: int) -> list[CubeRow]:
    """Sum the item rows (place, latest decision, day received, carry-overs,
    48-hour target) per cell of the cube."""
    if not len(values):
        return []
    reason_radix, result_radix = codes["reason"].radix, codes["result"].radix
    decision_radix = 3 * reason_radix * result_radix
    place, latest, day_and_met48, carry = (values[:, k] for k in range(4))
    decision, meeting_day = latest % decision_radix, latest // decision_radix
    day, met48 = day_and_met48 // 3, day_and_met48 % 3  # met48 2: no pass-on time
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    first_month = int(month.min())
    month_radix = int(month.max()) - first_month + 1
    place_radix = codes["region"].radix * codes["team"].radix * 8 * codes["rule"].radix
    if place_radix * month_radix * decision_radix >= 2**63:
        raise OverflowError("too many distinct values to pack the statistics' cells")
    key = (place * month_radix + (month - first_month)) * decision_radix + decision
    cells, index = np.unique(key, return_inverse=True)
    count = len(cells)

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=count)

    outcome_of_row = decision % 3
    decided_row = outcome_of_row != 0
    # UK days from the day received to the decision's meeting, or for the
    # undecided to the as-of day.
    age = np.where(decided_row, meeting_day, as_of_day) - day
    awaiting_row = (outcome_of_row == 1) & (decision // (3 * reason_radix) == 0)
    known48 = met48 != 2
    n = np.bincount(index, minlength=count)
    carry_sum, carried = total(carry), total(carry > 0)
    met48_sum, known48_sum = total(met48 == 1), total(known48)
    age_sum, awaiting = total(age), total(awaiting_row)
    bands = {}
    for name, band_list, rows in (
        ("decided", DECISION_AGE_BANDS, decided_row),
        ("pool", POOL_AGE_BANDS, ~decided_row),
    ):
        width = len(band_list)
        slot = index[rows] * width + _band_index(age[rows], band_list)
        bands[name] = np.bincount(slot, minlength=count * width).reshape(count, width)
    oldest = np.full(count, np.iinfo(np.int64).min)
    np.maximum.at(oldest, index[~decided_row], age[~decided_row])
    since = np.full(count, np.iinfo(np.int64).max)
    np.minimum.at(since, index[awaiting_row], meeting_day[awaiting_row])
    decision_of, month_of, place_of = _digits(cells, [decision_radix, month_radix, place_radix])
    outcome, reason, result = _digits(decision_of, [3, reason_radix, result_radix])
    region, team, bucket, rule = _digits(
        place_of, [codes["region"].radix, codes["team"].radix, 8, codes["rule"].radix]
    )
    months = (month_of + first_month).astype("datetime64[M]").astype(str)
    epoch = date(1970, 1, 1)
    cube = []
    for k in range(count):
        is_decided = outcome[k] != 0
        cube.append(
            CubeRow(
                str(codes["region"].values[int(region[k])]),
                codes["team"].values[int(team[k])],
                int(bucket[k]) if 1 <= bucket[k] <= 6 else None,
                codes["rule"].values[int(rule[k])],
                str(months[k]),
                OUTCOME_NAMES[int(outcome[k])],
                codes["reason"].values[int(reason[k])],
                codes["result"].values[int(result[k])],
                n=int(n[k]),
                carry_sum=int(carry_sum[k]),
                carried=int(carried[k]),
                met48=int(met48_sum[k]),
                known48=int(known48_sum[k]),
                age_sum=int(age_sum[k]) if is_decided else 0,
                age_bands=tuple(int(v) for v in bands["decided"][k]),
                pool_age_sum=0 if is_decided else int(age_sum[k]),
                pool_bands=tuple(int(v) for v in bands["pool"][k]),
                pool_oldest=None if is_decided else int(oldest[k]),
                awaiting_result=int(awaiting[k]),
                awaiting_since=epoch + timedelta(days=int(since[k])) if awaiting[k] else None,
            )
        )
    return cube


@dataclass
class Tally:
    """Sums over cube rows: the counts every table is made of."""

    received: int = 0
    accepted: int = 0
    rejected: int = 0
    not_discussed: int = 0
    results: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    carry_sum: int = 0
    carried: int = 0
    met48: int = 0
    known48: int = 0
    age_sum: int = 0
    age_bands: list[int] = field(default_factory=lambda: [0] * len(DECISION_AGE_BANDS))
    pool_age_sum: int = 0
    pool_bands: list[int] = field(default_factory=lambda: [0] * len(POOL_AGE_BANDS))
    pool_oldest: int | None = None
    awaiting_result: int = 0
    awaiting_since: date | None = None

    @classmethod
    def of(cls, rows: list[CubeRow]) -> Tally:
        """The tally of ``rows``, as ``add`` would make it one row at a time,
        summed a field at a time (16 tallies of 14,000 cells took 1 s cell by cell)."""
        t = cls()
        if not rows:
            return t
        for row in rows:
            if row.outcome == "accepted":
                t.accepted += row.n
                if row.result:
                    t.results[row.result] += row.n
            elif row.outcome == "rejected":
                t.rejected += row.n
                t.reasons[row.reason or "unknown"] += row.n
        t.received = sum(row.n for row in rows)
        t.not_discussed = t.received - t.accepted - t.rejected
        t.carry_sum = sum(row.carry_sum for row in rows)
        t.carried = sum(row.carried for row in rows)
        t.met48 = sum(row.met48 for row in rows)
        t.known48 = sum(row.known48 for row in rows)
        t.age_sum = sum(row.age_sum for row in rows)
        t.age_bands = [sum(bands) for bands in zip(*(row.age_bands for row in rows), strict=True)]
        t.pool_age_sum = sum(row.pool_age_sum for row in rows)
        t.pool_bands = [sum(bands) for bands in zip(*(row.pool_bands for row in rows), strict=True)]
        oldest = [int(row.pool_oldest) for row in rows if row.pool_oldest is not None]
        t.pool_oldest = max(0, *oldest) if oldest else None
        t.awaiting_result = sum(row.awaiting_result for row in rows)
        since = [row.awaiting_since for row in rows if row.awaiting_since]
        t.awaiting_since = min(since) if since else None
        return t

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def arrest_or_removal(self) -> int:
        return self.results.get("arrest", 0) + self.results.get("removal", 0)

    def outcome_cells(self) -> dict[str, Any]:
        """available/accepted/rejected/not_discussed with their percentages."""
        n = self.received
        return {
            "available": n,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "not_discussed": self.not_discussed,
            "accepted_pct": percent(self.accepted, n),
            "rejected_pct": percent(self.rejected, n),
            "not_discussed_pct": percent(self.not_discussed, n),
        }


def tally(rows: Iterable[CubeRow], key: Callable[[CubeRow], Hashable]) -> dict[Any, Tally]:
    groups: dict[Any, list[CubeRow]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    tallies: dict[Any, Tally] = defaultdict(Tally)
    for group, members in groups.items():
        tallies[group] = Tally.of(members)
    return tallies


def region_order(codes: Iterable[str]) -> list[str]:
    """Configured regions first (in configuration order), then any others."""
    configured = [r.code for r in regions.load_regions()]
    present = set(codes)
    return [c for c in configured if c in present] + sorted(present - set(configured))


def region_name(code: str) -> str:
    try:
        return regions.region_by_code(code).name
    except KeyError:
        return code


OUTCOME_COLUMNS = [
    Column("available", "Available", filters={}),
    Column("accepted", "Accepted", filters=STATUS_FILTERS["accepted"]),
    Column("rejected", "Rejected", filters=STATUS_FILTERS["rejected"]),
    Column("not_discussed", "Not discussed", filters=STATUS_FILTERS["not_discussed"]),
    Column(
        "accepted_pct",
        "% accepted",
        "pct",
        of="accepted",
        per="available",
        filters=STATUS_FILTERS["accepted"],
    ),
    Column(
        "rejected_pct",
        "% rejected",
        "pct",
        of="rejected",
        per="available",
        filters=STATUS_FILTERS["rejected"],
    ),
    Column(
        "not_discussed_pct",
        "% not discussed",
        "pct",
        of="not_discussed",
        per="available",
        filters=STATUS_FILTERS["not_discussed"],
    ),
]


def figure9(stats: TaskingStats) -> StatTable:
    """NAO Figure 9 layout: per region, total received and each group's outcome shares."""
    by_region = tally(stats.cube, lambda r: r.region)
    by_group = tally(stats.cube, lambda r: (r.region, group_of(r.bucket)))
    codes = region_order(by_region)
    columns = [
        Column("region", "Region", "text"),
        Column("received", "Total intelligence received"),
    ]
    for group, label in (("high", "High (buckets 1-4)"), ("low", "Low (buckets 5-6)")):
        buckets = {"buckets": group_buckets(group)}
        columns += [
            Column(f"{group}_available", f"{label}: pieces available for tasking", filters=buckets),
        ]
        columns += [
            Column(
                f"{group}_{outcome}_pct",
                f"{label}: % {outcome.replace('_', ' ')}",
                "pct",
                of=f"{group}_{outcome}",
                per=f"{group}_available",
                filters={**buckets, **STATUS_FILTERS[outcome]},
            )
            for outcome in OUTCOMES
        ]
    if any(group_of(r.bucket) == "unbucketed" for r in stats.cube):
        columns.append(Column("unbucketed", "No bucket (not ranked, none upstream)"))

    def row_for(label: str, total: Tally, groups: dict[str, Tally]) -> dict[str, Any]:
        row: dict[str, Any] = {"region": label, "received": total.received}
        for group in ("high", "low"):
            cells = groups.get(group, Tally()).outcome_cells()
            for key, value in cells.items():
                row[f"{group}_{key}"] = value
        row["unbucketed"] = groups.get("unbucketed", Tally()).received
        return row

    rows, filters = [], []
    for code in codes:
        groups = {g: t for (c, g), t in by_group.items() if c == code}
        rows.append(row_for(region_name(code), by_region[code], groups))
        filters.append({"region": code})
    if len(codes) > 1:
        overall = tally(stats.cube, lambda r: group_of(r.bucket))
        rows.append(row_for("All regions", Tally.of(stats.cube), overall))
        filters.append({})
    return StatTable(
        name="figure9",
        title="Intelligence by region and priority group (NAO Figure 9 layout)",
        columns=columns,
        rows=rows,
        row_filters=filters,
        definition=(
            "Items received in the period, by region; each counted once by its latest decision "
            "as of the as-of date. High = buckets 1-4, low = buckets 5-6 (computed bucket, else "
            "the upstream bucket). Not discussed = no accepted or rejected latest decision. "
            "Percentages of the group's available items, each rounded half-up on its own "
            "(they need not sum to 100)."
        ),
        chart=Chart(
            "region",
            ("high_not_discussed_pct", "low_not_discussed_pct"),
            "% not discussed by priority group",
            rows=len(codes),
        ),
    )


def outcome_rows(stats: TaskingStats) -> StatTable:
    """One row per region and group, then per region and bucket (the CLI JSON contract)."""
    by_region = tally(stats.cube, lambda r: r.region)
    by_group = tally(stats.cube, lambda r: (r.region, group_of(r.bucket)))
    by_bucket = tally(stats.cube, lambda r: (r.region, r.bucket))
    rows, filters = [], []
    for code in region_order(by_region):
        received = by_region[code].received
        for group in ("high", "low", "unbucketed"):
            if group == "unbucketed" and (code, group) not in by_group:
                continue
            cells = by_group.get((code, group), Tally()).outcome_cells()
            rows.append(
                {
                    "region": code,
                    "region_name": region_name(code),
                    "group": group,
                    "bucket": None,
                    "received": received,
                    **cells,
                }
            )
            buckets = group_buckets(group)
            filters.append({"region": code, **({"buckets": buckets} if buckets else {})})
        for bucket in range(1, 7):
            cells = by_bucket.get((code, bucket), Tally()).outcome_cells()
            rows.append(
                {
                    "region": code,
                    "region_name": region_name(code),
                    "group": "bucket",
                    "bucket": bucket,
                    "received": received,
                    **cells,
                }
            )
            filters.append({"region": code, "buckets": [bucket]})
    return StatTable(
        name="outcomes",
        title="Outcomes by region, priority group and bucket",
        columns=[
            Column("region", "Region", "text"),
            Column("group", "Group", "text"),
            Column("bucket", "Bucket", "number"),
            Column("received", "Received in region"),
            *OUTCOME_COLUMNS,
        ],
        rows=rows,
        row_filters=filters,
        definition=(
            "Rows with group high/low: the region's items in buckets 1-4 / 5-6. Rows with group "
            "'bucket' carry the bucket number in 'bucket'. 'received' is the region's total; "
            "'available' the items in the row's group or bucket; percentages are of 'available'. "
            "A group 'unbucketed' row appears only when some items have no bucket."
        ),
        chart=None,
    )


def _outcome_table(
    name: str,
    title: str,
    keys: list[tuple[Any, ...]],
    tallies: dict[Any, Tally],
    dims: list[Column],
    definition: str,
    filters: Callable[[tuple[Any, ...]], dict[str, Any] | None],
    chart: Chart | None = None,
) -> StatTable:
    rows = []
    for key in keys:
        row = {dim.key: value for dim, value in zip(dims, key, strict=True)}
        rows.append({**row, **tallies[key if len(key) > 1 else key[0]].outcome_cells()})
    return StatTable(
        name, title, [*dims, *OUTCOME_COLUMNS], rows, definition, chart, [filters(k) for k in keys]
    )


def by_team(stats: TaskingStats) -> StatTable:
    tallies = tally(stats.cube, lambda r: (r.region, r.team or ""))
    order = region_order(c for c, _ in tallies)
    keys = sorted(tallies, key=lambda k: (order.index(k[0]), k[1]))
    return _outcome_table(
        "by_team",
        "Outcomes by team",
        keys,
        tallies,
        [Column("region", "Region", "text"), Column("team", "Team", "text")],
        "Items received in the period by region and team (all buckets), by latest decision.",
        lambda k: {"region": k[0], **({"team": k[1]} if k[1] else {})},
        Chart("team", ("accepted", "rejected", "not_discussed"), "Outcomes by team", stacked=True),
    )


def by_month(stats: TaskingStats) -> StatTable:
    tallies = tally(stats.cube, lambda r: (r.month, group_of(r.bucket)))
    keys = sorted(tallies)
    return _outcome_table(
        "by_month",
        "Outcomes by month received and group",
        keys,
        tallies,
        [Column("month", "Month received", "text"), Column("group", "Group", "text")],
        "Items by the UK calendar month in which they were received, and priority group.",
        lambda k: {
            **({"region": stats.region} if stats.region else {}),
            **({"buckets": group_buckets(k[1])} if group_buckets(k[1]) else {}),
        },
    )


def rejection_reasons(stats: TaskingStats) -> StatTable:
    tallies = tally(stats.cube, lambda r: r.region)
    rows, filters = [], []
    for code in region_order(tallies):
        total = tallies[code]
        for reason, count in sorted(total.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append(
                {
                    "region": code,
                    "reason": reason,
                    "rejected": count,
                    "region_rejected": total.rejected,
                    "share_pct": percent(count, total.rejected),
                }
            )
            filters.append({"region": code, **STATUS_FILTERS["rejected"]})
    return StatTable(
        "rejection_reasons",
        "Rejections by reason code",
        [
            Column("region", "Region", "text"),
            Column("reason", "Reason", "text"),
            Column("rejected", "Rejected"),
            Column(
                "share_pct", "% of region's rejections", "pct", of="rejected", per="region_rejected"
            ),
        ],
        rows,
        "Items whose latest decision is a rejection, by the reason code recorded with it; "
        "share of all the region's rejected items.",
        Chart("reason", ("rejected",), "Rejections by reason"),
        filters,
    )


def conversion(stats: TaskingStats) -> StatTable:
    tallies = tally(stats.cube, lambda r: (r.region, group_of(r.bucket)))
    rows, filters = [], []
    for code in region_order(c for c, _ in tallies):
        for group in ("high", "low", "unbucketed"):
            t = tallies.get((code, group))
            if t is None:
                continue
            recorded = sum(t.results.values())
            rows.append(
                {
                    "region": code,
                    "group": group,
                    "accepted": t.accepted,
                    "results_recorded": recorded,
                    "awaiting_result": t.awaiting_result,
                    "arrest": t.results.get("arrest", 0),
                    "removal": t.results.get("removal", 0),
                    "arrest_or_removal": t.arrest_or_removal,
                    "conversion_pct": percent(t.arrest_or_removal, t.accepted),
                }
            )
            buckets = group_buckets(group)
            filters.append(
                {
                    "region": code,
                    **STATUS_FILTERS["accepted"],
                    **({"buckets": buckets} if buckets else {}),
                }
            )
    return StatTable(
        "conversion",
        "Conversion of accepted items into arrests and removals",
        [
            Column("region", "Region", "text"),
            Column("group", "Group", "text"),
            Column("accepted", "Accepted"),
            Column("results_recorded", "Result recorded"),
            Column("awaiting_result", "Awaiting result"),
            Column("arrest", "Arrest"),
            Column("removal", "Removal"),
            Column("arrest_or_removal", "Arrest or removal"),
            Column(
                "conversion_pct",
                "% of accepted ending in arrest or removal",
                "pct",
                of="arrest_or_removal",
                per="accepted",
            ),
        ],
        rows,
        "Of the items accepted (latest decision), the share whose result recorded by the as-of "
        "date is an arrest or a removal (the NAO's '10% to 7%' measure). Accepted items without "
        "a result stay in the denominator: accepted is not actioned.",
        Chart("region", ("arrest_or_removal", "accepted"), "Accepted and converted"),
        filters,
    )


def age_at_decision(stats: TaskingStats) -> StatTable:
    tallies = tally(stats.cube, lambda r: (r.region, r.outcome))
    rows, filters = [], []
    for code in region_order({r.region for r in stats.cube}):
        for outcome in ("accepted", "rejected"):
            t = tallies.get((code, outcome), Tally())
            n = t.decided
            row = {
                "region": code,
                "decision": outcome,
                "decided": n,
                "mean_days": mean(t.age_sum, n),
            }
            rows.append({**row, **_band_cells(DECISION_AGE_BANDS, t.age_bands)})
            filters.append({"region": code, **STATUS_FILTERS[outcome]})
    return StatTable(
        "age_at_decision",
        "Age of items at decision (days from receipt to meeting)",
        [
            Column("region", "Region", "text"),
            Column("decision", "Decision", "text"),
            Column("decided", "Decided"),
            Column("mean_days", "Mean days", "number"),
            *_band_columns(DECISION_AGE_BANDS),
        ],
        rows,
        "For items whose latest decision is accepted or rejected: UK days from the day received "
        "to the meeting date of that decision.",
        _band_chart("decision", DECISION_AGE_BANDS, "Age at decision"),
        filters,
    )


def _band_key(low: int, high: int | None) -> str:
    return f"days_{low}_plus" if high is None else f"days_{low}_{high}"


def _band_title(low: int, high: int | None) -> str:
    return f"{low}+ days" if high is None else f"{low}-{high} days"


def _band_cells(bands: tuple[tuple[int, int | None], ...], counts: list[int]) -> dict[str, int]:
    """An age-band table's cells: each band's count under its key."""
    return {_band_key(lo, hi): count for (lo, hi), count in zip(bands, counts, strict=True)}


def _band_columns(bands: tuple[tuple[int, int | None], ...]) -> list[Column]:
    return [Column(_band_key(lo, hi), _band_title(lo, hi)) for lo, hi in bands]


def _band_chart(by: str, bands: tuple[tuple[int, int | None], ...], title: str) -> Chart:
    """The bands stacked, one bar per ``by``."""
    return Chart(by, tuple(_band_key(lo, hi) for lo, hi in bands), title, stacked=True)


def _per_region(
    stats: TaskingStats, cells: Callable[[Tally], dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per region, in region order: its code, then ``cells`` of its tally."""
    tallies = tally(stats.cube, lambda r: r.region)
    return [{"region": code, **cells(tallies[code])} for code in region_order(tallies)]


def carry_overs(stats: TaskingStats) -> StatTable:
    rows = _per_region(
        stats,
        lambda t: {
            "items": t.received,
            "carried_over": t.carried,
            "carried_over_pct": percent(t.carried, t.received),
            "carry_overs": t.carry_sum,
        },
    )
    return StatTable(
        "carry_overs",
        "Carry-overs (items left undecided at a closed meeting)",
        [
            Column("region", "Region", "text"),
            Column("items", "Items"),
            Column("carried_over", "Carried over at least once"),
            Column("carried_over_pct", "% carried over", "pct", of="carried_over", per="items"),
            Column("carry_overs", "Carry-overs in total"),
        ],
        rows,
        "intel_item.carry_over_count as it stands now (not as of the as-of date): how many "
        "times a meeting closed with the item on its agenda but undecided.",
        Chart("region", ("carried_over",), "Items carried over"),
        [{"region": row["region"]} for row in rows],
    )


def pass_on_48h(stats: TaskingStats) -> StatTable:
    rows = _per_region(
        stats,
        lambda t: {
            "items": t.received,
            "with_pass_time": t.known48,
            "met": t.met48,
            "missed": t.known48 - t.met48,
            "met_pct": percent(t.met48, t.known48),
            "no_pass_time": t.received - t.known48,
        },
    )
    return StatTable(
        "pass_on_48h",
        "48-hour pass-on target",
        [
            Column("region", "Region", "text"),
            Column("items", "Items"),
            Column("with_pass_time", "With pass-on time"),
            Column("met", "Met"),
            Column("missed", "Missed"),
            Column("met_pct", "% met", "pct", of="met", per="with_pass_time"),
            Column("no_pass_time", "No pass-on time"),
        ],
        rows,
        "Met when passed_at - received_at <= 48 hours (inclusive). Items without a pass-on "
        "time are counted apart and left out of the percentage.",
        Chart("region", ("met", "missed"), "48-hour target", stacked=True),
    )


def not_discussed_pool(stats: TaskingStats) -> StatTable:
    tallies = tally(stats.cube, lambda r: r.region)
    rows, filters = [], []
    for code in region_order(tallies):
        t = tallies[code]
        row = {
            "region": code,
            "pool": t.not_discussed,
            "mean_age_days": mean(t.pool_age_sum, t.not_discussed),
            "oldest_days": t.pool_oldest,
        }
        rows.append({**row, **_band_cells(POOL_AGE_BANDS, t.pool_bands)})
        filters.append({"region": code, **STATUS_FILTERS["not_discussed"]})
    return StatTable(
        "not_discussed_pool",
        "The not-discussed pool: size and age",
        [
            Column("region", "Region", "text"),
            Column("pool", "Items not discussed"),
            Column("mean_age_days", "Mean age (days)", "number"),
            Column("oldest_days", "Oldest (days)", "number"),
            *_band_columns(POOL_AGE_BANDS),
        ],
        rows,
        "Items received in the period without an accepted or rejected latest decision as of "
        "the as-of date; age = UK days from the day received to the as-of date.",
        _band_chart("region", POOL_AGE_BANDS, "Not-discussed pool by age"),
        filters,
    )


def tables(stats: TaskingStats) -> list[StatTable]:
    """Every tasking table, Figure 9 first."""
    return [
        figure9(stats),
        outcome_rows(stats),
        by_team(stats),
        by_month(stats),
        rejection_reasons(stats),
        conversion(stats),
        age_at_decision(stats),
        carry_overs(stats),
        pass_on_48h(stats),
        not_discussed_pool(stats),
    ]
