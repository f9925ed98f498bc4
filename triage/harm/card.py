"""The model card: one Markdown page saying what a harm-score model is and is not.

Written beside each artefact at training time and exportable with
``triage model card --out FILE``. Sections follow the model-card idea
(purpose, data, features, metrics, fairness, limits, owner) plus the facts an
Algorithmic Transparency Recording Standard (ATRS) record asks for.
"""

from __future__ import annotations

from typing import Any

from triage.harm import features


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _metrics_table(evaluation: dict[str, Any]) -> list[str]:
    lines = [
        "| Predictor | ROC AUC | Average precision | Brier (lower is better) |",
        "|---|---|---|---|",
    ]
    rows = [("Harm score (this model)", evaluation.get("model"))]
    baseline = evaluation.get("rules_baseline")
    if baseline:
        rows.append((f"Rules only (bucket harm rate, from {baseline.get('source')})", baseline))
    constant = evaluation.get("constant") or {}
    rows.append((f"Constant (training base rate {_fmt(constant.get('value'))})", constant))
    for label, metrics in rows:
        metrics = metrics or {}
        lines.append(
            f"| {label} | {_fmt(metrics.get('roc_auc'))} | "
            f"{_fmt(metrics.get('average_precision'))} | {_fmt(metrics.get('brier'))} |"
        )
    return lines


def _fairness_tables(evaluation: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for attribute, rows in (evaluation.get("fairness") or {}).items():
        lines += [
            "",
            f"**By {attribute}** (held-out period; 95% bootstrap intervals)",
            "",
            "| Group | Rows | Harm rate | Mean score | ROC AUC (95% CI) | Brier (95% CI) |",
            "|---|---|---|---|---|---|",
        ]
        for row in rows:
            lines.append(
                f"| {row['group']} | {row['count']} | {_fmt(row.get('positive_rate'))} | "
                f"{_fmt(row.get('mean_score'))} | {_fmt(row.get('roc_auc'))} "
                f"{_fmt(row.get('roc_auc_ci'))} | {_fmt(row.get('brier'))} "
                f"{_fmt(row.get('brier_ci'))} |"
            )
    return lines


def markdown(manifest: dict[str, Any], evaluation: dict[str, Any]) -> str:
    """The model card of a registered model, as Markdown."""
    training = manifest.get("training", {})
    held_out = manifest.get("held_out", {})
    spec = manifest.get("features", {})
    feature_names = list(spec.get("numeric", [])) + list(spec.get("categorical", []))
    candidates = evaluation.get("candidates") or {}
    chosen = manifest.get("classifier")
    lines = [
        f"# Model card: Triage harm score `{manifest.get('id')}`",
        "",
        "## Purpose",
        "Advice for ICE team leaders at tasking meetings: the calibrated probability that an "
        "intelligence item, if accepted as a task, leads to a result showing harm (arrest, "
        "removal or safeguarding referral). It is shown beside the rules bucket and score, "
        "never instead of them, with the features that moved it most for that item. It is off "
        "until a team leader activates it; its weight in the queue order is a setting "
        "(default 0, display only), and it can be hidden until a decision is recorded.",
        "",
        "## Target",
        manifest.get("target", ""),
        "",
        "## Data window",
        f"- Training period: meeting dates {training.get('from')} to {training.get('to')}, "
        f"{training.get('rows')} accepted outcomes with a result, {training.get('positives')} "
        "showing harm.",
        f"- Held-out evaluation period: {held_out.get('from')} to {held_out.get('to')}, "
        f"{held_out.get('rows')} outcomes (the latest ~25% of the history; never seen in "
        "training).",
        f"- Training data SHA-256: `{training.get('data_sha256')}`",
        "",
        "## Model",
        f"- Classifier: {chosen} in a scikit-learn `Pipeline` (`ColumnTransformer` + "
        "`CalibratedClassifierCV`, sigmoid, 3 folds).",
        "- Chosen by measurement on the last 20% of the training period (validation ROC AUC): "
        + (", ".join(f"{k} {_fmt(v)}" for k, v in candidates.items()) or "fixed by the user")
        + ".",
        f"- Suggestion: accept when the score is at least {manifest.get('threshold')}, the "
        "training harm rate (at least as likely to find harm as the average accepted task).",
        f"- Artefact SHA-256: `{manifest.get('sha256')}`; library versions: "
        + ", ".join(f"{k} {v}" for k, v in (manifest.get("versions") or {}).items())
        + ".",
        "",
        "## Features",
        ", ".join(f"`{name}`" for name in feature_names) + ".",
        "",
        "Never features (refused in code by name): "
        + ", ".join(sorted(features.PROTECTED_ATTRIBUTES))
        + ". Nationality and gender are read "
        "only to report the fairness table below.",
        "",
        "## Metrics (held-out period)",
        "",
        *_metrics_table(evaluation),
        "",
        "Reliability (quantile bins): "
        + "; ".join(
            f"predicted {_fmt(b['mean_predicted'])} -> observed {_fmt(b['observed'])} "
            f"(n={b['count']})"
            for b in evaluation.get("reliability", [])
        )
        + ".",
        "",
        "## Fairness",
        "Groups with fewer than 30 held-out rows are pooled as `other`; `unknown` means not "
        "recorded (gender is known only for items linked to an EM case).",
        *_fairness_tables(evaluation),
        "",
        "## Limits",
        *[f"- {warning}" for warning in evaluation.get("warnings", [])],
        "- Results are recorded only for accepted tasks; 'no harm found' can mean the task was "
        "never actioned well, not that there was no harm.",
        "- Harm here is the result recorded in Triage; the Department has no single definition "
        "of harm (NAO 2020, para 1.19).",
        "- Trained on one database's history: retrain when rules, teams or recording practice "
        "change, and compare with the rules baseline before activating.",
        "",
        "## Owner",
        f"Trained by {manifest.get('created_by')} on {manifest.get('created_at')}. The owner is "
        "the ICE team leader or analyst who activates it; they answer for its use.",
        "",
        "## Algorithmic Transparency Recording Standard facts",
        "- **Name**: Triage harm score (optional). **Organisation**: Home Office, Immigration "
        "Enforcement (ICE teams).",
        "- **What it does**: estimates the chance that an accepted intelligence task finds harm, "
        "to help order work within the rules buckets.",
        "- **Decision-making and human oversight**: advisory only. The team leader decides every "
        "item; the rules bucket fixes the queue order and the score can only re-order within a "
        "bucket when its weight setting is above 0. Decisions and the score shown are recorded, "
        "and statistics report how often decisions agree with the model's suggestion.",
        "- **Data**: Triage's own intelligence items and tasking outcomes (source, grading, "
        "whereabouts, harm flags, allegation, sector, persons, corroboration, timeliness). No "
        "protected characteristics.",
        "- **Technical**: scikit-learn, trained locally, no data leaves the machine; artefacts "
        "load only when their SHA-256 and library versions match the registered manifest.",
        "- **Risks and mitigations**: selection bias (see Limits); automation bias (score hidden "
        "until decided by default, weight 0 by default); drift (held-out metrics and "
        "reliability shown; retrain and re-evaluate); indirect discrimination (fairness table "
        "by nationality and gender with confidence intervals).",
        "- **Impact assessments**: a DPIA and equality impact assessment are needed before "
        "operational use; this card supplies their model facts.",
        "",
    ]
    return "\n".join(lines)
