"""The set-based evaluator: a rule pack compiled into one SQL SELECT.

``compile_pack`` turns the bucket table and the priority factors into CASE
expressions over ``intel_item``, so the database evaluates every item in one
pass, with no Python per item (docs/decisions.md, "Evaluator choice"). The
statement is text (run it with ``sqlalchemy.text``), written once for SQLite
and PostgreSQL; the few fragments that differ come from
``triage.store.dialect``.
``triage.rules.trace`` evaluates the same pack for one item in Python and the
tests hold the two to the same answer.

Missing inputs: every condition is written so that a NULL input makes it
NULL or false, and CASE treats both as "not matched"; points default to 0.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Connection, Integer, Text, text

from triage import clock
from triage.rules.pack import INPUTS, BucketRule, Condition, Factor, Pack
from triage.store import dialect


def epoch(moment: datetime) -> int:
    """Whole seconds since 1970 (fractions dropped, like SQLite ``unixepoch``)."""
    return calendar.timegm(moment.timetuple())


def whole_second(seconds: int) -> str:
    """A whole second since 1970 as the text of a stored time, fractions left
    off: a stored time (with or without them) sorts before it exactly when its
    whole seconds are earlier."""
    return (datetime(1970, 1, 1) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def whole_days(seconds: int) -> int:
    """Whole days in a span of seconds, truncated toward zero (SQLite ``/``)."""
    days = abs(seconds) // 86400
    return days if seconds >= 0 else -days


def _lit(value: Any) -> str:
    """An SQL literal for a pack value (pack values are validated, never user
    SQL). A colon is escaped: ``text()`` would read ``':x'`` as a parameter."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return "'" + str(value).replace("'", "''").replace(":", "\\:") + "'"


def _in(column: str, values: Sequence[Any]) -> str:
    return f"{column} IN ({', '.join(_lit(v) for v in values)})"


def _listed(column: str, test: str) -> str:
    """``test`` (``instr`` calls on a flags column) only where the column holds
    flags: most items have none, and a call per flag on a NULL was 4.5% of a
    full re-rank's instructions (docs/benchmarks.md). Not matched either way
    (false here, NULL from the calls)."""
    return f"({column} IS NOT NULL AND ({test}))"


def _present(column: str) -> str:
    if INPUTS.get(column.removeprefix("i.")) in ("text", "flags"):
        return f"({column} IS NOT NULL AND trim({column}) != '')"
    return f"({column} IS NOT NULL)"


@dataclass(frozen=True)
class CompiledPack:
    """The SQL of a pack at one instant. Run ``prepare`` on the same connection
    first: it fills the temporary corroboration table ``sql`` reads."""

    sql: str
    params: dict[str, Any]
    setup: tuple[str, ...] = ()  # inserts into the corroboration tables, if they are used
    by_id: bool = False  # rows come in item id order (``compile_pack``)


def prepare(connection: Connection, compiled: CompiledPack) -> None:
    """Make and fill the temporary corroboration tables a compiled pack reads."""
    if not compiled.setup:
        return
    for by in sorted(_KEYS):
        dialect.scratch_table(
            connection,
            counts_table(by),
            *(Column(key, Text, primary_key=True) for key in _KEYS[by]),
            Column("n", Integer),
            keyed=True,
        )
    for statement in compiled.setup:
        connection.execute(text(statement), compiled.params)


