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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, inspect

from triage import vocab

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


def default_spec(with_bucket: bool) -> FeatureSpec:
    categorical = CATEGORICAL + ((BUCKET_FEATURE,) if with_bucket else ())
    return FeatureSpec(NUMERIC, categorical)


def has_ranking(connection: Connection) -> bool:
    if not inspect(connection).has_table("intel_rank"):
        return False
    return connection.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM intel_rank)").scalar_one() == 1


def _flag_bits() -> str:
    return " + ".join(
        f"(instr(coalesce(i.harm_flags, ''), ';{flag};') > 0) * {1 << bit}"
        for bit, flag in enumerate(vocab.HARM_FLAGS)
    )


# Item columns read for features, derived in SQL where that returns numbers
# instead of text (a million rows cross into Python several times faster).
# Nationality is read separately and only for the fairness report
# (``group_labels``), never into this frame.
_ITEM_COLUMNS = f"""
    i.id AS item_id, julianday(i.received_at) AS received_jd,
    CASE WHEN i.passed_at IS NULL THEN NULL
         ELSE (julianday(i.passed_at) - julianday(i.received_at)) * 24 <= 48 END AS passed_48h,
    i.source_type, i.grade_source, i.grade_intel, i.grade_handling, i.subject_named,
    i.whereabouts, (i.business_name IS NOT NULL AND trim(i.business_name) != '') AS business_named,
    i.sector, i.persons_estimated, i.allegation, {_flag_bits()} AS flag_bits,
    (i.campaign IS NOT NULL AND i.campaign != '') AS campaign_linked,
    (i.em_case_id IS NOT NULL) AS em_linked, i.upstream_bucket
"""

# How SQLAlchemy stores a DateTime in SQLite, so text comparison is exact.
_STORED = "%Y-%m-%d %H:%M:%S.%f"


def _query(connection: Connection, sql: str, params: Sequence | dict = ()) -> pd.DataFrame:
    # The DB-API cursor straight into pandas, skipping SQLAlchemy's Row
    # objects: a million rows in seconds.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame(rows, columns=columns)


def _rank_sql(connection: Connection) -> tuple[bool, str, str]:
    ranked = has_ranking(connection)
    if not ranked:
        return False, "", ""
    return True, "LEFT JOIN intel_rank r ON r.item_id = i.id", ", r.bucket AS rules_bucket"


def training_frame(connection: Connection) -> pd.DataFrame:
    """One row per accepted outcome with a result: features, target, dates.

    Columns: the features of ``default_spec``, ``target`` (0/1), ``result``,
    ``meeting_date`` (datetime64), ``item_id``, ``outcome_id``,
    ``upstream_bucket`` and, when ranked, ``rules_bucket`` (for the rules-only
    baseline).
    """
    ranked, rank_join, rank_cols = _rank_sql(connection)
    accepted = "o.decision = 'accepted' AND o.result IS NOT NULL"
    frame = _query(
        connection,
        f"""
        SELECT o.id AS outcome_id, o.meeting_date, julianday(o.meeting_date) AS decided_jd,
               o.result, i.subject_ref, i.postcode, {_ITEM_COLUMNS} {rank_cols}
          FROM tasking_outcome o JOIN intel_item i ON i.id = o.item_id {rank_join}
         WHERE {accepted}
         ORDER BY o.meeting_date, o.id
        """,
    )
    for kind, column in (("subject", "subject_ref"), ("postcode", "postcode")):
        known = _query(
            connection,
            f"SELECT {column} AS key, julianday(received_at) AS jd FROM intel_item "
            f"WHERE {column} IN (SELECT i.{column} FROM tasking_outcome o "
            f"JOIN intel_item i ON i.id = o.item_id WHERE {accepted})",
        )
        frame[f"corroboration_{kind}"] = _count_before(
            known["key"], known["jd"], frame[column], frame["decided_jd"], frame["received_jd"]
        )
    frame["meeting_date"] = pd.to_datetime(frame["meeting_date"])
    frame["target"] = frame["result"].isin(HARM_RESULTS).astype(np.int8)
    return _derive(frame, ranked)


