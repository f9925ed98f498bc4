"""Benchmark: train the harm score on 200,000 outcomes; score 1,000,000 items.

    .venv/bin/python benchmarks/bench_model.py [--items 1000000] [--outcomes 200000]

Builds a scratch database (1,000,000 items, of which 200,000 were accepted
with a recorded result, with a logistic harm signal), then times:

- ``training.train``: SQL extraction, classifier choice (logistic vs HGB),
  calibrated fit, held-out evaluation with fairness bootstrap, artefact
  write. Baseline in the same run: a ``DummyClassifier`` fit on the same rows.
- ``scoring.active_scores``: verify + load the artefact, build features for
  every item from SQL, predict. Baseline in the same run: a NumPy dot product
  of a 1,000,000 x k matrix with a weight vector (the floor for any linear
  score), plus the model's predict alone on the feature frame.

Targets (issue 7): training under 60 s, scoring under 10 s (best of three runs).
``--home DIR`` keeps the scratch database there and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from triage.users import ALL_ROLES, Actor

EVERYONE = Actor("benchmark", ALL_ROLES)


def build(path: Path, items: int, outcomes: int, seed: int = 0) -> None:
    from triage.store.db import open_database

    db = open_database(path)
    rng = np.random.default_rng(seed)
    start = datetime(2023, 1, 2)
    received = [
        start + timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 1400 * 1440, items))
    ]
    weapon = rng.random(items) < 0.12
    violence = rng.random(items) < 0.08
    exploitation = rng.random(items) < 0.06
    where = rng.choice(["known", "last_known", "unknown", None], items, p=[0.35, 0.3, 0.25, 0.1])
    grade = rng.choice([1, 2, 3], items)
    source = rng.choice(["public", "police", "partner", "internal"], items, p=[0.7, 0.1, 0.1, 0.1])
    sectors = rng.choice(
        ["construction", "care", "catering", "car_wash", "nail_bar", "retail"], items
    )
    allegation = rng.choice(
        ["illegal_working", "overstayer", "fno", "modern_slavery", "other"], items
    )
    nationality = rng.choice(["ALB", "IND", "PAK", "NGA", "VNM", "POL", "ROU", "BGD"], items)
    persons = rng.integers(0, 12, items)
    subject = rng.integers(0, items // 3, items)
    now = datetime(2026, 11, 1)
    rows = []
    for i in range(items):
        flags = [
            n
            for n, on in (
                ("exploitation", exploitation[i]),
                ("violence", violence[i]),
                ("weapon", weapon[i]),
            )
            if on
        ]
        rows.append(
            (
                i + 1,
                f"I{i:07d}",
                received[i],
                received[i] + timedelta(hours=int(persons[i] * 7)),
                "LSE",
                "T1",
                source[i],
                int(grade[i]),
                "B",
                "P",
                i % 2,
                f"S{subject[i]}",
                nationality[i],
                where[i],
                f"E{i % 5000} 1AA",
                "Shop" if i % 3 else None,
                sectors[i],
                int(persons[i]),
                allegation[i],
                (";" + ";".join(flags) + ";") if flags else None,
                "accepted" if i < outcomes else "open",
                0,
                now,
                now,
            )
        )
    logit = (
        -1.2
        + 1.6 * weapon
        + 0.9 * violence
        + 0.7 * exploitation
        + 1.0 * (where == "known")
        - 0.9 * (where == "unknown")
        - 0.5 * (grade - 2)
        + 0.08 * persons
    )
    harmful = rng.random(items) < 1 / (1 + np.exp(-logit))
    # The first `outcomes` items (the oldest) were accepted and have a result.
    results = [
        (
            i + 1,
            (received[i] + timedelta(days=int(3 + i % 30))).date().isoformat(),
            "accepted",
            received[i] + timedelta(days=int(3 + i % 30)),
            "arrest" if harmful[i] else "no_trace",
        )
        for i in range(outcomes)
    ]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.executemany(
            "INSERT INTO intel_item (id, intel_id, received_at, passed_at, region, team, "
            "source_type, grade_source, grade_intel, grade_handling, subject_named, subject_ref, "
            "nationality, whereabouts, postcode, business_name, sector, persons_estimated, "
            "allegation, harm_flags, status, carry_over_count, created_at, updated_at, "
            "received_uk_day, passed_within_48h, sector_key, harm_flag_bits, harm_codes) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [tuple(_sql(v) for v in _with_kept_values(row)) for row in rows],
        )
        cursor.executemany(
            "INSERT INTO tasking_outcome (item_id, meeting_date, decision, decided_at, result) "
            "VALUES (?,?,?,?,?)",
            [tuple(_sql(v) for v in row) for row in results],
        )
        raw.commit()
    finally:
        raw.close()
    db.close()


def _with_kept_values(row: tuple) -> tuple:
    """The row and the values every write path keeps with an item (store.item_values)."""
    from triage.store import item_values

    names = {
        "received_at": 2,
        "passed_at": 3,
        "source_type": 6,
        "grade_intel": 8,
        "grade_handling": 9,
        "subject_named": 10,
        "whereabouts": 13,
        "sector": 16,
        "allegation": 18,
        "harm_flags": 19,
    }
    kept = item_values.derived({name: _python(row[at]) for name, at in names.items()})
    return (*row, *(kept[name] for name in item_values.COLUMNS))


def _python(value):
    return value.item() if isinstance(value, np.generic) else value


def _sql(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, np.generic):
        return value.item()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=200_000)
    parser.add_argument("--classifier", default="auto", choices=("auto", "logistic", "hgb"))
    parser.add_argument("--home", help="reuse this folder's bench.sqlite if present (else build)")
    args = parser.parse_args()
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="bench-model-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["TRIAGE_HOME"] = str(home)
    os.environ.setdefault("TRIAGE_NOW", "2026-11-20T09:00:00")
    from sklearn.dummy import DummyClassifier

    from triage.harm import features, registry, scoring, training
    from triage.store.db import open_database

    path = home / "bench.sqlite"
    began = time.perf_counter()
    if not path.exists():
        build(path, args.items, args.outcomes)
    print(
        f"setup: {args.items:,} items, {args.outcomes:,} outcomes in "
        f"{time.perf_counter() - began:.1f} s (not timed)"
    )
    db = open_database(path)

    began, began_cpu = time.perf_counter(), time.process_time()
    result = training.train(db, classifier=args.classifier, actor=EVERYONE)
    train_s, train_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    with db.engine.connect() as connection:
        frame = features.training_frame(connection)
    began = time.perf_counter()
    DummyClassifier(strategy="prior").fit(
        frame.matrix(result.manifest["features"]["numeric"]), frame["target"]
    )
    dummy_s = time.perf_counter() - began
    ev = result.evaluation
    print(
        f"train ({result.classifier}, candidates {ev['candidates']}): {train_s:.2f} s "
        f"(CPU {train_cpu:.2f} s, target 30 s) "
        f"for {len(frame):,} outcomes (target < 60 s) | DummyClassifier fit {dummy_s:.4f} s | "
        f"ratio {train_s / dummy_s:,.0f}x"
    )
    print(
        f"  held-out: ROC AUC {ev['roc_auc']:.3f}, AP {ev['average_precision']:.3f}, "
        f"Brier {ev['brier']:.4f} vs constant {ev['constant']['brier']:.4f}, rules "
        f"{ev['rules_baseline']['brier'] if ev['rules_baseline'] else 'n/a'}"
    )

    with db.transaction() as session:
        registry.set_active(session, result.model_id, EVERYONE)
    # Best of three: the machine is shared, and one run can land on a busy moment.
    runs, cpu_runs = [], []
    for _ in range(3):
        began, began_cpu = time.perf_counter(), time.process_time()
        scores = scoring.active_scores(db)
        runs.append(time.perf_counter() - began)
        cpu_runs.append(time.process_time() - began_cpu)
        assert scores is not None and len(scores) == args.items
    score_s, score_cpu = min(runs), min(cpu_runs)
    model = scoring.load_model(db)
    with db.engine.connect() as connection:
        began = time.perf_counter()
        items = scoring.rows_for(model, connection, as_of=datetime(2026, 11, 20, 9))
        frame_s = time.perf_counter() - began
    began = time.perf_counter()
    scoring.predict(model, items)
    predict_s = time.perf_counter() - began
    matrix = np.random.default_rng(1).random((args.items, len(model.spec.names)))
    weights = np.random.default_rng(2).random(len(model.spec.names))
    began, began_cpu = time.perf_counter(), time.process_time()
    _ = 1 / (1 + np.exp(-(matrix @ weights)))
    dot_s, dot_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"score: active_scores CPU {score_cpu:.2f} s (target 5 s; numpy dot CPU {dot_cpu:.3f} s, "
        f"ratio {score_cpu / dot_cpu:,.0f}x)"
    )
    print(
        f"score: active_scores {score_s:.2f} s (runs {', '.join(f'{r:.1f}' for r in runs)}) "
        f"for {len(scores):,} items (target < 10 s) "
        f"= features from SQL {frame_s:.2f} s + predict {predict_s:.2f} s | numpy dot+sigmoid "
        f"{dot_s:.3f} s | ratio {score_s / dot_s:,.0f}x"
    )
    db.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
