"""The harm model on numpy alone: group metrics and the rules baseline checked
against values worked out by hand, models from the pandas era refused with
what to do, and no runtime path importing pandas or fairlearn."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from actors import EVERYONE
from model_history import as_if_trained_by_an_older_triage, make_history

from triage.cli.main import main
from triage.harm import artefact, evaluation, registry, scoring, training


def test_group_metrics_are_the_hand_computed_ones():
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0])
    p = np.array([0.9, 0.2, 0.6, 0.4, 0.1, 0.3, 0.5, 0.5])
    groups = np.array(["a", "a", "a", "b", "b", "b", "c", "c"], dtype=object)
    rows = evaluation.by_group(y, p, groups, n_boot=0)
    # a: harm at 0.9 and 0.6, none at 0.2: both pairs ordered right, AUC 1 and
    # AP 1; Brier (0.1^2 + 0.2^2 + 0.4^2) / 3 = 0.07.
    # b: harm at 0.3 between no-harm 0.4 and 0.1: AUC 1/2; ranked 0.4, 0.3, 0.1
    # the harm row comes second, AP 1/2; Brier (0.4^2 + 0.7^2 + 0.1^2) / 3 = 0.22.
    # c: no harm at all: AUC and AP undefined; Brier 0.5^2 = 0.25.
    assert rows == [
        {
            "group": "a",
            "count": 3,
            "positives": 2,
            "positive_rate": 0.6667,
            "mean_score": 0.5667,
            "roc_auc": 1.0,
            "average_precision": 1.0,
            "brier": 0.07,
        },
        {
            "group": "b",
            "count": 3,
            "positives": 1,
            "positive_rate": 0.3333,
            "mean_score": 0.2667,
            "roc_auc": 0.5,
            "average_precision": 0.5,
            "brier": 0.22,
        },
        {
            "group": "c",
            "count": 2,
            "positives": 0,
            "positive_rate": 0.0,
            "mean_score": 0.5,
            "roc_auc": None,
            "average_precision": None,
            "brier": 0.25,
        },
    ]
    # Largest group first; the bootstrap adds intervals (none where AUC is undefined).
    many = np.array(["x"] * 5 + ["a"] * 3, dtype=object)
    with_intervals = evaluation.by_group(y, p, many, n_boot=50)
    assert [r["group"] for r in with_intervals] == ["x", "a"]
    assert all(len(r["brier_ci"]) == 2 for r in with_intervals)


def test_rules_baseline_is_the_smoothed_bucket_rate():
    train = np.array(["A", "A", "B"], dtype=object)
    # Overall rate 2/3; A: (1 + 5 * 2/3) / (2 + 5); B: (1 + 5 * 2/3) / (1 + 5);
    # a bucket training never saw gets the overall rate.
    rates = evaluation.bucket_baseline(train, np.array([1, 0, 1]), np.array(["B", "A", "Z"]))
    assert rates == pytest.approx([13 / 18, 13 / 21, 2 / 3])


def test_a_model_from_an_older_triage_is_refused_with_what_to_do(db, capsys):
    make_history(db, n=800)
    result = training.train(db, classifier="logistic", n_boot=0, actor=EVERYONE)
    assert result.manifest["pipeline_input"] == training.PIPELINE_INPUT
    as_if_trained_by_an_older_triage(db, result.model_id)
    with pytest.raises(artefact.ArtefactRefused, match="older version of Triage; train a new"):
        scoring.load_model(db, result.model_id)
    # The CLI refuses to activate it: exit 2 and the reason, no traceback.
    assert main(["--db", db.location, "model", "activate", result.model_id]) == 2
    err = capsys.readouterr().err
    assert "older version of Triage; train a new model" in err and "Traceback" not in err
    # Active already (upgraded with it): the ranking carries on without scores.
    with db.transaction() as session:
        registry.set_active(session, result.model_id, EVERYONE)
    assert scoring.active_scores(db) is None
    assert "older version of Triage" in scoring.status(db)["reason"]
    assert scoring.explain_items(db, [1]) == {}


# As in the packaged app, where pandas and fairlearn are not installed (here
# they may be: the benchmarks use pandas, and scikit-learn imports it when it
# can): a finder ahead of the others says they are not there.
RUNTIME_PATHS = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pandas", "fairlearn"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from triage.cli.main import main
db = ["--db", sys.argv[1]]
for argv in (
    ["model", "train", "--activate", "--bootstrap", "20"],
    ["model", "evaluate", "--json"],
    ["rank", "intel", "--limit", "5", "--format", "json"],
    ["explain", "intel", "I000005", "--json"],
    ["model", "card", "--out", sys.argv[2]],
):
    assert main(db + argv) == 0, argv
"""


def test_training_scoring_and_explaining_run_without_pandas(tmp_path, new_database_file):
    from triage.store.db import open_database

    path = new_database_file(tmp_path / "stack.sqlite")
    database = open_database(path)
    make_history(database, n=800)
    database.close()
    run = subprocess.run(
        [sys.executable, "-c", RUNTIME_PATHS, str(path), str(tmp_path / "card.md")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert '"harm_score": 0.' in run.stdout and '"fairness"' in run.stdout
    assert (tmp_path / "card.md").read_text().startswith("# Model card")
