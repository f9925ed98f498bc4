"""Measuring a harm score on the held-out period, overall and by group.

Metrics: ROC AUC (ranking), average precision (ranking, positive-weighted),
Brier score (calibration and sharpness; lower is better) and a reliability
curve, each for the model, the rules-only baseline and a constant predictor
(the training base rate). Fairness: the same metrics by nationality group and
by gender through fairlearn's ``MetricFrame``, with bootstrap 95% confidence
intervals computed here in vectorised numpy (fairlearn's own bootstrap
re-runs pandas group-bys and takes about a minute on 50,000 rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

SELECTION_BIAS_WARNING = (
    "Selection bias: the model learns only from items a team leader accepted and whose result "
    "was recorded. Rejected and undiscussed items have no outcome, so scores for the kinds of "
    "item teams rarely accept are extrapolation, and past tasking choices (where teams looked) "
    "shape what counts as 'harm found'. Use the score as advice beside the rules, never as a "
    "reason on its own."
)


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None


def _ap(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(average_precision_score(y, p)) if y.sum() > 0 else None


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """ROC AUC, average precision and Brier of probabilities ``p`` for labels ``y``."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    return {
        "roc_auc": _auc(y, p),
        "average_precision": _ap(y, p),
        "brier": float(brier_score_loss(y, p, pos_label=1)) if len(y) else None,
    }


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Reliability curve on quantile bins: mean predicted vs observed rate, with counts."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    if len(y) == 0:
        return []
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    rows = []
    for b in np.unique(which):
        mask = which == b
        rows.append(
            {
                "mean_predicted": round(float(p[mask].mean()), 4),
                "observed": round(float(y[mask].mean()), 4),
                "count": int(mask.sum()),
            }
        )
    return rows


def _bootstrap(
    y: np.ndarray, p: np.ndarray, n_boot: int, rng: np.random.Generator
) -> dict[str, Any]:
    """95% percentile intervals of ROC AUC, Brier and base rate.

    A resample is a vector of multiplicities (how often each row was drawn),
    so every resample reuses one sort of the scores: ROC AUC is the weighted
    share of (harm, no-harm) pairs ordered correctly, ties counting half,
    summed over groups of equal score. No per-resample sorting.
    """
    n = len(y)
    if n == 0 or n_boot == 0:
        return {}
    draws = rng.integers(0, n, size=(n_boot, n)) + (np.arange(n_boot) * n)[:, None]
    weights = np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)
    brier = weights @ ((p - y) ** 2) / n
    positives = weights @ y
    rate = positives / n
    order = np.argsort(p, kind="stable")
    _, starts = np.unique(p[order], return_index=True)
    w = weights[:, order]
    pos = np.add.reduceat(w * y[order], starts, axis=1)
    neg = np.add.reduceat(w * (1 - y[order]), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # no-harm weight with a strictly lower score
    negatives = n - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (pos * (below + 0.5 * neg)).sum(axis=1) / (positives * negatives)
    auc = auc[np.isfinite(auc)]

    def interval(values: np.ndarray) -> list[float] | None:
        if len(values) < max(10, n_boot // 2):
            return None
        low, high = np.quantile(values, [0.025, 0.975])
        return [round(float(low), 4), round(float(high), 4)]

    return {
        "roc_auc_ci": interval(auc),
        "brier_ci": interval(brier),
        "positive_rate_ci": interval(rate),
    }


def by_group(
    y: np.ndarray, p: np.ndarray, groups: pd.Series, *, n_boot: int = 200, seed: int = 0
) -> list[dict[str, Any]]:
    """Metrics per group (fairlearn ``MetricFrame``) with bootstrap intervals.

    Counts and rates come from one pandas group-by; MetricFrame computes the
    metrics that need both labels and scores.
    """
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    labels = np.asarray(groups, dtype=object)
    frame = MetricFrame(
        metrics={
            "roc_auc": lambda t, s: _auc(np.asarray(t), np.asarray(s)),
            "average_precision": lambda t, s: _ap(np.asarray(t), np.asarray(s)),
            "brier": lambda t, s: float(brier_score_loss(t, s, pos_label=1)),
        },
        y_true=y,
        y_pred=p,
        sensitive_features=pd.Series(labels, name="group"),
    )
    simple = (
        pd.DataFrame({"group": labels, "y": y, "p": p})
        .groupby("group")
        .agg(
            count=("y", "size"),
            positives=("y", "sum"),
            positive_rate=("y", "mean"),
            mean_score=("p", "mean"),
        )
    )
    metrics = simple.join(frame.by_group)
    rng = np.random.default_rng(seed)
    rows = []
    for group, values in metrics.iterrows():
        mask = labels == group
        row: dict[str, Any] = {"group": str(group)}
        for key, value in values.items():
            name = str(key)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                row[name] = None
            elif name in ("count", "positives"):
                row[name] = int(value)
            else:
                row[name] = round(float(value), 4)
        row.update(_bootstrap(y[mask], p[mask], n_boot, rng))
        rows.append(row)
    rows.sort(key=lambda r: (-r["count"], r["group"]))
    return rows


def bucket_baseline(
    train_buckets: pd.Series, train_y: np.ndarray, test_buckets: pd.Series
) -> np.ndarray:
    """The rules-only predictor: each bucket's harm rate in the training period.

    Buckets order the queue, so their training rates turn the rules ranking
    into probabilities comparable by Brier score; rates are smoothed towards
    the overall rate (5 pseudo-rows) so a thin bucket cannot claim 0 or 1.
    """
    overall = float(np.mean(train_y)) if len(train_y) else 0.0
    frame = pd.DataFrame({"bucket": train_buckets.to_numpy(), "y": train_y})
    stats = frame.groupby("bucket", dropna=False)["y"].agg(["sum", "count"])
    rates = (stats["sum"] + 5 * overall) / (stats["count"] + 5)
    return test_buckets.map(rates).fillna(overall).to_numpy(dtype=float)


def report(
    y: np.ndarray,
    p: np.ndarray,
    *,
    train_rate: float,
    baseline: np.ndarray | None,
    baseline_source: str | None,
    groups: pd.DataFrame | None,
    n_boot: int = 200,
) -> dict[str, Any]:
    """The held-out evaluation stored with a model and shown by ``model evaluate``."""
    y = np.asarray(y, dtype=int)
    model = scores(y, p)
    constant = scores(y, np.full(len(y), train_rate))
    result: dict[str, Any] = {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "positive_rate": round(float(y.mean()), 4) if len(y) else None,
        **model,
        "model": model,
        "constant": {**constant, "value": round(train_rate, 4)},
        "rules_baseline": None,
        "reliability": reliability(y, p),
        "fairness": {},
        "warnings": [SELECTION_BIAS_WARNING],
    }
    if baseline is not None:
        result["rules_baseline"] = {**scores(y, baseline), "source": baseline_source}
    if groups is not None:
        for column in groups.columns:
            result["fairness"][column] = by_group(y, p, groups[column], n_boot=n_boot)
            known = groups[column] != "unknown"
            if known.mean() < 0.5:
                result["warnings"].append(
                    f"{column} is unknown for {1 - known.mean():.0%} of held-out rows: the "
                    f"{column} comparison covers only the rest."
                )
    model_brier, constant_brier = model["brier"], constant["brier"]
    if model["roc_auc"] is not None and model_brier is not None and constant_brier is not None:
        if model_brier >= constant_brier:
            result["warnings"].append(
                "The model's Brier score is no better than a constant base rate on the "
                "held-out period: do not activate it."
            )
    return result
