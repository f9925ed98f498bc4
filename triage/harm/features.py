"""Model inputs: the training set (accepted items with a result) and scoring rows.

Target: an accepted task whose recorded result showed harm, i.e. ``arrest``,
``removal`` or ``referral`` (``HARM_RESULTS``). Training rows are accepted
outcomes with a result; everything else has no known outcome.

Features come from the item and its links only, as known at decision time
(the meeting date for training, the ranking instant for scoring): grading
parts, whereabouts, harm flags, allegation, sector, persons estimated, source
type, campaign link, EM link, corroboration counts (other items on the same
subject or postcode received before the decision), days from receipt to
decision, 48-hour pass compliance and, when the ranking table has rows, the
rules bucket. Nationality, gender and every other protected characteristic
are never features: ``check_features`` refuses them by name, and the SQL
below never reads them.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine.interfaces import DBAPICursor

from triage import vocab
from triage.store import dialect, item_values

HARM_RESULTS = ("arrest", "removal", "referral")

# Equality Act 2010 protected characteristics and their usual proxies. A
# feature whose name contains one of these as a whole word run is refused.
PROTECTED_ATTRIBUTES = frozenset(
    {
        "nationality",
        "citizenship",
        "country_of_birth",
        "ethnicity",
        "ethnic_origin",
        "race",
        "gender",
        "sex",
        "gender_reassignment",
        "sexual_orientation",
        "religion",
        "belief",
        "age",
        "date_of_birth",
        "dob",
        "disability",
        "pregnancy",
        "maternity",
        "marital_status",
        "civil_partnership",
        "language",
    }
)

NUMERIC = (
    "grade_source",
    "persons_estimated",
    "corroboration_subject",
    "corroboration_postcode",
    "days_to_decision",
    "business_named",
    "campaign_linked",
    "em_linked",
) + tuple(f"flag_{flag}" for flag in vocab.HARM_FLAGS)
CATEGORICAL = (
    "source_type",
    "grade_intel",
    "grade_handling",
    "subject_named",
    "whereabouts",
    "sector",
    "allegation",
    "passed_within_48h",
)
# Only when the ranking has been computed (intel_rank has rows).
BUCKET_FEATURE = "rules_bucket"
MISSING = "unknown"


class ProtectedFeatureError(ValueError):
    """A protected characteristic was offered as a model feature."""


def is_protected(name: str) -> bool:
    tokens = re.split(r"[^a-z0-9]+", name.lower())
    joined = f"_{'_'.join(t for t in tokens if t)}_"
    return any(f"_{term}_" in joined for term in PROTECTED_ATTRIBUTES)


def check_features(names: Iterable[str]) -> list[str]:
    """Return ``names`` as a list, or raise naming every protected one."""
    names = list(names)
    bad = [name for name in names if is_protected(name)]
    if bad:
        raise ProtectedFeatureError(
            f"protected characteristics can never be model features: {', '.join(bad)}"
        )
    return names


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns the model reads, split by how they are encoded."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return list(self.numeric) + list(self.categorical)

    def __post_init__(self) -> None:
        check_features(self.names)

    def to_json(self) -> dict[str, list[str]]:
        return {"numeric": list(self.numeric), "categorical": list(self.categorical)}

    @classmethod
    def from_json(cls, value: dict[str, list[str]]) -> FeatureSpec:
        return cls(tuple(value["numeric"]), tuple(value["categorical"]))


@dataclass
class Table:
    """Rows as named numpy columns of equal length: the harm model's training
    and scoring rows. A plain dict of arrays, not a pandas DataFrame, so the
    packaged app ships without pandas (docs/decisions.md)."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __setitem__(self, name: str, values: Any) -> None:
        self.columns[name] = np.asarray(values)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def pop(self, name: str) -> np.ndarray:
        return self.columns.pop(name)

    def rows(self, which: np.ndarray | slice) -> Table:
        """The rows a boolean mask, index array or slice picks, every column."""
        return Table({name: values[which] for name, values in self.columns.items()})

    def matrix(self, names: Sequence[str]) -> np.ndarray:
        """The ``names`` columns as one 2-D float array, in that order: the
        model pipelines address their input columns by position."""
        columns = [self.columns[name] for name in names]
        out = np.empty((len(self), len(columns)))
        # A band of rows at a time: column by column over a million rows,
        # each row's cache line is fetched again for every column (0.3 s for
        # the score's 16 columns, 0.09 s like this). The same numbers.
        for start in range(0, len(self), MATRIX_ROWS):
            stop = start + MATRIX_ROWS
            for j, column in enumerate(columns):
                out[start:stop, j] = column[start:stop]
        return out