def _count_before(
    keys: pd.Series,
    times: pd.Series,
    query_keys: pd.Series,
    cutoffs: pd.Series,
    own_times: pd.Series,
) -> np.ndarray:
    """Per query row: items with the same key received before its cutoff, not itself.

    Vectorised: each (key, time) becomes one int64 (key code in the high 32
    bits, seconds in the low 32), sorted once; each query is then two binary
    searches instead of a correlated subquery per row.
    """
    codes, uniques = pd.factorize(keys)
    query_codes = pd.Index(uniques).get_indexer(query_keys)
    every = np.concatenate([times.to_numpy(float), cutoffs.to_numpy(float)])
    origin = float(np.nanmin(every)) if len(every) else 0.0

    def seconds(jd: np.ndarray) -> np.ndarray:
        return np.clip(np.round((jd - origin) * 86400), 0, 2**32 - 1).astype(np.int64)

    ordered = np.sort((codes.astype(np.int64) << 32) + seconds(times.to_numpy(float)))
    result = np.zeros(len(query_keys), dtype=np.int64)
    present = query_codes >= 0
    base = query_codes[present].astype(np.int64) << 32
    cut = cutoffs.to_numpy(float)[present]
    before = np.searchsorted(ordered, base + seconds(cut), side="left") - np.searchsorted(
        ordered, base, side="left"
    )
    own = (own_times.to_numpy(float)[present] < cut).astype(np.int64)
    result[present] = np.maximum(before - own, 0)
    return result