class _Compiler:
    def __init__(self, pack: Pack, as_of: datetime, postgres: bool) -> None:
        self.pack = pack
        self.as_of = as_of
        self.day = clock.to_local(as_of).date()
        self.postgres = postgres
        # Instants the SQL compares stored times with, as parameters.
        self.params: dict[str, Any] = {}

    def real(self, value: float) -> str:
        return dialect.real_sql(self.postgres, float(value))

    def secs(self, column: str) -> str:
        return dialect.epoch_seconds_sql(self.postgres, column)

    # -- bucket conditions --------------------------------------------------
    def condition(self, cond: Condition) -> str:
        col = f"i.{cond.input}"
        if cond.test == "present":
            return _present(col)
        if cond.test == "equals":
            return f"{col} = {_lit(cond.value)}"
        if cond.test == "one_of":
            return _in(col, cond.values)
        if cond.test == "at_least":
            return f"{col} >= {_lit(cond.value)}"
        if cond.test == "any_flag":
            parts = [f"instr({col}, {_lit(';' + v + ';')}) > 0" for v in cond.values]
            return _listed(col, " OR ".join(parts))
        if cond.test == "national_priority":
            return _in(col, self.pack.national_priorities)
        campaigns = self.pack.active_campaigns(self.day, str(cond.kind))
        if cond.test == "active_campaign":
            if cond.kind == "national":
                return _in(col, [c.code for c in campaigns])
            parts = [
                f"({col} = {_lit(c.code)} AND {_in('i.region', c.regions)})" for c in campaigns
            ]
        else:  # campaign_sector
            if cond.kind == "national":
                return _in(col, sorted({s for c in campaigns for s in c.sectors}))
            parts = [f"({_in('i.region', c.regions)} AND {_in(col, c.sectors)})" for c in campaigns]
        # A missing input must stay "not matched" (NULL) even with no campaign.
        return f"({col} IS NOT NULL AND (" + (" OR ".join(parts) or "false") + "))"

    def rule(self, rule: BucketRule) -> str:
        return " AND ".join(f"({self.condition(c)})" for c in rule.when) or "true"

    def rule_index(self) -> str:
        rules = self.pack.rules
        whens = " ".join(f"WHEN {self.rule(r)} THEN {n}" for n, r in enumerate(rules[:-1]))
        return f"CASE {whens} ELSE {len(rules) - 1} END" if whens else "0"

    # -- priority factors: (points SQL, flag condition SQL or None) ---------
    def factor(self, f: Factor) -> tuple[str, str | None]:
        if f.type == "flag_points":
            col = f"i.{f.input}"
            total = " + ".join(
                f"(CASE WHEN instr({col}, {_lit(';' + k + ';')}) > 0 "
                f"THEN {self.real(v)} ELSE {self.real(0.0)} END)"
                for k, v in f.points.items()
            )
            points = (
                dialect.smaller_sql(self.postgres, self.real(f.max), total)
                if f.max is not None
                else f"({total})"
            )
            watch: Sequence[Any] = f.flag_on or tuple(f.points)
            flag = " OR ".join(f"instr({col}, {_lit(';' + k + ';')}) > 0" for k in watch)
            # No flags: no points (every term's ELSE), without a call per flag.
            none = self.real(0.0)
            return f"(CASE WHEN {col} IS NULL THEN {none} ELSE {points} END)", _listed(col, flag)
        if f.type == "value_points":
            col = f"i.{f.input}"
            typed = {
                (int(k) if INPUTS[str(f.input)] == "int" else k): v for k, v in f.points.items()
            }
            cases = " ".join(f"WHEN {_lit(k)} THEN {self.real(v)}" for k, v in typed.items())
            watch = [int(k) if INPUTS[str(f.input)] == "int" else k for k in f.flag_on] or list(
                typed
            )
            return f"(CASE {col} {cases} ELSE {self.real(0.0)} END)", _in(col, watch)
        if f.type == "country_points":
            listed = {code: f.points.get(arr, 0.0) for code, arr in self.pack.countries.items()}
            cases = " ".join(f"WHEN {_lit(k)} THEN {self.real(v)}" for k, v in listed.items())
            zero = self.real(0.0)
            points = f"(CASE i.nationality {cases} ELSE {zero} END)" if cases else zero
            flagged = [
                code
                for code, arr in self.pack.countries.items()
                if not f.flag_on or arr in f.flag_on
            ]
            return points, _in("i.nationality", flagged)
        if f.type == "corroboration":
            others = f"coalesce(i.{f.by}_others, 0)"
            each = f"{self.real(f.points_each)} * {others}"
            return dialect.smaller_sql(
                self.postgres, self.real(f.max or 0.0), each
            ), f"{others} > 0"
        if f.type == "freshness":
            age = dialect.larger_sql(self.postgres, "b.age_days", "0")
            decay = f"pow({self.real(0.5)}, {age} / {self.real(f.half_life_days)})"
            return f"({self.real(f.max_points)} * {decay})", self.stale()
        if f.type == "pass_on":
            later = dialect.seconds_later_sql(
                self.postgres, "i.passed_at", "i.received_at", int(f.hours * 3600)
            )
            return self.real(0.0), f"(i.passed_at IS NOT NULL AND {later})"
        # present
        col = f"i.{f.input}"
        points = (
            f"(CASE WHEN {_present(col)} THEN {self.real(f.points[''])} ELSE {self.real(0.0)} END)"
        )
        return points, _present(col)

    def stale(self) -> str:
        fresh = [f for f in self.pack.factors if f.type == "freshness"]
        if not fresh:
            return "false"
        limit = fresh[0].stale_after_days
        # Older than the limit (whole days of whole seconds, ``whole_days``)
        # and not re-checked by the ranking instant within it: each a range
        # of stored times, compared as stored (``whole_second``) with no date
        # arithmetic per item, which made up a third of a full re-rank's
        # rule evaluation (docs/benchmarks.md).
        # ``stale_from``: the first whole second less than ``limit`` whole days
        # before the ranking instant.
        now = epoch(self.as_of)
        self.params["stale_from"] = whole_second(now - (limit + 1) * 86400 + 1)
        self.params["after_as_of"] = whole_second(now + 1)
        rechecked = (
            "(i.rechecked_at IS NOT NULL AND i.rechecked_at >= :stale_from "
            "AND i.rechecked_at < :after_as_of)"
        )
        return f"(i.received_at < :stale_from AND NOT {rechecked})"


