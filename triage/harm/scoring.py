"""Serving the active harm-score model: scores, per-item reasons, suggestions.

``active_scores(db)`` is what the ranking calls: a score per item, or None
when no model is active or the active model's artefact is refused (the
reason is logged and the ranking carries on with rules only). It never
raises.

Per-item reasons (``explain_items``) say which features moved the score most:
- logistic regression: coefficient x (transformed) value, scaled by the
  sigmoid calibration slope, i.e. the feature's share of the calibrated
  log-odds relative to an average item (numeric features are standardised;
  a category counts against having none of that feature's categories);
- gradient boosting: for each feature, the score minus the score with that
  feature set to its training median (numeric) or most common value
  (categorical), in probability points. Cheap (one extra prediction per
  feature) and local; it ignores interactions between features.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sqlalchemy import Connection

from triage import clock
from triage.harm import artefact, features, registry
from triage.harm.training import PIPELINE_INPUT, SUGGEST_THRESHOLD
from triage.store.db import Database

log = logging.getLogger(__name__)

# Rows per prediction batch: bounds memory on a million items.
CHUNK = 200_000


@dataclass
class LoadedModel:
    id: str
    pipeline: Pipeline
    spec: features.FeatureSpec
    manifest: dict[str, Any]

    @property
    def classifier(self) -> str:
        return str(self.manifest["classifier"])


def load_model(db: Database, model_id: str | None = None) -> LoadedModel | None:
    """The verified model ``model_id`` (default: the active one, None if none).

    A model trained on another machine is first written into this machine's
    model folder from the bytes the database keeps (only if they hash right).
    Raises ``artefact.ArtefactRefused`` (with the reason) when its file does not
    match the registered manifest or the model was trained by an older
    Triage whose pipelines read pandas frames, and ``LookupError`` for an
    unknown id.
    """
    with db.transaction() as session:
        row = registry.get(session, model_id) if model_id else registry.active_model(session)
        if row is None:
            return None
        try:
            registry.check_accepted(session, row)
        except registry.ModelChanged as changed:
            raise artefact.ArtefactRefused(str(changed)) from None
        sha, manifest, rid = row.sha256, dict(row.manifest), row.id
        if manifest.get("pipeline_input") != PIPELINE_INPUT:
            # Its pipeline selects pandas DataFrame columns by name; refused
            # before a byte is unpickled, with what to do about it.
            raise artefact.ArtefactRefused(
                f"model {rid} was trained by an older version of Triage; train a new model"
            )
        # Trained on another machine: its file is written here from the bytes
        # the database keeps, once (``artefact.install`` checks their hash).
        path = Path(row.path)
        if not path.is_file():
            path = artefact.models_dir() / rid / artefact.MODEL_FILE
        stored = None if path.is_file() else registry.stored_file(session, rid)
    if stored is not None:
        path = artefact.install(rid, stored, sha, manifest)
    spec = features.FeatureSpec.from_json(manifest["features"])  # refuses protected names
    pipeline = artefact.load_verified(path, sha, manifest)
    if not isinstance(pipeline, Pipeline):
        raise artefact.ArtefactRefused(f"model file {path} does not hold a scikit-learn Pipeline")
    return LoadedModel(rid, pipeline, spec, manifest)


def predict(model: LoadedModel, frame: features.Table) -> np.ndarray:
    """Calibrated harm probabilities for encoded feature rows, in batches."""
    clipped = features.clip(frame, model.manifest["limits"])
    linear = _linear_score(model)
    if linear is not None:
        return linear(clipped)
    return _probabilities(model, clipped.matrix(model.spec.names))


def _probabilities(model: LoadedModel, X: np.ndarray) -> np.ndarray:
    """The pipeline's own probabilities for a clipped feature matrix, in batches."""
    parts = [
        model.pipeline.predict_proba(X[start : start + CHUNK])[:, 1]
        for start in range(0, len(X), CHUNK)
    ]
    return np.concatenate(parts) if parts else np.empty(0)