MATRIX_ROWS = 8192  # rows of 16 float columns: 1 MB, inside a core's cache


def factorize(values: Iterable[str | None]) -> tuple[np.ndarray, list[str]]:
    """Codes (index in order of first appearance; -1 for None) and the distinct values.

    Text keys, a million at a time (the corroboration keys): each key's
    bytes as 64-bit words folded into one number, grouped by numpy's sort,
    then every key compared with its group's first, so two keys sharing a
    number are never taken as one (then the dict below decides). A dict
    lookup per key took twice as long; sorting the strings themselves too."""
    keys = np.asarray(values, dtype=object).reshape(-1)
    missing = np.equal(keys, cast(Any, None))  # elementwise "is None"
    present = keys[~missing]
    grouped = _group_by_words(present)
    if grouped is None:
        return _factorize_by_dict(keys)
    first, inverse = grouped
    # Codes in order of first appearance, as the dict gives them.
    order = np.argsort(first)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = np.full(len(keys), -1, dtype=np.int64)
    codes[~missing] = rank[inverse]
    return codes, present[first[order]].tolist()


FOLD_MULTIPLIER = np.uint64(0x100000001B3)  # FNV-1's 64-bit prime
# The widest key folded as words, in bytes (subject_ref's declared width in
# ASCII). The words are a copy of every key as wide as the widest: one byte a
# character when every key is ASCII, else numpy's UCS-4 text, four. So one
# very long or non-ASCII key would make the copy rows x its width: keys
# wider than this take the dict instead.
WORDS_KEY_BYTES = 64


