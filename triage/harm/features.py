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


# Item columns read for features; nationality is read separately and only for
# the fairness report (``groups``), never into this frame.
_ITEM_COLUMNS = """
    i.id AS item_id, i.received_at, i.passed_at, i.source_type, i.grade_source,
    i.grade_intel, i.grade_handling, i.subject_named, i.subject_ref, i.whereabouts,
    i.postcode, (i.business_name IS NOT NULL AND trim(i.business_name) != '') AS business_named,
    i.sector, i.persons_estimated, i.allegation, i.harm_flags,
    (i.campaign IS NOT NULL AND i.campaign != '') AS campaign_linked,
    (i.em_case_id IS NOT NULL) AS em_linked
"""


# How SQLAlchemy stores a DateTime in SQLite, so text comparison is exact.
_STORED = "%Y-%m-%d %H:%M:%S.%f"


def _query(connection: Connection, sql: str, params: Sequence | dict = ()) -> pd.DataFrame:
    # The DB-API cursor straight into pandas: a million rows in a few seconds,
    # where ORM objects would take minutes.
    cursor = connection.exec_driver_sql(sql, params)
    return pd.DataFrame.from_records(cursor.fetchall(), columns=list(cursor.keys()))


def training_frame(connection: Connection) -> pd.DataFrame:
    """One row per accepted outcome with a result: features, target, dates.

    Columns: the features of ``default_spec``, ``target`` (0/1), ``result``,
    ``meeting_date`` (datetime64), ``item_id``, ``outcome_id`` and, when ranked,
    ``rules_bucket``/``rules_score`` (the rules-only baseline).
    """
    ranked = has_ranking(connection)
    rank_join = "LEFT JOIN intel_rank r ON r.item_id = i.id" if ranked else ""
    rank_cols = ", r.bucket AS rules_bucket, r.score AS rules_score" if ranked else ""
    frame = _query(
        connection,
        f"""
        SELECT o.id AS outcome_id, o.meeting_date, o.result, i.upstream_bucket, {_ITEM_COLUMNS}
               {rank_cols},
               (SELECT count(*) FROM intel_item j
                 WHERE j.subject_ref = i.subject_ref AND j.id != i.id
                   AND j.received_at < o.meeting_date) AS corroboration_subject,
               (SELECT count(*) FROM intel_item j
                 WHERE j.postcode = i.postcode AND j.id != i.id
                   AND j.received_at < o.meeting_date) AS corroboration_postcode
          FROM tasking_outcome o JOIN intel_item i ON i.id = o.item_id {rank_join}
         WHERE o.decision = 'accepted' AND o.result IS NOT NULL
         ORDER BY o.meeting_date, o.id
        """,
    )
    frame["meeting_date"] = pd.to_datetime(frame["meeting_date"])
    frame["target"] = frame["result"].isin(HARM_RESULTS).astype(np.int8)
    return _derive(frame, frame["meeting_date"], ranked)


def scoring_frame(
    connection: Connection, *, as_of: datetime, item_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Feature rows for items (all, or ``item_ids``) as if decided at ``as_of``."""
    ranked = has_ranking(connection)
    rank_join = "LEFT JOIN intel_rank r ON r.item_id = i.id" if ranked else ""
    rank_cols = ", r.bucket AS rules_bucket, r.score AS rules_score" if ranked else ""
    where = ""
    if item_ids is not None:
        ids = ",".join(str(int(i)) for i in item_ids) or "NULL"
        where = f"WHERE i.id IN ({ids})"
    frame = _query(
        connection,
        f"SELECT i.upstream_bucket, {_ITEM_COLUMNS} {rank_cols} "
        f"FROM intel_item i {rank_join} {where} ORDER BY i.id",
    )
    cutoff = pd.Timestamp(as_of)
    # Corroboration as known at as_of: items on the same subject/postcode
    # received before it, other than the item itself. Counted over the whole
    # table even when only some items are scored.
    counts = _query(
        connection,
        "SELECT 'subject' AS kind, subject_ref AS key, count(*) AS n FROM intel_item "
        "WHERE subject_ref IS NOT NULL AND received_at < ? GROUP BY subject_ref "
        "UNION ALL SELECT 'postcode', postcode, count(*) FROM intel_item "
        "WHERE postcode IS NOT NULL AND received_at < ? GROUP BY postcode",
        (cutoff.strftime(_STORED), cutoff.strftime(_STORED)),
    )
    received = pd.to_datetime(frame["received_at"])
    before = (received < cutoff).astype(int)
    for kind, column in (("subject", "subject_ref"), ("postcode", "postcode")):
        known = counts.loc[counts["kind"] == kind].set_index("key")["n"]
        total = frame[column].map(known).fillna(0).astype(int)
        frame[f"corroboration_{kind}"] = (total - before.where(frame[column].notna(), 0)).clip(
            lower=0
        )
    return _derive(frame, pd.Series(cutoff, index=frame.index), ranked)


def _derive(frame: pd.DataFrame, decided: pd.Series, ranked: bool) -> pd.DataFrame:
    """Turn stored columns into model inputs (vectorised, no per-row Python)."""
    received = pd.to_datetime(frame["received_at"])
    passed = pd.to_datetime(frame["passed_at"])
    frame["days_to_decision"] = ((decided - received).dt.total_seconds() / 86400).clip(lower=0)
    hours = (passed - received).dt.total_seconds() / 3600
    frame["passed_within_48h"] = np.where(hours.isna(), MISSING, np.where(hours <= 48, "yes", "no"))
    flags = frame["harm_flags"].fillna("")
    for flag in vocab.HARM_FLAGS:
        frame[f"flag_{flag}"] = flags.str.contains(f";{flag};", regex=False).astype(np.int8)
    named = frame["subject_named"]
    frame["subject_named"] = np.where(named.isna(), MISSING, np.where(named == 1, "yes", "no"))
    for column in ("grade_source", "persons_estimated"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in ("business_named", "campaign_linked", "em_linked"):
        frame[column] = frame[column].fillna(0).astype(np.int8)
    for column in CATEGORICAL:
        if column in ("subject_named", "passed_within_48h"):
            continue
        frame[column] = frame[column].astype(object).where(frame[column].notna(), MISSING)
    if ranked:
        frame[BUCKET_FEATURE] = frame["rules_bucket"].map(
            lambda b: MISSING if pd.isna(b) else str(int(b))
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
        """
        SELECT i.id AS item_id, i.nationality,
               coalesce(c1.gender, (SELECT c2.gender FROM em_case c2
                                     WHERE c2.person_ref = i.subject_ref
                                       AND i.subject_ref IS NOT NULL LIMIT 1)) AS gender
          FROM intel_item i LEFT JOIN em_case c1 ON c1.case_id = i.em_case_id
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


def numeric_bounds(frame: pd.DataFrame, spec: FeatureSpec) -> dict[str, list[float]]:
    """Training range of each numeric feature (1st to 99th percentile)."""
    bounds = {}
    for column in spec.numeric:
        values = frame[column].dropna()
        if len(values):
            low, high = np.quantile(values, [0.01, 0.99])
            bounds[column] = [float(low), float(high)]
    return bounds


def clip_to_bounds(frame: pd.DataFrame, bounds: dict[str, list[float]]) -> pd.DataFrame:
    """Hold numeric inputs inside the training range.

    Scoring sees values training never did (an item waiting 700 days, where
    training decisions came after 2 to 40); a linear model would extrapolate
    them without limit, so they are clipped to the range it learned from.
    """
    frame = frame.copy()
    for column, (low, high) in bounds.items():
        if column in frame:
            frame[column] = frame[column].clip(low, high)
    return frame