def _linear_score(model: LoadedModel) -> Callable[[features.Table], np.ndarray] | None:
    """The calibrated logistic pipeline (``training.build_pipeline``) as
    numpy arithmetic on the feature columns, or None for any other model.

    The same sums as scikit-learn's (imputed and scaled numbers, a weight
    per one-hot category, the sigmoid calibration) without building the
    sparse one-hot matrix: scoring a million items took 1.6 s of CPU in
    ``predict_proba``, about 0.1 s like this (benchmarks/bench_model.py);
    the probabilities agree to rounding (tests/harm)."""
    names = model.spec.names
    try:
        prep = model.pipeline.named_steps["features"]
        calibrated = model.pipeline.named_steps["classifier"]
        (fitted,) = calibrated.calibrated_classifiers_
        (calibrator,) = fitted.calibrators
        imputer, scaler = (step for _, step in prep.named_transformers_["num"].steps)
        onehot = prep.named_transformers_["cat"]
        ((_, _, numeric_at), (_, _, categorical_at), *rest) = prep.transformers_
        # The pipeline addresses its input columns by position in the spec.
        numeric = [names[int(j)] for j in numeric_at]
        categorical = [names[int(j)] for j in categorical_at]
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None
    if (
        model.classifier != "logistic"
        or fitted.method != "sigmoid"
        or list(calibrated.classes_) != [0, 1]
        or any(name != "remainder" or how != "drop" for name, how, _ in rest)
        or np.isnan(imputer.statistics_).any()  # a feature the imputer dropped
        or onehot.drop_idx_ is not None
        or getattr(onehot, "infrequent_categories_", None) is not None
    ):
        return None
    coef = fitted.estimator.coef_[0]
    indicated = imputer.indicator_.features_ if imputer.indicator_ is not None else []
    width = len(numeric) + len(indicated)
    weights = coef[:width] / scaler.scale_
    offset = fitted.estimator.intercept_[0] - float(np.dot(scaler.mean_, weights))
    category_weights = []
    start = width
    for values in onehot.categories_:
        category_weights.append(
            (np.asarray(values, dtype=np.float64), coef[start : start + len(values)])
        )
        start += len(values)
    a, b = float(calibrator.a_), float(calibrator.b_)

    def score(frame: features.Table) -> np.ndarray:
        numbers = frame.matrix(numeric)
        missing = np.isnan(numbers)
        filled = np.where(missing, imputer.statistics_, numbers)
        total = filled @ weights[: len(numeric)] + offset
        if len(indicated):
            total += missing[:, indicated] @ weights[len(numeric) :]
        for name, (values, weight) in zip(categorical, category_weights, strict=True):
            codes = frame[name].astype(np.float64, copy=False)
            total += _category_weights(codes, values, weight)
        return np.asarray(1.0 / (1.0 + np.exp(a * total + b)))

    return score


def _category_weights(codes: np.ndarray, values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Each row's weight for its category code (0.0 for a code training
    never saw). Codes are small whole numbers: looked up in a table by
    position (a binary search per row and category took three times as
    long), unless a code is not one (then searched)."""
    if len(values) and values.min() >= 0 and values.max() < TABLE_CODES:
        table = np.zeros(int(values.max()) + 2)
        where = values.astype(np.int64)
        if np.array_equal(where, values):
            table[where] = weight
            with np.errstate(invalid="ignore"):  # NaN or out of range: checked next
                at = codes.astype(np.int64)
            if ((at >= 0) & (at < len(table)) & (at == codes)).all():
                return table[at]
    at = np.minimum(np.searchsorted(values, codes), len(values) - 1)
    known = values[at] == codes  # an unknown category weighs nothing
    return np.where(known, weight[at], 0.0)


TABLE_CODES = 1 << 16


def rows_for(
    model: LoadedModel,
    connection: Connection,
    *,
    as_of: datetime,
    item_ids: list[int] | None = None,
) -> features.Table:
    """The model's encoded feature rows for items (all, or ``item_ids``)."""
    return features.scoring_frame(
        connection, model.spec, model.manifest["limits"], as_of=as_of, item_ids=item_ids
    )


def active_scores(
    db: Database, *, as_of: datetime | None = None, item_ids: list[int] | None = None
) -> dict[int, float] | None:
    """Harm score of every item (or of ``item_ids``) from the active model;
    None without a usable one."""
    try:
        model = load_model(db)
    except artefact.ArtefactRefused as refusal:
        log.warning("harm score off: %s", refusal)
        return None
    except Exception:  # a broken model must never stop the ranking
        log.exception("harm score off: the active model could not be loaded")
        return None
    if model is None:
        return None
    try:
        with db.engine.connect() as connection:
            frame = rows_for(model, connection, as_of=as_of or clock.now(), item_ids=item_ids)
        scores = predict(model, frame)
    except Exception:
        log.exception("harm score off: scoring with model %s failed", model.id)
        return None
    return dict(zip(frame["item_id"].tolist(), np.round(scores, 6).tolist(), strict=True))