# Up to this many flag names, an item's flags text is picked by one CASE over
# every combination of them (2 ** n - 1 texts), else built flag by flag.
FLAG_TEXTS_UP_TO = 8


# Corroboration: other items about the same subject (subject_ref) or the same
# premises (same postcode and business name: the importer writes postcodes in
# one form and strips cells) received by the ranking instant.
#
# The whole-database ranking counts each key's items once, with a GROUP BY
# that walks the key's index of ``triage.intel.tables`` in key order, into a
# temporary table keyed by the key (no rowid on SQLite: one look-up finds the
# count), which the rules' statement joins on the item's key. Window counts per
# item into a table by item id (the earlier form) took 3.5% more instructions
# of a full re-rank (docs/benchmarks.md), and a correlated count per item in table
# order was ~5x slower at 1M items (random index lookups). The single-item
# trace uses the correlated form (``corroboration_count``), and the property
# test holds the two together.
_KEYS = {"subject": ("subject_ref",), "premises": ("postcode", "business_name")}


def counts_table(by: str) -> str:
    """The scratch table (``dialect.scratch_table``) of each ``by`` key's count."""
    return f"rank_{by}_counts"


def corroboration_count(by: str, item: str) -> str:
    """SQL for how many other items share ``item``'s key (NULL when it has none)."""
    keys = _KEYS[by]
    present = " AND ".join(_present(f"{item}.{col}") for col in keys)
    same = " AND ".join(f"o.{col} = {item}.{col}" for col in keys)
    return (
        f"(CASE WHEN {present} THEN (SELECT count(*) FROM intel_item o WHERE {same} "
        f"AND o.received_at <= :as_of) - {_known(item + '.')} END)"
    )


def _known(prefix: str) -> str:
    """1 if the item was received by the ranking instant, else 0."""
    return f"CAST(({prefix}received_at <= :as_of) AS INTEGER)"


def _counts_setup(uses: set[str]) -> tuple[str, ...]:
    statements = []
    for by in sorted(uses):
        keys = ", ".join(_KEYS[by])
        present = " AND ".join(_present(col) for col in _KEYS[by])
        statements.append(
            f"INSERT INTO {counts_table(by)} ({keys}, n) "
            f"SELECT {keys}, count(*) FILTER (WHERE received_at <= :as_of) "
            f"FROM intel_item WHERE {present} GROUP BY {keys}"
        )
    return tuple(statements)


def _counts_join(by: str) -> str:
    """The join of an item to its ``by`` key's count. Only keys present (not
    blank) are counted, and a blank key never equals a counted one, so an
    item without the key finds none (NULL, as the correlated form gives)."""
    on = " AND ".join(f"{by}_n.{col} = i.{col}" for col in _KEYS[by])
    return f"LEFT JOIN {counts_table(by)} {by}_n ON {on}"


