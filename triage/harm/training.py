"""Training a harm-score model from the database's own tasking history.

Time-based split: outcomes are ordered by meeting date and the latest ~25% of
the period is held out for evaluation; nothing from it is seen in training.
Within the training period, the last 20% of dates choose the classifier by
measurement (ROC AUC of logistic regression vs histogram gradient boosting;
logistic regression wins ties within 0.005 because it is simpler to explain).
The chosen pipeline, ``ColumnTransformer`` + ``CalibratedClassifierCV``
(sigmoid, 3 folds, one final estimator), is then fitted on the whole training
period, evaluated on the held-out period, written with its manifest and
registered. Nothing is activated unless asked.

Two steps, so the app's single writer thread is busy for a moment, not for
the whole fit: ``fit`` only reads the database (plain SELECTs, no temporary
tables) and writes the artefact folder; ``register`` stores the registry row
and its audit entry in one short transaction. ``train`` runs both (the CLI).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from triage import clock
from triage.harm import artefact, card, evaluation, features, registry
from triage.jobs import Job, job_or_silent
from triage.store import audit
from triage.store.db import Database
from triage.users import Action, Actor, require

CLASSIFIERS = ("logistic", "hgb")
TEST_SHARE = 0.25
SELECTION_SHARE = 0.20
MIN_ROWS = 200
# Without a model's own threshold: suggest "accept" at an even chance of harm.
# Each model stores its own (the training harm rate, see _fit).
SUGGEST_THRESHOLD = 0.5
# How the stored pipelines read their input: one float matrix, the spec's
# columns by position. Models trained before (Triage with pandas) read named
# DataFrame columns; their manifests lack this and they are refused on load.
PIPELINE_INPUT = "matrix-by-position"
# The training-data hash (manifest "data_sha256"): version 2 hashes each
# column's values (``data_hash``); version 1 was pandas' row hashing.
DATA_HASH_VERSION = 2
TARGET_DEFINITION = (
    "An accepted tasking item whose recorded result showed harm: arrest, removal or "
    "safeguarding referral (result in arrest, removal, referral). Training rows are accepted "
    "items with a recorded result; no_trace, encountered_no_action and other count as no harm."
)


class TrainingError(Exception):
    """Training could not be done on this database, and why."""


@dataclass
class FittedModel:
    """A model fitted, evaluated and written to its own folder, not yet registered."""

    model_id: str
    path: Path
    classifier: str
    evaluation: dict[str, Any]
    manifest: dict[str, Any]
    created_by: str
    created_at: datetime
    started: float  # perf_counter() when fitting began: TrainResult.seconds spans both steps


@dataclass
class TrainResult:
    model_id: str
    path: Path
    sha256: str
    classifier: str
    evaluation: dict[str, Any]
    manifest: dict[str, Any]
    seconds: float
    active: bool


def build_pipeline(kind: str, spec: features.FeatureSpec, random_state: int = 0) -> Pipeline:
    """Unfitted pipeline for ``kind`` ('logistic' or 'hgb') over ``spec``'s columns,
    given as one matrix (``Table.matrix(spec.names)``): numeric columns first,
    then categorical codes, addressed by position."""
    features.check_features(spec.names)
    numeric = list(range(len(spec.numeric)))
    categorical = list(range(len(spec.numeric), len(spec.names)))
    if kind == "logistic":
        prep = ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(
                        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                    ),
                    numeric,
                ),
                (
                    "cat",
                    OneHotEncoder(handle_unknown="ignore"),
                    categorical,
                ),
            ],
            sparse_threshold=1.0,  # sparse one-hot: a million rows stay small
        )
        model = LogisticRegression(C=1.0, max_iter=1000)
    elif kind == "hgb":
        prep = ColumnTransformer(
            [
                ("num", "passthrough", numeric),
                ("cat", "passthrough", categorical),
            ]
        )
        # Categories arrive as training codes 0..n (see features.encode).
        cat_index = list(range(len(numeric), len(numeric) + len(categorical)))  # after "num"
        model = HistGradientBoostingClassifier(
            max_iter=150,
            learning_rate=0.1,
            categorical_features=cat_index,
            early_stopping=True,
            random_state=random_state,
        )
    else:
        raise ValueError(f"unknown classifier {kind!r}: choose from {', '.join(CLASSIFIERS)}")
    return Pipeline([("features", prep), ("classifier", model)])


def calibrated(kind: str, spec: features.FeatureSpec) -> Pipeline:
    """``build_pipeline`` with the classifier wrapped in sigmoid calibration."""
    pipeline = build_pipeline(kind, spec)
    classifier = pipeline.steps[-1][1]
    pipeline.steps[-1] = (
        "classifier",
        CalibratedClassifierCV(classifier, method="sigmoid", cv=3, ensemble=False),
    )
    return pipeline


def time_split(dates: np.ndarray, share: float) -> np.ndarray:
    """Boolean mask of the latest ``share`` of rows by date, never splitting a date."""
    ordered = np.sort(dates)
    cutoff = ordered[min(len(ordered) - 1, int(len(ordered) * (1 - share)))]
    late: np.ndarray = dates >= cutoff
    if late.all():  # one date holds the cut: hold out strictly later dates instead
        late = dates > cutoff
    return late


def data_hash(frame: features.Table, columns: list[str]) -> str:
    """SHA-256 of the named columns' values, in row order (``DATA_HASH_VERSION``):
    numbers as float64 bytes (NaN for none), anything else as UTF-8 text."""
    digest = hashlib.sha256(",".join(columns).encode())
    for column in columns:
        values = frame[column]
        if values.dtype.kind in "biuf":
            digest.update(values.astype(np.float64).tobytes())
        else:
            digest.update("\x1f".join(str(v) for v in values).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def reference_values(frame: features.Table, spec: features.FeatureSpec) -> dict[str, Any]:
    """Training medians (numeric) and most common codes (categorical, the
    smallest code on a tie), for explanations."""
    values: dict[str, Any] = {}
    for column in spec.numeric:
        known = frame[column][~np.isnan(frame[column])]
        values[column] = float(np.median(known)) if len(known) else None
    for column in spec.categorical:
        codes, counts = np.unique(frame[column], return_counts=True)
        values[column] = float(codes[np.argmax(counts)])
    return values


def train(
    db: Database,
    *,
    actor: Actor,
    activate: bool = False,
    job: Job | None = None,
    **options: Any,
) -> TrainResult:
    """Fit, evaluate, store and register a model (``fit`` then ``register``)."""
    job = job_or_silent(job)
    fitted = fit(db, actor=actor, job=job.part(0.0, 0.95), **options)
    return register(db, fitted, actor=actor, activate=activate, job=job.part(0.95, 1.0))


def fit(db: Database, **options: Any) -> FittedModel:
    """Fit and evaluate a model and write its folder, without writing to the
    database (see ``_fit`` for options); ``register`` stores it.

    Runs on one CPU thread: the app fits on a reader thread while the UI
    stays responsive, and on a shared machine OpenMP threads contending for
    busy cores made gradient boosting many times slower, not faster.
    """
    with threadpool_limits(limits=1):
        return _fit(db, **options)


def _fit(
    db: Database,
    *,
    classifier: str = "auto",
    job: Job | None = None,
    actor: Actor,
    n_boot: int = 200,
) -> FittedModel:
    """The training steps of the module docstring, up to the artefact files
    (a cancel raises ``Cancelled`` before any file is written)."""
    require(db, actor, Action.MODEL)
    started = time.perf_counter()
    job = job_or_silent(job)
    report = job.progress
    if classifier not in ("auto",) + CLASSIFIERS:
        raise TrainingError(f"unknown classifier {classifier!r}: auto, logistic or hgb")
    report(0.02, "Reading accepted outcomes with results")
    with db.engine.connect() as connection:
        frame = features.training_frame(connection)
        ranked = features.has_ranking(connection)
    spec = features.default_spec(with_bucket=ranked)
    if len(frame) < MIN_ROWS:
        raise TrainingError(
            f"only {len(frame)} accepted outcomes have a result; at least {MIN_ROWS} are needed "
            "(import outcomes.csv with the result column filled)"
        )
    test = time_split(frame["meeting_date"], TEST_SHARE)
    train_rows, test_rows = frame.rows(~test), frame.rows(test)
    for name, rows in (("training", train_rows), ("held-out", test_rows)):
        if len(np.unique(rows["target"])) < 2 or len(rows) < MIN_ROWS // 4:
            raise TrainingError(
                f"the {name} period ({len(rows)} outcomes) needs both harm and no-harm results; "
                "more history with results is needed"
            )
    job.check("training cancelled")
    limits = features.fit_limits(train_rows, spec)
    train_rows = features.encode(train_rows, spec, limits)
    test_rows = features.encode(test_rows, spec, limits)
    reference = reference_values(train_rows, spec)

    candidates: dict[str, float | None] = {}
    kinds = CLASSIFIERS if classifier == "auto" else (classifier,)
    if len(kinds) > 1:
        inner = time_split(train_rows["meeting_date"], SELECTION_SHARE)
        fit_rows, val_rows = train_rows.rows(~inner), train_rows.rows(inner)
        for i, kind in enumerate(kinds):
            report(0.10 + 0.25 * i, f"Measuring {kind} on the last part of the training period")
            if len(np.unique(fit_rows["target"])) < 2 or len(np.unique(val_rows["target"])) < 2:
                candidates[kind] = None
                continue
            pipeline = build_pipeline(kind, spec).fit(
                fit_rows.matrix(spec.names), fit_rows["target"]
            )
            probability = pipeline.predict_proba(val_rows.matrix(spec.names))[:, 1]
            candidates[kind] = round(float(roc_auc_score(val_rows["target"], probability)), 4)
            job.check("training cancelled")
        measured = {k: v for k, v in candidates.items() if v is not None}
        chosen = "logistic"
        if (
            measured.get("hgb") is not None
            and measured["hgb"] > measured.get("logistic", 0) + 0.005
        ):
            chosen = "hgb"
    else:
        chosen = kinds[0]

    report(0.60, f"Fitting calibrated {chosen} on the training period")
    model = calibrated(chosen, spec).fit(train_rows.matrix(spec.names), train_rows["target"])
    job.check("training cancelled")

    report(0.80, "Evaluating on the held-out period")
    probability = model.predict_proba(test_rows.matrix(spec.names))[:, 1]
    baseline, baseline_source = _rules_baseline(train_rows, test_rows, ranked)
    with db.engine.connect() as connection:
        groups = features.group_labels(connection, test_rows["item_id"].tolist())
    train_rate = float(train_rows["target"].mean())
    result = evaluation.report(
        test_rows["target"],
        probability,
        train_rate=train_rate,
        baseline=baseline,
        baseline_source=baseline_source,
        groups=groups,
        n_boot=n_boot,
    )
    result["candidates"] = candidates
    result["classifier"] = chosen
    job.check("training cancelled")

    report(0.92, "Writing the artefact and its manifest")
    who = actor.name
    now = clock.now()
    digest = data_hash(frame, spec.names + ["target", "outcome_id"])
    manifest = {
        "format": "joblib",
        "pipeline_input": PIPELINE_INPUT,
        "classifier": chosen,
        "features": spec.to_json(),
        "reference": reference,
        "limits": limits,
        "target": TARGET_DEFINITION,
        # Suggest "accept" when an item is at least as likely to find harm as
        # the average accepted task was (harm is rare: 0.5 would mean never).
        "threshold": round(train_rate, 4),
        "training": {
            "rows": int(len(train_rows)),
            "positives": int(train_rows["target"].sum()),
            "from": _day(train_rows["meeting_date"].min()),
            "to": _day(train_rows["meeting_date"].max()),
            "data_sha256": digest,
            "data_hash_version": DATA_HASH_VERSION,
            "all_rows": int(len(frame)),
        },
        "held_out": {
            "rows": int(len(test_rows)),
            "from": _day(test_rows["meeting_date"].min()),
            "to": _day(test_rows["meeting_date"].max()),
        },
        "created_by": who,
        "created_at": now.isoformat(),
    }
    # A read session: looking up free ids takes no write lock.
    with db.sessions() as session:
        folder = _claim_folder(session, now, digest)
    model_id = folder.name
    manifest["id"] = model_id
    try:
        path, manifest = artefact.write(folder, model, manifest)
        (folder / "model_card.md").write_text(card.markdown(manifest, result), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FittedModel(model_id, path, chosen, result, manifest, who, now, started)


def register(
    db: Database,
    fitted: FittedModel,
    *,
    actor: Actor,
    activate: bool = False,
    job: Job | None = None,
) -> TrainResult:
    """Store a fitted model in the registry (inactive unless ``activate``), audited,
    with its file's bytes (``harm_model_file``) so that other machines can load it.

    One short transaction: this is all of training that needs the writer.
    """
    require(db, actor, Action.MODEL)
    report = job_or_silent(job).progress
    manifest = fitted.manifest
    try:
        with db.transaction() as session:
            session.add(
                registry.HarmModel(
                    id=fitted.model_id,
                    path=str(fitted.path),
                    sha256=manifest["sha256"],
                    classifier=fitted.classifier,
                    manifest=manifest,
                    evaluation=fitted.evaluation,
                    created_by=fitted.created_by,
                    created_at=fitted.created_at,
                    active=False,
                )
            )
            session.flush()
            # The bytes too, so another client of this database can load it.
            data = fitted.path.read_bytes()
            if artefact.sha256_bytes(data) != manifest["sha256"]:
                raise artefact.ArtefactRefused(
                    f"model file {fitted.path} changed between training and registering"
                )
            session.add(registry.HarmModelFile(model_id=fitted.model_id, content=data))
            audit.record(
                session,
                "model_train",
                "harm_model",
                fitted.model_id,
                "sha256",
                None,
                manifest["sha256"],
                who=actor.name,
            )
            if activate:
                registry.set_active(session, fitted.model_id, actor)
    except BaseException:
        discard(fitted)  # never loaded unregistered: the folder would only take space
        raise
    report(1.0, f"Trained {fitted.model_id}")
    return TrainResult(
        fitted.model_id,
        fitted.path,
        manifest["sha256"],
        fitted.classifier,
        fitted.evaluation,
        manifest,
        time.perf_counter() - fitted.started,
        activate,
    )


def discard(fitted: FittedModel) -> None:
    """Remove the folder of a fitted model that will not be registered."""
    shutil.rmtree(fitted.path.parent, ignore_errors=True)


def _rules_baseline(
    train_rows: features.Table, test_rows: features.Table, ranked: bool
) -> tuple[np.ndarray | None, str | None]:
    """The rules-only predictor: bucket harm rates from the ranking if computed
    (ties within a bucket broken by the rules score), else the upstream bucket."""
    for column, source in (
        ("rank_bucket", "intel_rank bucket and score"),
        ("upstream_bucket", "intel_item.bucket (upstream)"),
    ):
        if column == "rank_bucket" and not ranked:
            continue
        if np.mean([value is not None for value in train_rows[column]]) < 0.5:
            continue
        baseline = evaluation.bucket_baseline(
            np.array([str(v) for v in train_rows[column]], dtype=object),
            train_rows["target"],
            np.array([str(v) for v in test_rows[column]], dtype=object),
        )
        if column == "rank_bucket":
            # Order within a bucket as the queue does (higher score first),
            # moving no probability by more than 0.0001: the score's
            # percentile rank (ties share their average rank; none is 0).
            score = features.floats(test_rows["rank_score"])
            known = ~np.isnan(score)
            percentile = np.zeros(len(score))
            percentile[known] = rankdata(score[known]) / known.sum()
            baseline = baseline + 1e-4 * percentile
        return baseline, source
    return None, None


def _day(value: np.datetime64) -> str:
    return str(value.astype("datetime64[D]"))


def _claim_folder(session: Session, now: datetime, digest: str) -> Path:
    """A new model id's folder, made here: ``mkdir`` fails if another training
    (this app or a CLI) took the name first, so no two share a folder."""
    base = f"{now:%Y%m%d-%H%M%S}-{digest[:6]}"
    candidate, n = base, 1
    while True:
        if session.get(registry.HarmModel, candidate) is None:
            folder = artefact.models_dir() / candidate
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                pass
        n += 1
        candidate = f"{base}-{n}"
