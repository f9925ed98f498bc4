"""Measuring a harm score on the held-out period, overall and by group.

Metrics: ROC AUC (ranking), average precision (ranking, positive-weighted),
Brier score (calibration and sharpness; lower is better) and a reliability
curve, each for the model, the rules-only baseline and a constant predictor
(the training base rate). Fairness: the same metrics by nationality group and
by gender, each group's rows picked with a numpy mask (fairlearn's
``MetricFrame`` did this before; it needs pandas, which the packaged app no
longer ships), with bootstrap 95% confidence intervals computed here in
vectorised numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
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
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, *, n_boot: int = 200, seed: int = 0
) -> list[dict[str, Any]]:
    """Metrics per group with bootstrap intervals, largest group first.

    Per group: rows, harm results, harm rate, mean score, ROC AUC, average
    precision and Brier (None where a metric is undefined, e.g. ROC AUC of a
    group with one class). Groups are visited in sorted order, so the
    bootstrap draws (one generator from ``seed``) are reproducible.
    """
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    # Each row's group as text, and its group's index in sorted order.
    names, of_row = np.unique([str(label) for label in groups], return_inverse=True)
    rng = np.random.default_rng(seed)
    rows = []
    for index, group in enumerate(names.tolist()):
        mask = of_row == index
        y_group, p_group = y[mask], p[mask]
        row: dict[str, Any] = {
            "group": group,
            "count": int(mask.sum()),
            "positives": int(y_group.sum()),
            "positive_rate": round(float(y_group.mean()), 4),
            "mean_score": round(float(p_group.mean()), 4),
        }
        metrics = scores(y_group, p_group)
        for name in ("roc_auc", "average_precision", "brier"):
            value = metrics[name]
            row[name] = None if value is None else round(value, 4)
        row.update(_bootstrap(y_group, p_group, n_boot, rng))
        rows.append(row)
    rows.sort(key=lambda r: (-r["count"], r["group"]))
    return rows


def bucket_baseline(
    train_buckets: np.ndarray, train_y: np.ndarray, test_buckets: np.ndarray
) -> np.ndarray:
    """The rules-only predictor: each bucket's harm rate in the training period.

    Buckets order the queue, so their training rates turn the rules ranking
    into probabilities comparable by Brier score; rates are smoothed towards
    the overall rate (5 pseudo-rows) so a thin bucket cannot claim 0 or 1.
    """
    train_y = np.asarray(train_y, dtype=float)
    overall = float(np.mean(train_y)) if len(train_y) else 0.0
    harm: dict[Any, float] = {}
    rows: dict[Any, int] = {}
    for bucket, value in zip(train_buckets.tolist(), train_y.tolist(), strict=True):
        harm[bucket] = harm.get(bucket, 0.0) + value
        rows[bucket] = rows.get(bucket, 0) + 1
    rates = {bucket: (harm[bucket] + 5 * overall) / (rows[bucket] + 5) for bucket in rows}
    return np.array([rates.get(bucket, overall) for bucket in test_buckets.tolist()], dtype=float)


def report(
    y: np.ndarray,
    p: np.ndarray,
    *,
    train_rate: float,
    baseline: np.ndarray | None,
    baseline_source: str | None,
    groups: dict[str, np.ndarray] | None,
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
        for column, labels in groups.items():
            result["fairness"][column] = by_group(y, p, labels, n_boot=n_boot)
            known = labels != "unknown"
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