def scoring_frame(
    connection: Connection, *, as_of: datetime, item_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Feature rows for items (all, or ``item_ids``) as if decided at ``as_of``.

    Corroboration counts the items on the same subject or postcode received
    before ``as_of`` (over the whole table, whichever items are scored), less
    the item itself.
    """
    ranked, rank_join, rank_cols = _rank_sql(connection)
    where = ""
    if item_ids is not None:
        ids = ",".join(str(int(i)) for i in item_ids) or "NULL"
        where = f"WHERE i.id IN ({ids})"
    cutoff = as_of.strftime(_STORED)
    frame = _query(
        connection,
        f"""
        SELECT {_ITEM_COLUMNS} {rank_cols}, julianday(:cutoff) AS decided_jd,
               coalesce(cs.n, 0) - (i.subject_ref IS NOT NULL AND i.received_at < :cutoff)
                   AS corroboration_subject,
               coalesce(cp.n, 0) - (i.postcode IS NOT NULL AND i.received_at < :cutoff)
                   AS corroboration_postcode
          FROM intel_item i {rank_join}
          LEFT JOIN (SELECT subject_ref, count(*) AS n FROM intel_item
                      WHERE subject_ref IS NOT NULL AND received_at < :cutoff
                      GROUP BY subject_ref) cs ON cs.subject_ref = i.subject_ref
          LEFT JOIN (SELECT postcode, count(*) AS n FROM intel_item
                      WHERE postcode IS NOT NULL AND received_at < :cutoff
                      GROUP BY postcode) cp ON cp.postcode = i.postcode
          {where}
         ORDER BY i.id
        """,
        {"cutoff": cutoff},
    )
    return _derive(frame, ranked)


def _derive(frame: pd.DataFrame, ranked: bool) -> pd.DataFrame:
    """Turn queried columns into model inputs (vectorised, no per-row Python)."""
    days = frame["decided_jd"].astype(float) - frame["received_jd"].astype(float)
    frame["days_to_decision"] = days.clip(lower=0)
    passed = frame["passed_48h"]
    frame["passed_within_48h"] = np.where(
        passed.isna(), MISSING, np.where(passed == 1, "yes", "no")
    )
    bits = frame["flag_bits"].fillna(0).astype(np.int64).to_numpy()
    for bit, flag in enumerate(vocab.HARM_FLAGS):
        frame[f"flag_{flag}"] = ((bits >> bit) & 1).astype(np.int8)
    named = frame["subject_named"]
    frame["subject_named"] = np.where(named.isna(), MISSING, np.where(named == 1, "yes", "no"))
    for column in ("grade_source", "persons_estimated"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in ("business_named", "campaign_linked", "em_linked"):
        frame[column] = frame[column].fillna(0).astype(np.int8)
    for column in ("corroboration_subject", "corroboration_postcode"):
        frame[column] = frame[column].clip(lower=0).astype(float)
    for column in CATEGORICAL:
        if column in ("subject_named", "passed_within_48h"):
            continue
        frame[column] = frame[column].astype(object).where(frame[column].notna(), MISSING)
    if ranked:
        buckets = frame["rules_bucket"]
        frame[BUCKET_FEATURE] = np.where(
            buckets.isna(), MISSING, buckets.fillna(0).astype(int).astype(str)
        )
    return frame


def group_labels(
    connection: Connection, item_ids: Sequence[int], *, min_count: int = 30
) -> pd.DataFrame:
    """Nationality and gender of items, for the fairness report only.

    Intelligence items carry nationality; gender comes from a linked EM case
    (``em_case_id``, or the same pseudonymous person reference). Groups with
    fewer than ``min_count`` rows become ``other``; missing is ``unknown``.
    """
    frame = _query(
        connection,
        f"""
        SELECT i.id AS item_id, i.nationality,
               coalesce(c1.gender, (SELECT c2.gender FROM em_case c2
                                     WHERE c2.person_ref = i.subject_ref
                                       AND i.subject_ref IS NOT NULL LIMIT 1)) AS gender
          FROM intel_item i LEFT JOIN em_case c1 ON c1.case_id = i.em_case_id
         WHERE i.id IN ({",".join(str(int(i)) for i in item_ids) or "NULL"})
        """,
    ).set_index("item_id")
    frame = frame.reindex(list(item_ids))
    out = pd.DataFrame(index=frame.index)
    for column in ("nationality", "gender"):
        values = frame[column].astype(object).where(frame[column].notna(), MISSING)
        values = values.map(lambda v: str(v).strip().lower() if v != MISSING else v)
        counts = values.value_counts()
        small = counts[(counts < min_count) & (counts.index != MISSING)].index
        out[column] = values.where(~values.isin(small), "other")
    return out.reset_index(drop=True)


OTHER = "other"
MIN_LEVEL_ROWS = 20
MAX_LEVELS = 30


def fit_limits(frame: pd.DataFrame, spec: FeatureSpec) -> dict[str, dict[str, list]]:
    """What the model learned to expect, from the training rows only.

    ``bounds``: each numeric feature's 1st to 99th percentile. ``levels``: each
    categorical feature's values with at least ``MIN_LEVEL_ROWS`` rows (at
    most ``MAX_LEVELS``); other values become ``other``. Stored in the
    manifest and applied (``apply_limits``) before every fit and prediction.
    """
    bounds = {}
    for column in spec.numeric:
        values = frame[column].dropna()
        if len(values):
            low, high = np.quantile(values, [0.01, 0.99])
            bounds[column] = [float(low), float(high)]
    levels = {}
    for column in spec.categorical:
        counts = frame[column].value_counts()
        kept = counts[counts >= MIN_LEVEL_ROWS].index[:MAX_LEVELS]
        levels[column] = sorted(str(v) for v in kept)
    return {"bounds": bounds, "levels": levels}


def apply_limits(frame: pd.DataFrame, limits: dict[str, dict[str, list]]) -> pd.DataFrame:
    """Hold inputs inside what training saw.

    Scoring meets values training never did (an item waiting 700 days, where
    training decisions came 2 to 40 days after receipt; a new sector name).
    A linear model would extrapolate the first without limit, so numbers are
    clipped to the training range and unseen or rare categories pooled as
    ``other``.
    """
    frame = frame.copy()
    for column, (low, high) in limits.get("bounds", {}).items():
        if column in frame:
            frame[column] = frame[column].clip(low, high)
    for column, kept in limits.get("levels", {}).items():
        if column in frame:
            values = frame[column].astype(object)
            frame[column] = values.where(values.isin(kept), OTHER)
    return frame