def compile_pack(
    pack: Pack,
    as_of: datetime,
    where: str = "true",
    *,
    postgres: bool,
    few: bool = False,
    by_id: bool = False,
) -> CompiledPack:
    """One SELECT giving every matching item's bucket, rule, score, flags and age,
    in the SQL of PostgreSQL if ``postgres``, else of SQLite.

    ``where`` filters items (e.g. ``i.region = :region``); corroboration still
    counts every item in the database. With ``few`` (``where`` picks a few
    items) each item's corroboration is counted on its own through the two
    indexes instead of for the whole table first. With ``by_id`` the rows
    come in item id order: the middle level, which reads the items in that
    order, keeps it, where an ORDER BY around the whole SELECT sorted every
    row again (1,000,000 items: ~1 s, docs/benchmarks.md).
    """
    c = _Compiler(pack, as_of, postgres)
    factors = [(f, *c.factor(f)) for f in pack.factors]
    flag_names = sorted({f.flag for f, _, _ in factors if f.flag})
    # Freshness points depend on the age alone: the outer level works them
    # out from the middle one's age column, so each item's age (date
    # arithmetic) is computed once, not once for every use.
    outer = {n for n, (f, _, _) in enumerate(factors) if f.type == "freshness"}
    points = [
        f"coalesce({sql}, 0.0) AS p{n}" for n, (_, sql, _) in enumerate(factors) if n not in outer
    ]
    if len(flag_names) <= FLAG_TEXTS_UP_TO:
        # The flags as one integer, bit n for flag n, and their text picked
        # from every combination's by one CASE: a CASE and a concatenation
        # per flag made a string per flag for every item (~1 s of a
        # 1,000,000-item re-rank, docs/benchmarks.md).
        # A freshness factor's flag is the stale test, which the middle level
        # already works out as its stale column: the outer level sets its bit
        # from that column instead of testing the stored times again (1.2% of
        # a full re-rank's instructions, docs/benchmarks.md).
        stale_bits = sum(
            1 << n
            for n, name in enumerate(flag_names)
            if any(f.flag == name and f.type == "freshness" for f in pack.factors)
        )
        middle_flagged = [
            " OR ".join(
                f"({cond})"
                for f, _, cond in factors
                if f.flag == name and cond and f.type != "freshness"
            )
            for name in flag_names
        ]
        bits = " + ".join(
            f"(CASE WHEN {cond} THEN {1 << n} ELSE 0 END)"
            for n, cond in enumerate(middle_flagged)
            if cond
        )
        flags = [f"{bits or '0'} AS fbits"]
        selector = (
            f"(b.fbits | CASE WHEN b.stale THEN {stale_bits} ELSE 0 END)"
            if stale_bits
            else "b.fbits"
        )
        texts = " ".join(
            f"WHEN {combination} THEN "
            + _lit(
                ";"
                + "".join(f"{name};" for n, name in enumerate(flag_names) if combination >> n & 1)
            )
            for combination in range(1, 1 << len(flag_names))
        )
        flag_text = f"CASE {selector} {texts} END" if texts else "NULL"
    else:
        when_flagged = [
            " OR ".join(f"({cond})" for f, _, cond in factors if f.flag == name and cond)
            for name in flag_names
        ]
        flags = [
            f"(CASE WHEN {cond} THEN 1 ELSE 0 END) AS f{n}" for n, cond in enumerate(when_flagged)
        ]
        each = " || ".join(
            f"(CASE WHEN b.f{n} = 1 THEN {_lit(name + ';')} ELSE '' END)"
            for n, name in enumerate(flag_names)
        )
        flag_text = f"nullif(';' || {each}, ';')"
    # A loaded pack's corroboration factors all name `by` (subject or premises).
    uses = {f.by for f in pack.factors if f.type == "corroboration" and f.by}
    if few:
        counts = [f"{corroboration_count(by, 'i')} AS {by}_others" for by in sorted(uses)]
        join = ""
    else:
        counts = [f"{by}_n.n - {_known('i.')} AS {by}_others" for by in sorted(uses)]
        join = " ".join(_counts_join(by) for by in sorted(uses))
    rules = pack.rules
    bucket_of = " ".join(f"WHEN {n} THEN {r.bucket}" for n, r in enumerate(rules))
    rule_of = " ".join(f"WHEN {n} THEN {_lit(r.id)}" for n, r in enumerate(rules))
    score = (
        " + ".join(
            f"coalesce({sql}, 0.0)" if n in outer else f"b.p{n}"
            for n, (_, sql, _) in enumerate(factors)
        )
        or "0.0"
    )
    # Three levels. The innermost adds the age and the corroboration counts to
    # each item row. The middle one works out the matched rule, each factor's
    # points and each flag once per item; OFFSET keeps the database from
    # flattening it into the outer one, which would repeat that work for every
    # use. The outer one turns them into the stored columns.
    item = ", ".join(
        ["i.*", f"(:as_of_epoch - {c.secs('i.received_at')}) / 86400 AS age_days", *counts]
    )
    middle = ", ".join(
        [
            "i.id AS item_id",
            f"{c.rule_index()} AS rule_idx",
            "i.age_days AS age_days",
            f"{c.stale()} AS stale",
            *points,
            *flags,
        ]
    )
    sql = f"""
SELECT b.item_id AS item_id,
       CASE b.rule_idx {bucket_of} END AS bucket,
       CASE b.rule_idx {rule_of} END AS bucket_rule,
       {score} AS score,
       {flag_text} AS flags,
       b.stale AS stale,
       b.age_days AS age_days
FROM (SELECT {middle}
      FROM (SELECT {item} FROM intel_item i {join} WHERE {where}) i
      {"ORDER BY i.id" if by_id else ""} {dialect.unflattened_sql(postgres)}) b
"""
    params = {"as_of": clock.sql_timestamp(as_of), "as_of_epoch": epoch(as_of), **c.params}
    setup = _counts_setup(uses) if uses and not few else ()
    return CompiledPack(sql=sql, params=params, setup=setup, by_id=by_id)
