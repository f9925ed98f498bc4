"""CLI: the optional harm-score model (``triage model ...``).

``train`` fits, evaluates and registers a model (inactive unless
``--activate``); ``evaluate`` shows the held-out evaluation stored with a
model; ``card`` prints or writes its model card; ``list`` shows the registry;
``activate ID`` (only after the artefact verifies) and ``deactivate`` switch
the score on and off. Every command takes ``--json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from triage.cli.common import (
    acting_user,
    add_format,
    database,
    model_weight,
    moment_text,
    print_done,
    print_json,
    print_rows,
)
from triage.cli.main import Groups, Subcommands, UsageError
from triage.cli.progress import terminal_job

if TYPE_CHECKING:  # the harm modules load only when a model command runs
    from triage.harm.registry import HarmModel


def register(top: Subcommands, groups: Groups) -> None:
    model = top.add_parser("model", help="the optional harm-score model")
    sub = model.add_subparsers(dest="action", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train, evaluate and register a model from outcomes")
    train.add_argument(
        "--classifier",
        choices=("auto", "logistic", "hgb"),
        default="auto",
        help="auto (default) measures both and keeps the better",
    )
    train.add_argument("--activate", action="store_true", help="activate it when trained")
    train.add_argument(
        "--bootstrap",
        type=int,
        default=200,
        metavar="N",
        help="bootstrap resamples for the fairness intervals (default 200)",
    )
    train.set_defaults(handler=_train)

    evaluate = sub.add_parser("evaluate", help="held-out evaluation of a model")
    evaluate.add_argument("id", nargs="?", help="model id (default: active, else newest)")
    evaluate.set_defaults(handler=_evaluate)

    card = sub.add_parser("card", help="the model card (Markdown)")
    card.add_argument("id", nargs="?", help="model id (default: active, else newest)")
    card.add_argument("--out", help="write the card to this file")
    card.set_defaults(handler=_card)

    listing = sub.add_parser("list", help="registered models")
    listing.set_defaults(handler=_list)

    activate = sub.add_parser("activate", help="use this model for the harm score")
    activate.add_argument("id")
    activate.set_defaults(handler=_activate)

    deactivate = sub.add_parser("deactivate", help="turn the harm score off")
    deactivate.set_defaults(handler=_deactivate)

    for parser in (train, evaluate, card, listing, activate, deactivate):
        add_format(parser)


def _pick(session: Session, model_id: str | None) -> HarmModel:
    from triage.harm import registry

    try:
        row = registry.get(session, model_id) if model_id else None
    except LookupError as error:
        raise UsageError(str(error)) from None
    row = row or registry.active_model(session) or registry.latest(session)
    if row is None:
        raise UsageError("no model is registered yet: run `triage model train`")
    return row


def _train(args: argparse.Namespace) -> int:
    from triage.harm import training

    db = database(args)

    try:
        with terminal_job(args) as job:
            result = training.train(
                db,
                actor=acting_user(args, db),
                classifier=args.classifier,
                activate=args.activate,
                job=job,
                n_boot=args.bootstrap,
            )
    except training.TrainingError as error:
        raise UsageError(f"cannot train: {error}") from None
    ev = result.evaluation
    summary = {
        "id": result.model_id,
        "classifier": result.classifier,
        "path": str(result.path),
        "sha256": result.sha256,
        "active": result.active,
        "seconds": round(result.seconds, 2),
        "training_rows": result.manifest["training"]["rows"],
        "held_out_rows": result.manifest["held_out"]["rows"],
        "roc_auc": ev["roc_auc"],
        "average_precision": ev["average_precision"],
        "brier": ev["brier"],
        "constant_brier": ev["constant"]["brier"],
        "rules_baseline": ev["rules_baseline"],
        "candidates": ev["candidates"],
        "warnings": ev["warnings"],
    }
    if args.format == "json":
        print_json(summary)
    else:
        print(
            f"Trained {result.model_id} ({result.classifier}) in {result.seconds:.1f} s; "
            f"{'active' if result.active else 'not active: `triage model activate ID`'}"
        )
        _print_metrics(ev)
    return 0


def _print_metrics(ev: dict[str, Any]) -> None:
    rows = [{"predictor": "model", **ev["model"]}]
    if ev.get("rules_baseline"):
        rows.append(
            {"predictor": f"rules ({ev['rules_baseline']['source']})", **ev["rules_baseline"]}
        )
    rows.append({"predictor": "constant", **ev["constant"]})
    print_rows(rows, "table", ["predictor", "roc_auc", "average_precision", "brier"])
    for warning in ev.get("warnings", []):
        print(f"warning: {warning}")


def _evaluate(args: argparse.Namespace) -> int:
    db = database(args)
    with db.transaction() as session:
        row = _pick(session, args.id)
        model_id, ev, manifest = row.id, dict(row.evaluation), dict(row.manifest)
    if args.format == "json":
        print_json(
            {
                "id": model_id,
                "held_out": manifest.get("held_out"),
                "training": manifest.get("training"),
                **ev,
            }
        )
        return 0
    held = manifest.get("held_out", {})
    print(
        f"Model {model_id}: held-out period {held.get('from')} to {held.get('to')}, "
        f"{ev['rows']} outcomes, harm rate {ev['positive_rate']}"
    )
    _print_metrics(ev)
    for attribute, groups in ev.get("fairness", {}).items():
        print(f"\nBy {attribute}:")
        print_rows(
            groups,
            "table",
            [
                "group",
                "count",
                "positive_rate",
                "mean_score",
                "roc_auc",
                "roc_auc_ci",
                "brier",
                "brier_ci",
            ],
        )
    return 0


def _card(args: argparse.Namespace) -> int:
    from triage.harm import card

    db = database(args)
    with db.transaction() as session:
        row = _pick(session, args.id)
        text = card.markdown(dict(row.manifest), dict(row.evaluation))
        model_id = row.id
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"{args.out}: cannot write it ({error.strerror})") from None
    if args.format == "json":
        print_json({"id": model_id, "out": args.out, "markdown": text})
    elif not args.out:
        print(text)
    else:
        print(f"Wrote the model card of {model_id} to {args.out}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from triage.harm import registry

    db = database(args)
    with db.transaction() as session:
        rows = [
            {
                "id": m.id,
                "active": m.active,
                "classifier": m.classifier,
                "created_at": moment_text(m.created_at),
                "created_by": m.created_by,
                "training_rows": m.manifest.get("training", {}).get("rows"),
                "roc_auc": m.evaluation.get("roc_auc"),
                "brier": m.evaluation.get("brier"),
                "sha256": m.sha256,
                "path": m.path,
            }
            for m in registry.all_models(session)
        ]
    if args.format == "json":
        print_json(rows)
    elif rows:
        short = [{**r, "sha256": r["sha256"][:12]} for r in rows]
        print_rows(short, "table", wide=args.wide)
    else:
        print("No models registered: `triage model train` makes one.")
    return 0


def _activate(args: argparse.Namespace) -> int:
    from triage.harm import artefact, registry, scoring
    from triage.intel import ranking

    db = database(args)
    try:
        scoring.load_model(db, args.id)  # refuse now rather than at the next ranking
    except LookupError as error:
        raise UsageError(str(error)) from None
    except artefact.ArtefactRefused as refusal:
        raise UsageError(f"not activated: {refusal}") from None
    with db.transaction() as session:
        previous = registry.set_active(session, args.id, acting_user(args, db))
    if previous != args.id:
        # The previous model's scores go, until the next re-rank.
        ranking.clear_harm_scores(db, model_weight=model_weight())
    weight = model_weight()
    print_done(
        args,
        f"Model {args.id} is active (ranking weight {weight}; re-rank to fill scores).",
        {"active": args.id, "previous": previous, "model_weight": weight},
    )
    return 0


def _deactivate(args: argparse.Namespace) -> int:
    from triage.harm import registry
    from triage.intel import ranking

    db = database(args)
    with db.transaction() as session:
        previous = registry.set_active(session, None, acting_user(args, db))
    ranking.clear_harm_scores(db, model_weight=model_weight())
    print_done(
        args,
        f"Harm score off (was {previous or 'already off'}).",
        {"active": None, "previous": previous},
    )
    return 0