def status(db: Database) -> dict[str, Any]:
    """Which model is active and whether its artefact would load (for CLI and UI)."""
    with db.transaction() as session:
        row = registry.active_model(session)
        active = row.id if row else None
    if active is None:
        return {"active": None, "usable": False, "reason": "no model is active"}
    try:
        load_model(db, active)
    except artefact.ArtefactRefused as refusal:
        return {"active": active, "usable": False, "reason": str(refusal)}
    return {"active": active, "usable": True, "reason": None}


def suggestion(score: float, threshold: float = SUGGEST_THRESHOLD) -> str:
    """The model's suggestion for a score: "accept" at or above the threshold.

    Pass the model's own threshold (``threshold(db)``: its training harm rate,
    i.e. "at least as likely to find harm as the average accepted task").
    """
    return "accept" if score >= threshold else "reject"


def threshold(db: Database) -> float:
    """The active model's suggestion threshold (``SUGGEST_THRESHOLD`` without one)."""
    with db.transaction() as session:
        row = registry.active_model(session)
        return float(row.manifest.get("threshold", SUGGEST_THRESHOLD)) if row else SUGGEST_THRESHOLD


def _source_feature(output_name: str, names: list[str]) -> str:
    """Input feature behind a ColumnTransformer output column name."""
    stripped = output_name.split("__", 1)[-1].removeprefix("missingindicator_")
    matches = [n for n in names if stripped == n or stripped.startswith(n + "_")]
    return max(matches, key=len)


def contributions(
    model: LoadedModel, frame: features.Table, top: int = 3
) -> list[list[dict[str, Any]]]:
    """For each row of ``frame``, the ``top`` features that moved its score most."""
    names = model.spec.names
    limits = model.manifest["limits"]
    X = features.clip(frame, limits).matrix(names)
    per_feature = np.zeros((len(X), len(names)))
    if model.classifier == "logistic":
        prep = model.pipeline.named_steps["features"]
        calibrated = model.pipeline.named_steps["classifier"].calibrated_classifiers_[0]
        coef = calibrated.estimator.coef_[0]
        slope = -float(calibrated.calibrators[0].a_)  # p = 1 / (1 + exp(a*f + b))
        transformed = prep.transform(X)
        dense = transformed.toarray() if hasattr(transformed, "toarray") else transformed
        parts = dense * coef * slope
        # The pipeline saw positions; named, its output columns say whose they are.
        outputs = prep.get_feature_names_out(names)
        for j, output in enumerate(outputs):
            per_feature[:, names.index(_source_feature(output, names))] += parts[:, j]
        unit = "log-odds"
    else:
        reference = model.manifest["reference"]
        base = _probabilities(model, X)
        for j, name in enumerate(names):
            changed = X.copy()
            value = reference.get(name)
            changed[:, j] = np.nan if value is None else value
            per_feature[:, j] = base - _probabilities(model, changed)
        unit = "probability"
    results = []
    for i in range(len(X)):
        order = np.argsort(-np.abs(per_feature[i]), kind="stable")[:top]
        results.append(
            [
                {
                    "feature": names[j],
                    "value": features.decode(names[j], float(X[i, j]), limits),
                    "contribution": round(float(per_feature[i, j]), 4),
                    "unit": unit,
                }
                for j in order
            ]
        )
    return results


def explain_items(
    db: Database, item_ids: list[int], *, top: int = 3, as_of: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Score and top reasons per item from the active model ({} without a usable one)."""
    try:
        model = load_model(db)
    except artefact.ArtefactRefused as refusal:
        log.warning("harm score off: %s", refusal)
        return {}
    if model is None or not item_ids:
        return {}
    with db.engine.connect() as connection:
        frame = rows_for(model, connection, as_of=as_of or clock.now(), item_ids=item_ids)
    scores = predict(model, frame)
    reasons = contributions(model, frame, top=top)
    return {
        int(item): {
            "harm_score": round(float(score), 6),
            "model_id": model.id,
            "suggestion": suggestion(
                float(score), model.manifest.get("threshold", SUGGEST_THRESHOLD)
            ),
            "reasons": why,
        }
        for item, score, why in zip(frame["item_id"], scores, reasons, strict=True)
    }