def _group_by_words(present: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """For text keys: the index of each group's first key and each key's
    group, or None when a key is too long to fold or two different keys
    fell into one group."""
    if not len(present):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    longest = max(map(len, present))
    if longest > WORDS_KEY_BYTES:  # a byte a character at the least
        return None
    try:
        fixed = present.astype(np.bytes_)  # ASCII: one byte a character
    except UnicodeEncodeError:
        if 4 * longest > WORDS_KEY_BYTES:
            return None
        fixed = present.astype(np.str_)
    size = fixed.dtype.itemsize
    padded = np.zeros((len(fixed), -(-size // 8) * 8), dtype=np.uint8)
    padded[:, :size] = fixed.view(np.uint8).reshape(len(fixed), size)
    words = padded.view(np.uint64)
    folded = words[:, 0].copy()
    for j in range(1, words.shape[1]):  # FNV-style: multiply, then mix the next word in
        folded *= FOLD_MULTIPLIER
        folded ^= words[:, j]
    # Grouped by one unstable sort (np.unique's index of first keys takes a
    # stable one, three times slower); each group's first key is its lowest index.
    order = np.argsort(folded)
    ordered = folded[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    first = np.minimum.reduceat(order, starts)
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(order))))
    # Exact: each key is its group's first key (same text, not only same number).
    if not np.equal(present, present[first][inverse]).all():
        return None
    return first, inverse


def _factorize_by_dict(keys: np.ndarray) -> tuple[np.ndarray, list[str]]:
    index: dict[str, int] = {}
    codes = np.fromiter(
        (-1 if value is None else index.setdefault(value, len(index)) for value in keys),
        dtype=np.int64,
    )
    return codes, list(index)


def floats(values: Iterable[Any]) -> np.ndarray:
    """Numbers from the database as floats; None (no value) is NaN."""
    return np.fromiter(
        (math.nan if value is None else float(value) for value in values), dtype=np.float64
    )


def default_spec(with_bucket: bool) -> FeatureSpec:
    categorical = CATEGORICAL + ((BUCKET_FEATURE,) if with_bucket else ())
    return FeatureSpec(NUMERIC, categorical)


def has_ranking(connection: Connection) -> bool:
    if not inspect(connection).has_table("intel_rank"):
        return False
    return bool(connection.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM intel_rank)").scalar_one())


# Each feature as one SQL expression over the item ``i`` (and the ranking ``r``),
# shared by training and scoring so the two can never compute it differently.
# ``{decided}`` is the julian day of the decision: the meeting date when
# training, the ranking instant when scoring. Nationality and gender appear
# nowhere here; they are read separately, only for the fairness report.
# Portable SQL: a yes/no is a CASE giving 0 or 1 (PostgreSQL does no
# arithmetic on booleans).
NUMERIC_SQL = {
    "grade_source": "i.grade_source",
    "persons_estimated": "i.persons_estimated",
    "days_to_decision": "{decided} - julianday(i.received_at)",  # never below 0: AT_LEAST_ZERO
    "business_named": (
        "CASE WHEN i.business_name IS NOT NULL AND trim(i.business_name) != '' THEN 1 ELSE 0 END"
    ),
    "campaign_linked": "CASE WHEN i.campaign IS NOT NULL AND i.campaign != '' THEN 1 ELSE 0 END",
    "em_linked": "CASE WHEN i.em_case_id IS NOT NULL THEN 1 ELSE 0 END",
}
# The eight harm flags as one bit set (bit n = HARM_FLAGS[n]): one small
# integer per row instead of eight, kept with the item when it is written
# (store.item_values; NULL when its flags are).
FLAG_BITS_SQL = "coalesce(i.harm_flag_bits, 0)"
# Features floored at 0 (dialect.larger_sql: SQLite's two-argument max(),
# PostgreSQL's greatest(); a CASE would compute the julian days twice).
AT_LEAST_ZERO = frozenset({"days_to_decision"})
FLAGS = tuple(f"flag_{flag}" for flag in vocab.HARM_FLAGS)
# The 0/1 features scoring reads from the item's stored codes (each its own
# bit: STORED_YES_NO), as training computes them (NUMERIC_SQL).
YES_NO = ("business_named", "campaign_linked", "em_linked")
CATEGORY_SQL = {
    "source_type": f"coalesce(i.source_type, '{MISSING}')",
    "grade_intel": f"coalesce(i.grade_intel, '{MISSING}')",
    "grade_handling": f"coalesce(i.grade_handling, '{MISSING}')",
    "subject_named": (
        f"CASE WHEN i.subject_named IS NULL THEN '{MISSING}' "
        "WHEN i.subject_named THEN 'yes' ELSE 'no' END"
    ),
    "whereabouts": f"coalesce(i.whereabouts, '{MISSING}')",
    # lower(trim(sector)) and the 48-hour test, kept with the item (store.item_values).
    "sector": f"coalesce(i.sector_key, '{MISSING}')",
    "allegation": f"coalesce(i.allegation, '{MISSING}')",
    "passed_within_48h": (
        f"CASE i.passed_within_48h WHEN 1 THEN 'yes' WHEN 0 THEN 'no' ELSE '{MISSING}' END"
    ),
    BUCKET_FEATURE: f"coalesce(CAST(r.bucket AS TEXT), '{MISSING}')",
}
# Corroboration is counted on these item columns (text keys, counted in numpy:
# a correlated index lookup per row was four times slower on a million rows).
KEY_COLUMNS = {"subject": "subject_ref", "postcode": "postcode"}
CORROBORATION = {"subject": "corroboration_subject", "postcode": "corroboration_postcode"}
assert set(NUMERIC) == set(NUMERIC_SQL) | set(CORROBORATION.values()) | set(FLAGS)
assert set(CATEGORICAL) | {BUCKET_FEATURE} == set(CATEGORY_SQL)

# How SQLAlchemy stores a DateTime in SQLite, so text comparison is exact.
_STORED = "%Y-%m-%d %H:%M:%S.%f"


def _cursor(connection: Connection, sql: str, params: dict[str, Any] | None = None) -> DBAPICursor:
    # The DB-API cursor, skipping SQLAlchemy's Row objects: a million rows
    # cross into Python in seconds. SQLAlchemy still writes the statement in
    # the driver's placeholders (sqlite3's ?, psycopg's %(name)s).
    compiled = text(sql).compile(dialect=connection.dialect)
    values = compiled.construct_params(params or {})
    arguments: Sequence[Any] | Mapping[str, Any] = values
    if compiled.positional:
        arguments = tuple(values[name] for name in compiled.positiontup or ())
    cursor = connection.connection.cursor()
    cursor.execute(str(compiled), arguments)
    return cursor


def _numeric_sql(connection: Connection, name: str, decided: str) -> str:
    sql = NUMERIC_SQL[name].format(decided=decided)
    if name in AT_LEAST_ZERO:
        return dialect.larger_sql(dialect.is_postgres(connection), "0.0", sql)
    return sql


def _query(connection: Connection, sql: str, params: dict[str, Any] | None = None) -> Table:
    """A query's rows as a ``Table`` of object columns (values as the driver gives them)."""
    cursor = _cursor(connection, sql, params)
    try:
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    table = Table()
    for j, name in enumerate(names):
        column = np.empty(len(rows), dtype=object)
        column[:] = [row[j] for row in rows]
        table[name] = column
    return table


def _rank_join(ranked: bool) -> str:
    return "LEFT JOIN intel_rank r ON r.item_id = i.id" if ranked else ""


def training_frame(connection: Connection) -> Table:
    """One row per accepted outcome with a result: raw features, target, dates.

    Categorical features are text here (``encode`` turns them into codes once
    the training levels are known). Also: ``target`` (0/1), ``result``,
    ``meeting_date`` (datetime64[D]), ``item_id``, ``outcome_id``,
    ``upstream_bucket`` and, when ranked, ``rank_bucket`` and ``rank_score``
    (the rules-only baseline reads them).
    """
    ranked = has_ranking(connection)
    spec = default_spec(ranked)
    accepted = "o.decision = 'accepted' AND o.result IS NOT NULL"
    decided = "julianday(o.meeting_date)"
    numeric = ", ".join(
        f"{_numeric_sql(connection, n, decided)} AS {n}" for n in spec.numeric if n in NUMERIC_SQL
    )
    categorical = ", ".join(f"{CATEGORY_SQL[n]} AS {n}" for n in spec.categorical)
    frame = _query(
        connection,
        f"""
        SELECT o.id AS outcome_id, i.id AS item_id, o.meeting_date, o.result, i.upstream_bucket,
               {decided} AS decided_jd, julianday(i.received_at) AS received_jd,
               i.subject_ref, i.postcode, {FLAG_BITS_SQL} AS flag_bits, {numeric}, {categorical}
               {", r.bucket AS rank_bucket, r.score AS rank_score" if ranked else ""}
          FROM tasking_outcome o JOIN intel_item i ON i.id = o.item_id {_rank_join(ranked)}
         WHERE {accepted}
         ORDER BY o.meeting_date, o.id
        """,
    )
    for kind, column in KEY_COLUMNS.items():
        known = _query(
            connection,
            f"SELECT {column} AS key, julianday(received_at) AS jd FROM intel_item "
            f"WHERE {column} IN (SELECT i.{column} FROM tasking_outcome o "
            f"JOIN intel_item i ON i.id = o.item_id WHERE {accepted})",
        )
        frame[CORROBORATION[kind]] = _count_before(
            known["key"],
            floats(known["jd"]),
            frame[column],
            floats(frame["decided_jd"]),
            floats(frame["received_jd"]),
        ).astype(float)
    _unpack_flags(frame)
    for name in spec.numeric:
        frame[name] = floats(frame[name])
    for name in ("outcome_id", "item_id"):
        frame[name] = frame[name].astype(np.int64)
    # A date (PostgreSQL) or its ISO text (SQLite): the day is the first 10 characters.
    frame["meeting_date"] = np.array(
        [str(day)[:10] for day in frame["meeting_date"]], dtype="datetime64[D]"
    )
    frame["target"] = np.array([result in HARM_RESULTS for result in frame["result"]], np.int8)
    return frame


def _unpack_flags(frame: Table) -> None:
    bits = frame.pop("flag_bits").astype(np.int64)
    for bit, name in enumerate(FLAGS):
        frame[name] = ((bits >> bit) & 1).astype(float)


def _count_before(
    keys: np.ndarray,
    times: np.ndarray,
    query_keys: np.ndarray,
    cutoffs: np.ndarray,
    own_times: np.ndarray,
) -> np.ndarray:
    """Per query row: items with the same key received before its cutoff, not itself.

    Vectorised: each (key, time) becomes one int64 (key code in the high 32
    bits, seconds in the low 32), sorted once; each query is then two binary
    searches instead of a correlated subquery per row.
    """
    codes, uniques = factorize(keys)
    position = {key: code for code, key in enumerate(uniques)}
    query_codes = np.fromiter((position.get(key, -1) for key in query_keys), dtype=np.int64)
    every = np.concatenate([times, cutoffs])
    origin = float(np.nanmin(every)) if len(every) else 0.0

    def seconds(jd: np.ndarray) -> np.ndarray:
        return np.clip(np.round((jd - origin) * 86400), 0, 2**32 - 1).astype(np.int64)

    ordered = np.sort((codes << 32) + seconds(times))
    result = np.zeros(len(query_keys), dtype=np.int64)
    present = query_codes >= 0
    base = query_codes[present].astype(np.int64) << 32
    cut = cutoffs[present]
    before = np.searchsorted(ordered, base + seconds(cut), side="left") - np.searchsorted(
        ordered, base, side="left"
    )
    own = (own_times[present] < cut).astype(np.int64)
    result[present] = np.maximum(before - own, 0)
    return result


def _quote(value: str) -> str:
    # A colon is escaped for text() (":word" would read as a bind parameter).
    return "'" + value.replace("'", "''").replace(":", "\\:") + "'"


def _code_sql(name: str, levels: list[str]) -> str:
    """SQL giving a categorical feature's code: its index in ``levels``, else len."""
    if not levels:
        return str(0)
    whens = " ".join(f"WHEN {_quote(v)} THEN {i}" for i, v in enumerate(levels))
    return f"CASE {CATEGORY_SQL[name]} {whens} ELSE {len(levels)} END"


# What a missing number is read as (then NaN): no feature is ever this.
NO_NUMBER = -1.0e300
CODE_BITS = 5  # per category code in the packed column: MAX_LEVELS + 1 codes fit


def scoring_frame(
    connection: Connection,
    spec: FeatureSpec,
    limits: dict[str, dict[str, list[Any]]],
    *,
    as_of: datetime,
    item_ids: Sequence[int] | None = None,
) -> Table:
    """Encoded feature rows (``item_id`` + ``spec.names``) for items as if decided at ``as_of``.

    Built for a million items: one pass over them returns the id, the small
    whole numbers packed into one integer (the flags' bit set, the yes/no
    features, every category code), the other numbers and the corroboration
    keys, read straight into arrays; the keys are counted in numpy.
    Corroboration counts the items on the same subject or postcode received
    before ``as_of`` over the whole table, less the item.
    """
    cutoff = as_of.strftime(_STORED)
    decided = ":decided"  # a number bound once, not julianday() per row
    # Every small whole number (the flags' bit set, "received before the
    # instant", the yes/no features, the category codes) is packed into as
    # few integers as hold them: each column read is a million Python
    # objects, the bulk of scoring's time.
    levels = limits["levels"]
    # The categories whose model codes come from the item's stored codes
    # (the others, and the sector and rules bucket, are coded here in SQL).
    stored = {n: _stored_codes(n, levels.get(n, [])) for n in spec.categorical}
    stored_codes = {n: lookup for n, lookup in stored.items() if lookup is not None}
    numeric = [n for n in spec.numeric if n in NUMERIC_SQL and n not in YES_NO]
    small = [
        # The stored codes (the flags' bit set among them), or the same
        # computed here for an item without them; masked, so a stray bit
        # cannot reach its neighbours.
        ("codes", f"coalesce(i.harm_codes, {CODES_SQL}) & {(1 << CODES_BITS) - 1}", CODES_BITS),
        ("known_before", "CASE WHEN i.received_at < :cutoff THEN 1 ELSE 0 END", 1),
        *(
            (n, _code_sql(n, levels.get(n, [])), CODE_BITS)
            for n in spec.categorical
            if n not in stored_codes
        ),
    ]
    words, places = _packed(small)
    # The item id rides in the packed integers too when it fits beside them
    # (ids from 0 to the largest's bits): one number fewer a row to read.
    low, high = cast(
        tuple[int | None, int | None],
        tuple(connection.execute(text("SELECT min(id), max(id) FROM intel_item")).one()),
    )
    id_field = ("item_id", "i.id", max((high or 0).bit_length(), 1))
    with_id = _packed([*small, id_field])
    ids_packed = (low is None or low >= 0) and len(with_id[0]) == len(words)
    if ids_packed:
        words, places = with_id
    first = 0 if ids_packed else 1  # where the packed integers start
    # No NULLs: a missing number comes as NO_NUMBER, so the rows can be read
    # straight into a float array (NaN again below).
    numbers = [f"coalesce({_numeric_sql(connection, n, decided)}, {NO_NUMBER!r})" for n in numeric]
    conditions = []
    if item_ids is not None:
        conditions.append("i.id IN (" + (",".join(str(int(i)) for i in item_ids) or "NULL") + ")")
    if ids_packed:
        # Only the ids the width was read for: an item another writer adds
        # meanwhile (a wider id) is left to the next score, not cut to the
        # width and read as another item's.
        conditions.append(f"i.id BETWEEN 0 AND {int(high or 0)}")
    where = "WHERE " + " AND ".join(conditions) if conditions else ""
    epoch = datetime(1970, 1, 1)
    params = {"cutoff": cutoff, "decided": (as_of - epoch).total_seconds() / 86400 + 2440587.5}
    join = _rank_join(BUCKET_FEATURE in spec.categorical)
    corroborated = [kind for kind, name in CORROBORATION.items() if name in spec.numeric]
    # One pass over the items: their keys ride on the numbers' rows.
    keys = [f"i.{KEY_COLUMNS[kind]}" for kind in corroborated]
    integers, values, texts = _fetch_rows(
        connection,
        f"SELECT {', '.join([*(['i.id'] if first else []), *words, *numbers, *keys])} "
        f"FROM intel_item i {join} {where} ORDER BY i.id",
        params,
        (first + len(words), len(numbers), len(keys)),
    )
    values[values == NO_NUMBER] = np.nan
    frame = Table({name: values[:, j] for j, name in enumerate(numeric)})
    if first:
        frame["item_id"] = integers[:, 0]
    for name, (word, shift, width) in places.items():
        frame[name] = (integers[:, first + word] >> shift) & ((1 << width) - 1)
    codes = frame.pop("codes")
    frame["flag_bits"] = _field(codes, "harm_flag_bits")
    yes_no = [n for n in spec.numeric if n in YES_NO]
    for name in yes_no:
        frame[name] = _field(codes, STORED_YES_NO[name])
    for name, lookup in stored_codes.items():
        frame[name] = lookup[_field(codes, name)]
    for name in (*yes_no, *spec.categorical):
        frame[name] = frame[name].astype(float)
    _unpack_flags(frame)
    known_before = frame["known_before"] == 1
    for j, kind in enumerate(corroborated):
        codes, uniques = factorize(texts[:, j])
        if item_ids is None:
            counts = np.bincount(codes[known_before & (codes >= 0)], minlength=len(uniques))
        else:  # only some items: count their keys over the whole table
            found = _key_counts(connection, kind, list(uniques), cutoff)
            counts = np.array([found.get(key, 0.0) for key in uniques], dtype=np.float64)
        has_key = codes >= 0
        total = np.zeros(len(codes)) if not len(counts) else counts[np.maximum(codes, 0)]
        total = np.where(has_key, total, 0)
        frame[CORROBORATION[kind]] = np.maximum(total - (known_before & has_key), 0) * 1.0
    return Table({name: frame[name] for name in ["item_id"] + spec.names})


# The item's stored codes (store.item_values.HARM_CODES): the flags' bit set,
# the yes/no features and the categories they code.
CODES_SQL = item_values.harm_codes_sql("i.")
CODES_BITS = max(f.shift + f.width for f in item_values.HARM_CODES.values())
# Each yes/no feature's input column (its stored code is NUMERIC_SQL's test).
STORED_YES_NO = {
    "business_named": "business_name",
    "campaign_linked": "campaign",
    "em_linked": "em_case_id",
}
assert set(STORED_YES_NO) == set(YES_NO)


def _field(codes: np.ndarray, column: str) -> np.ndarray:
    field = item_values.HARM_CODES[column]
    return (codes >> field.shift) & ((1 << field.width) - 1)


def _stored_codes(name: str, levels: list[str]) -> np.ndarray | None:
    """For a category the stored codes hold: the model's code (its index in
    ``levels``, else ``len(levels)``) of each stored code, as ``_code_sql``
    gives it. None when the stored codes cannot tell the model's levels
    apart (a level that is none of their texts: a value outside the
    vocabulary, which they code as "any other value")."""
    field = item_values.HARM_CODES.get(name)
    if field is None or not field.texts:
        return None
    known = {MISSING, *field.texts}
    if not set(levels) <= known:
        return None
    # Code 0 is NULL, read as MISSING; then each value's text; then any other
    # value, whose text is none of the levels unless the field names one.
    texts = [MISSING, *field.texts, field.other_text]
    texts += [None] * ((1 << field.width) - len(texts))
    code_of = {level: code for code, level in enumerate(levels)}
    return np.array([code_of.get(t, len(levels)) if t else len(levels) for t in texts])


WORD_BITS = 62  # bits of each packed integer used: SQLite's and numpy's int64 hold them
INT4_BITS = 31  # a shifted value within these bits fits PostgreSQL's (signed) integer


def _packed(
    fields: Sequence[tuple[str, str, int]],
) -> tuple[list[str], dict[str, tuple[int, int, int]]]:
    """SQL packing small whole numbers (name, SQL, bits) into as few integers
    as hold them, and where each one is (integer, shift, bits). Each SQL
    must give a number that fits its bits (CASEs and codes do by their
    making; a mask on each cost SQLite 0.05-0.1 s a million items)."""
    words: list[list[str]] = []
    places: dict[str, tuple[int, int, int]] = {}
    used = WORD_BITS
    for name, sql, width in fields:
        if used + width > WORD_BITS:
            words.append([])
            used = 0
        term = f"({sql})"
        if used + width > INT4_BITS:
            # PostgreSQL's integer is 32 bits and its shift wraps past them
            # (1 << 40 is 256): a bigint, so the number lands at its place.
            term = f"CAST({term} AS BIGINT)"
        words[-1].append(f"({term} << {used})")
        places[name] = (len(words) - 1, used, width)
        used += width
    return [" + ".join(parts) for parts in words], places


# Rows per step of reading the scoring rows: each step's rows are held as
# Python objects until they are numbers, so memory stays bounded.
READ_ROWS = 100_000


def _fetch_rows(
    connection: Connection, sql: str, params: dict[str, Any], widths: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A query's rows as three 2-D arrays, its columns in that order:
    integers (int64), numbers (float; never NULL) and texts (objects), of
    ``widths`` columns each. Read from the cursor straight into arrays, in
    steps (no list of a million tuples)."""
    integers, numbers, texts = widths
    width = integers + numbers + texts
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    cursor = _cursor(connection, sql, params)
    try:
        rows = iter(cast(Iterable[tuple[Any, ...]], cursor))
        while True:
            step = itertools.chain.from_iterable(itertools.islice(rows, READ_ROWS))
            part = np.fromiter(step, dtype=object).reshape(-1, width)
            if not len(part):
                break
            at = integers + numbers
            parts.append(
                (
                    part[:, :integers].astype(np.int64),
                    part[:, integers:at].astype(np.float64),
                    part[:, at:].copy(),  # a copy: the numbers' objects go
                )
            )
    finally:
        cursor.close()
    if not parts:
        return (
            np.empty((0, integers), dtype=np.int64),
            np.empty((0, numbers)),
            np.empty((0, texts), dtype=object),
        )
    whole, real, text = zip(*parts, strict=True)
    return np.concatenate(whole), np.concatenate(real), np.concatenate(text)


def _key_counts(
    connection: Connection, kind: str, keys: list[str], cutoff: str
) -> dict[str, float]:
    """Items received before ``cutoff`` per key value, for the given keys only."""
    column = KEY_COLUMNS[kind]
    found: dict[str, float] = {}
    for part in (
        _query(
            connection,
            f"SELECT {column} AS key, count(*) AS n FROM intel_item WHERE {column} IN "
            f"({','.join(f':k{j}' for j in range(len(chunk)))}) AND received_at < :cutoff "
            f"GROUP BY {column}",
            {**{f"k{j}": key for j, key in enumerate(chunk)}, "cutoff": cutoff},
        )
        for chunk in (keys[i : i + 500] for i in range(0, len(keys), 500))
    ):
        found.update(zip(part["key"].tolist(), floats(part["n"]).tolist(), strict=True))
    return found


def group_labels(
    connection: Connection, item_ids: Sequence[int], *, min_count: int = 30
) -> dict[str, np.ndarray]:
    """Nationality and gender of items (in ``item_ids`` order), for the fairness report only.

    Intelligence items carry nationality; gender comes from a linked EM case
    (``em_case_id``, or the same pseudonymous person reference). Groups with
    fewer than ``min_count`` rows become ``other``; missing is ``unknown``.
    """
    found = _query(
        connection,
        f"""
        SELECT i.id AS item_id, i.nationality,
               coalesce(c1.gender, (SELECT c2.gender FROM em_case c2
                                     WHERE c2.person_ref = i.subject_ref
                                       AND i.subject_ref IS NOT NULL LIMIT 1)) AS gender
          FROM intel_item i LEFT JOIN em_case c1 ON c1.case_id = i.em_case_id
         WHERE i.id IN ({",".join(str(int(i)) for i in item_ids) or "NULL"})
        """,
    )
    row_of = {int(item): j for j, item in enumerate(found["item_id"])}
    out: dict[str, np.ndarray] = {}
    for column in ("nationality", "gender"):
        raw = [
            found[column][row_of[int(item)]] if int(item) in row_of else None for item in item_ids
        ]
        values = [MISSING if v is None else str(v).strip().lower() for v in raw]
        counts = Counter(values)
        labels = np.empty(len(values), dtype=object)
        labels[:] = [OTHER if v != MISSING and counts[v] < min_count else v for v in values]
        out[column] = labels
    return out


OTHER = "other"
MIN_LEVEL_ROWS = 20
MAX_LEVELS = 30


def fit_limits(frame: Table, spec: FeatureSpec) -> dict[str, dict[str, list[Any]]]:
    """What the model learned to expect, from the training rows only.

    ``bounds``: each numeric feature's 1st to 99th percentile. ``levels``: each
    categorical feature's values with at least ``MIN_LEVEL_ROWS`` rows (at
    most ``MAX_LEVELS``, the most common; ties by name); any other value is
    coded as ``other``. Stored in the manifest; ``encode`` applies them before
    every fit and prediction.
    """
    bounds = {}
    for column in spec.numeric:
        values = frame[column][~np.isnan(frame[column])]
        if len(values):
            low, high = np.quantile(values, [0.01, 0.99])
            bounds[column] = [float(low), float(high)]
    levels = {}
    for column in spec.categorical:
        counts = Counter(str(v) for v in frame[column])
        common = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = [value for value, n in common if n >= MIN_LEVEL_ROWS][:MAX_LEVELS]
        levels[column] = sorted(kept)
    return {"bounds": bounds, "levels": levels}


def encode(frame: Table, spec: FeatureSpec, limits: dict[str, Any]) -> Table:
    """Text categories -> training codes (``len(levels)`` = other); numbers clipped.

    Scoring meets values training never did (an item waiting 700 days, where
    training decisions came 2 to 40 days after receipt; a new sector name).
    A linear model would extrapolate the first without limit, so numbers are
    clipped to the training range and unseen or rare categories share one
    ``other`` code. ``scoring_frame`` produces the same codes in SQL.
    """
    out = Table(dict(frame.columns))
    for column in spec.categorical:
        levels = limits["levels"].get(column, [])
        code_of = {level: float(code) for code, level in enumerate(levels)}
        out[column] = np.fromiter(
            (code_of.get(str(v), float(len(levels))) for v in frame[column]), dtype=np.float64
        )
    return clip(out, limits)


def clip(frame: Table, limits: dict[str, Any]) -> Table:
    """Numeric features held inside the training range (see ``encode``); a copy."""
    out = Table(dict(frame.columns))
    for column, (low, high) in limits.get("bounds", {}).items():
        if column in out:
            out[column] = np.clip(out[column].astype(np.float64, copy=False), low, high)
    return out


def decode(name: str, value: float, limits: dict[str, Any]) -> object:
    """A feature value for display: the category text of a code, or the number."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    levels = limits.get("levels", {}).get(name)
    if levels is None:
        return float(value)
    code = int(value)
    return levels[code] if 0 <= code < len(levels) else OTHER
