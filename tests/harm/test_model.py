"""The optional harm score: features, training, evaluation, safe storage, scoring."""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import shutil
import sqlite3
from datetime import datetime

import numpy as np
import pytest
from actors import EVERYONE
from hypothesis import given
from hypothesis import strategies as st
from model_history import make_history
from sqlalchemy import delete, select, text, update

from triage.harm import artefact, evaluation, features, registry, scoring, training
from triage.jobs import Cancelled, Job
from triage.store import item_values
from triage.store.models import AuditEntry, IntelItem


def _train(db, **kwargs):
    return training.train(db, n_boot=50, **kwargs, actor=EVERYONE)


def test_protected_characteristics_are_refused_as_features():
    for name in (
        "nationality",
        "gender",
        "subject_gender",
        "Nationality_Code",
        "date-of-birth",
        "ethnicity",
        "age",
        "person_age_years",
    ):
        assert features.is_protected(name), name
        with pytest.raises(features.ProtectedFeatureError, match=name):
            features.check_features(["flag_weapon", name])
    with pytest.raises(features.ProtectedFeatureError):
        features.FeatureSpec(("persons_estimated",), ("nationality",))
    with pytest.raises(features.ProtectedFeatureError):
        training.build_pipeline("logistic", features.FeatureSpec(("gender",), ()))
    # The real feature list passes; "sham_marriage"-like values are not names.
    assert features.check_features(features.default_spec(True).names)
    assert not features.is_protected("days_to_decision")
    assert not features.is_protected("passed_within_48h")


def test_protected_columns_never_reach_the_fitted_model(db):
    make_history(db, n=800)
    with db.engine.connect() as connection:
        frame = features.training_frame(connection)
    assert "nationality" not in frame and "gender" not in frame
    result = _train(db, classifier="logistic")
    model = scoring.load_model(db, result.model_id)
    # The pipeline reads the spec's columns by position, every one and nothing else.
    prep = model.pipeline.named_steps["features"]
    positions = sorted(j for _, _, columns in prep.transformers_[:2] for j in columns)
    assert prep.n_features_in_ == len(model.spec.names) and positions == list(
        range(len(model.spec.names))
    )
    assert not [name for name in model.spec.names if features.is_protected(name)]


def test_changing_nationality_or_gender_changes_nothing_the_model_sees(db):
    from triage.store.models import EmCase, IntelItem

    make_history(db, n=800)
    first = _train(db, classifier="logistic")
    with db.transaction() as session:
        session.execute(update(IntelItem).values(nationality="ZZZ"))
        session.execute(update(EmCase).values(gender="x"))
    second = _train(db, classifier="logistic")
    assert second.manifest["training"]["data_sha256"] == first.manifest["training"]["data_sha256"]
    assert second.evaluation["roc_auc"] == first.evaluation["roc_auc"]


def test_training_can_be_cancelled(db):
    make_history(db, n=800)
    job = Job()
    job.cancel()
    with pytest.raises(Cancelled):
        _train(db, job=job)
    with db.transaction() as session:
        assert registry.all_models(session) == []


def _model_audit(db) -> list[str]:
    from triage.store.models import AuditEntry

    with db.transaction() as session:
        return list(
            session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "model_train"))
        )


@pytest.mark.sqlite_only("holds a SQLite file's write lock with sqlite3")
def test_fitting_takes_no_write_lock_and_registering_stores_it(db):
    """The app fits on a reader thread while the writer thread records meeting
    decisions: ``fit`` must only read, and ``register`` does the writing."""
    make_history(db, n=800)
    other_writer = sqlite3.connect(db.path, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")  # holds the database's write lock throughout
    try:
        fitted = training.fit(db, classifier="logistic", n_boot=0, actor=EVERYONE)
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
    folder = fitted.path.parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "model.joblib",
        "model_card.md",
    ]
    with db.transaction() as session:
        assert registry.all_models(session) == []
    assert _model_audit(db) == []

    result = training.register(db, fitted, actor=EVERYONE)
    assert result.model_id == fitted.model_id and result.active is False
    assert scoring.load_model(db, result.model_id).id == result.model_id
    assert _model_audit(db) == [result.model_id]
    with db.sessions() as session:  # in the same transaction, its bytes for other machines
        assert registry.stored_file(session, result.model_id) == fitted.path.read_bytes()


def test_a_failed_registration_leaves_no_artefact(db, monkeypatch):
    make_history(db, n=800)
    fitted = training.fit(db, classifier="logistic", n_boot=0, actor=EVERYONE)

    def refuse(*_args, **_kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(training.audit, "record", refuse)
    with pytest.raises(RuntimeError, match="audit unavailable"):
        training.register(db, fitted, actor=EVERYONE)
    assert not fitted.path.parent.exists()
    with db.transaction() as session:
        assert registry.all_models(session) == []


def test_trained_model_beats_constant_and_rules_on_held_out_period(db):
    make_history(db, n=1600)
    result = _train(db)
    ev = result.evaluation
    held, train = result.manifest["held_out"], result.manifest["training"]
    assert held["from"] > train["to"]  # time-based split: held-out period is later
    assert held["rows"] / (held["rows"] + train["rows"]) == pytest.approx(0.25, abs=0.05)
    assert ev["roc_auc"] > 0.7
    assert ev["brier"] < ev["constant"]["brier"]
    assert ev["constant"]["roc_auc"] == 0.5
    assert ev["rules_baseline"]["roc_auc"] < ev["roc_auc"]
    assert set(ev["candidates"]) == {"logistic", "hgb"}
    assert result.classifier in ("logistic", "hgb")
    assert any("Selection bias" in w for w in ev["warnings"])
    assert sum(b["count"] for b in ev["reliability"]) == held["rows"]
    nationality = {row["group"]: row for row in ev["fairness"]["nationality"]}
    assert sum(row["count"] for row in nationality.values()) == held["rows"]
    row = nationality["alb"]
    assert row["roc_auc_ci"][0] <= row["roc_auc"] <= row["roc_auc_ci"][1]
    gender = {r["group"]: r["count"] for r in ev["fairness"]["gender"]}
    # Female rows (about 26) fall under the 30-row floor and are pooled as "other".
    assert set(gender) == {"male", "other", "unknown"} and sum(gender.values()) == held["rows"]
    card = (result.path.parent / "model_card.md").read_text()
    for heading in (
        "## Purpose",
        "## Data window",
        "## Features",
        "## Metrics",
        "## Fairness",
        "## Limits",
        "## Owner",
        "Algorithmic Transparency",
    ):
        assert heading in card


def test_bootstrap_interval_matches_sklearn_auc():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    p = np.clip(y * 0.2 + rng.random(400) * 0.8, 0, 1)
    rows = evaluation.by_group(y, p, np.array(["a"] * 400), n_boot=200)
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(y, p)
    assert rows[0]["roc_auc"] == pytest.approx(auc, abs=1e-4)
    low, high = rows[0]["roc_auc_ci"]
    assert low < auc < high and high - low < 0.15


def test_too_little_history_is_a_clear_error(db):
    make_history(db, n=100)
    with pytest.raises(training.TrainingError, match="at least 200"):
        _train(db)


def test_no_model_means_no_scores(db):
    make_history(db, n=300)
    assert scoring.active_scores(db) is None
    assert scoring.status(db)["active"] is None


def test_active_model_scores_every_item_with_reasons(db):
    make_history(db, n=800)
    result = _train(db, classifier="hgb", activate=True)
    scores = scoring.active_scores(db)
    assert len(scores) == 800 and all(0 <= s <= 1 for s in scores.values())
    explained = scoring.explain_items(db, [1, 2, 3], top=3)
    assert set(explained) == {1, 2, 3}
    for item in explained.values():
        assert item["model_id"] == result.model_id
        assert len(item["reasons"]) == 3 and item["reasons"][0]["unit"] == "probability"
        assert item["suggestion"] == scoring.suggestion(item["harm_score"], scoring.threshold(db))
    rate = result.manifest["training"]["positives"] / result.manifest["training"]["rows"]
    assert scoring.threshold(db) == result.manifest["threshold"] == pytest.approx(rate, abs=1e-4)
    with db.transaction() as session:
        registry.set_active(session, None, EVERYONE)
    assert scoring.active_scores(db) is None
    assert scoring.threshold(db) == training.SUGGEST_THRESHOLD


def test_logistic_reasons_add_up_to_the_log_odds(db):
    make_history(db, n=800)
    _train(db, classifier="logistic", activate=True)
    model = scoring.load_model(db)
    with db.engine.connect() as connection:
        frame = scoring.rows_for(model, connection, as_of=datetime(2026, 11, 20))
    first = frame.rows(slice(0, 5))
    reasons = scoring.contributions(model, first, top=len(model.spec.names))
    p = scoring.predict(model, first)
    calibrated = model.pipeline.named_steps["classifier"].calibrated_classifiers_[0]
    a, b = calibrated.calibrators[0].a_, calibrated.calibrators[0].b_
    intercept = -(a * calibrated.estimator.intercept_[0] + b)
    for prob, why in zip(p, reasons, strict=True):
        total = intercept + sum(r["contribution"] for r in why)
        assert 1 / (1 + np.exp(-total)) == pytest.approx(prob, abs=0.01)


def test_logistic_scores_are_the_pipelines_own(db):
    # predict() computes the logistic pipeline's probabilities with numpy;
    # they must be scikit-learn's, with missing numbers and unseen categories.
    make_history(db, n=800)
    _train(db, classifier="logistic", activate=True)
    model = scoring.load_model(db)
    with db.engine.connect() as connection:
        frame = scoring.rows_for(model, connection, as_of=datetime(2026, 11, 20))
    frame["grade_source"][:40] = np.nan
    frame["sector"][40:80] = 29.0  # a code training never saw
    expected = model.pipeline.predict_proba(
        features.clip(frame, model.manifest["limits"]).matrix(model.spec.names)
    )[:, 1]
    assert scoring._linear_score(model) is not None  # the numpy path is the one tested
    assert scoring.predict(model, frame) == pytest.approx(expected, abs=1e-12)


def test_suggestion_threshold():
    assert scoring.suggestion(0.5) == "accept"
    assert scoring.suggestion(0.49) == "reject"
    assert scoring.suggestion(0.3, threshold=0.25) == "accept"


class _Marker:
    """A pickle that, if ever loaded, writes a marker file (foreign code running)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (_write_marker, (self.path,))


def _write_marker(path):  # pragma: no cover - must never run
    with open(path, "w") as handle:
        handle.write("foreign code ran")
    return "pwned"


def test_planted_malicious_pickle_is_never_loaded(db, tmp_path, caplog):
    make_history(db, n=800)
    result = _train(db, activate=True)
    marker = tmp_path / "marker.txt"
    result.path.write_bytes(pickle.dumps(_Marker(marker)))
    # Sanity: the planted file really would run code if unpickled.
    probe = tmp_path / "probe.txt"
    pickle.loads(pickle.dumps(_Marker(probe)))
    assert probe.exists()

    with caplog.at_level(logging.WARNING, logger="triage.harm.scoring"):
        assert scoring.active_scores(db) is None
    assert not marker.exists()
    assert "SHA-256" in caplog.text and "not loaded" in caplog.text
    assert scoring.status(db)["usable"] is False
    assert scoring.explain_items(db, [1]) == {}
    assert not marker.exists()
    _ranking_works_without_score(db)


def _ranking_works_without_score(db):
    from triage.intel import ranking
    from triage.intel.models import IntelRank

    run = ranking.refresh(db)
    with db.transaction() as session:
        rows = session.execute(select(IntelRank.bucket, IntelRank.harm_score)).all()
    assert run.items == len(rows) == 800 and all(score is None for _, score in rows)


def test_rank_intel_json_fills_harm_score_only_with_an_active_model(db, capsys):
    from triage.cli.main import main
    from triage.store.models import IntelItem

    make_history(db, n=800)
    with db.transaction() as session:  # some items still waiting for a decision
        session.execute(update(IntelItem).where(IntelItem.id > 790).values(status="open"))
    argv = ["--db", db.location, "rank", "intel", "--format", "json", "--limit", "5"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5 and all(row["harm_score"] is None for row in rows)
    result = _train(db, activate=True)  # trained with intel_rank present: rules_bucket used
    assert "rules_bucket" in result.manifest["features"]["categorical"]
    assert result.evaluation["rules_baseline"]["source"] == "intel_rank bucket and score"
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5 and all(0 <= row["harm_score"] <= 1 for row in rows)
    assert main(["--db", db.location, "explain", "intel", "I000795", "--json"]) == 0
    harm = json.loads(capsys.readouterr().out)["harm_model"]
    assert harm["model_id"] == result.model_id and len(harm["reasons"]) == 3
    assert main(["--db", db.location, "explain", "intel", "I000795"]) == 0
    assert "moved most by" in capsys.readouterr().out


def test_version_mismatch_or_foreign_location_is_refused(db, tmp_path):
    make_history(db, n=800)
    result = _train(db, activate=True)
    with db.transaction() as session:
        manifest = dict(session.get(registry.HarmModel, result.model_id).manifest)
    manifest["versions"] = {**manifest["versions"], "scikit-learn": "0.0.1"}
    with db.transaction() as session:
        session.execute(update(registry.HarmModel).values(manifest=manifest))
    with pytest.raises(artefact.ArtefactRefused, match="row was changed after it was accepted"):
        scoring.load_model(db)
    _accept_again(db, result.model_id)  # as it is now: the file's own checks still apply
    with pytest.raises(artefact.ArtefactRefused, match="scikit-learn 0.0.1 registered"):
        scoring.load_model(db)
    assert scoring.active_scores(db) is None

    # A registered row pointing outside this machine's model folder is refused.
    outside = tmp_path / "elsewhere" / "model.joblib"
    outside.parent.mkdir()
    outside.write_bytes(result.path.read_bytes())
    with db.transaction() as session:
        session.execute(
            update(registry.HarmModel).values(path=str(outside), manifest=result.manifest)
        )
    _accept_again(db, result.model_id)
    with pytest.raises(artefact.ArtefactRefused, match="outside"):
        scoring.load_model(db)

    # The manifest beside the file must equal the registered one.
    with db.transaction() as session:
        session.execute(update(registry.HarmModel).values(path=str(result.path)))
    assert scoring.load_model(db) is not None
    beside = result.path.parent / artefact.MANIFEST_FILE
    edited = json.loads(beside.read_text())
    edited["features"]["numeric"].append("extra")
    beside.write_text(json.dumps(edited))
    with pytest.raises(artefact.ArtefactRefused, match="differs"):
        scoring.load_model(db)


def _accept_again(db, model_id: str) -> None:
    with db.transaction() as session:
        registry.set_active(session, None, EVERYONE)
        registry.set_active(session, model_id, EVERYONE)


def test_a_model_changed_after_it_was_accepted_is_refused(db):
    make_history(db, n=800)
    result = _train(db, classifier="logistic", activate=True)
    with db.sessions() as session:
        (accepted,) = session.scalars(
            select(AuditEntry.new_value).where(AuditEntry.action == registry.ACCEPT)
        ).all()
    assert accepted.startswith(f"artefact={result.sha256} row=")
    assert scoring.load_model(db) is not None
    # Someone swaps the file and makes the row's hash match it: the row no
    # longer matches what the audit chain recorded when it was accepted.
    swapped = result.path.read_bytes() + b"\x00"
    result.path.write_bytes(swapped)
    forged = hashlib.sha256(swapped).hexdigest()
    with db.transaction() as session:
        session.execute(update(registry.HarmModel).values(sha256=forged))
    with pytest.raises(artefact.ArtefactRefused, match=f"model {result.model_id} refused"):
        scoring.load_model(db)
    assert scoring.active_scores(db) is None  # the ranking goes on without it


def test_only_one_model_active(db):
    make_history(db, n=800)
    first = _train(db, classifier="logistic", activate=True)
    second = _train(db, classifier="logistic", activate=True)
    assert first.model_id != second.model_id
    with db.transaction() as session:
        active = [m.id for m in registry.all_models(session) if m.active]
    assert active == [second.model_id]


def test_corroboration_counts_only_other_items_known_at_decision(db):
    from datetime import date, datetime

    from sqlalchemy import insert

    from triage.store.models import IntelItem, TaskingOutcome

    now = datetime(2026, 1, 1)
    days = {1: datetime(2025, 3, 1), 2: datetime(2025, 3, 10), 3: datetime(2025, 3, 20)}
    with db.transaction() as session:
        session.execute(
            insert(IntelItem),
            [
                {
                    "id": i,
                    "intel_id": f"C{i}",
                    "received_at": at,
                    "region": "LSE",
                    "subject_ref": "S1",
                    "postcode": "E1 1AA" if i < 3 else None,
                    "harm_flags": ";drugs;weapon;" if i == 2 else None,
                    "status": "accepted",
                    "carry_over_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, at in days.items()
            ],
        )
        session.execute(
            insert(TaskingOutcome),
            [
                {
                    "item_id": 2,
                    "meeting_date": date(2025, 3, 15),
                    "decision": "accepted",
                    "decided_at": now,
                    "result": "arrest",
                }
            ],
        )
    with db.engine.connect() as connection:
        trained = features.training_frame(connection)
        spec = features.default_spec(with_bucket=False)
        scored = features.scoring_frame(
            connection, spec, features.fit_limits(trained, spec), as_of=datetime(2025, 3, 15)
        )
    # Item 2 decided on 15 March: item 1 was known, item 3 (20 March) was not.
    assert trained["corroboration_subject"][0] == 1
    assert trained["corroboration_postcode"][0] == 1
    assert trained["days_to_decision"][0] == pytest.approx(5)
    assert (trained["flag_weapon"][0], trained["flag_drugs"][0]) == (1, 1)
    assert trained["flag_fno"][0] == 0 and trained["target"][0] == 1
    assert trained["whereabouts"][0] == "unknown"  # blank is unknown, not a value
    assert str(trained["meeting_date"][0]) == "2025-03-15"
    assert _by_item(scored, "corroboration_subject") == {1: 1, 2: 1, 3: 2}
    assert _by_item(scored, "corroboration_postcode") == {1: 1, 2: 1, 3: 0}
    # Scoring a few items counts over the whole table, as scoring them all does.
    with db.engine.connect() as connection:
        some = features.scoring_frame(
            connection,
            spec,
            features.fit_limits(trained, spec),
            as_of=datetime(2025, 3, 15),
            item_ids=[1, 3],
        )
    assert _by_item(some, "corroboration_subject") == {1: 1, 3: 2}
    assert _by_item(some, "corroboration_postcode") == {1: 1, 3: 0}


def test_scoring_rows_read_in_steps_are_the_rows_read_at_once(db, monkeypatch):
    make_history(db, n=300)
    with db.engine.connect() as connection:
        trained = features.training_frame(connection)
        spec = features.default_spec(with_bucket=False)
        limits = features.fit_limits(trained, spec)
        at_once = features.scoring_frame(connection, spec, limits, as_of=datetime(2025, 6, 1))
        monkeypatch.setattr(features, "READ_ROWS", 7)
        in_steps = features.scoring_frame(connection, spec, limits, as_of=datetime(2025, 6, 1))
    assert len(at_once) > 7 * 3
    assert at_once.names == in_steps.names
    for name in at_once.names:
        assert np.array_equal(at_once[name], in_steps[name], equal_nan=True), name


def _dict_factorize(values: list[str | None]) -> tuple[list[int], list[str]]:
    index: dict[str, int] = {}
    codes = [-1 if v is None else index.setdefault(v, len(index)) for v in values]
    return codes, list(index)


@given(st.lists(st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["a", "a\x00", "é"]))))
def test_factorize_gives_the_codes_of_a_dict_in_order_of_first_appearance(values):
    codes, uniques = features.factorize(values)
    assert (codes.tolist(), uniques) == _dict_factorize(values)


def test_factorize_never_takes_two_keys_with_the_same_folded_words_as_one(monkeypatch):
    # Keys longer than a word share the fold when the multiplier is 0: only
    # their last word is left, and the text comparison must part them.
    keys = ["abcdefgh-same", "12345678-same", "abcdefgh-same", None]
    monkeypatch.setattr(features, "FOLD_MULTIPLIER", np.uint64(0))
    codes, uniques = features.factorize(keys)
    assert (codes.tolist(), uniques) == ([0, 1, 0, -1], ["abcdefgh-same", "12345678-same"])


def test_factorize_takes_the_dict_for_a_key_too_long_to_fold(monkeypatch):
    # One hostile long key must not make the folded copy rows x its length.
    long_key = "x" * (features.WORDS_KEY_BYTES + 1)
    keys = ["A1", long_key, "A1", None]
    by_dict, used = features._factorize_by_dict, []
    monkeypatch.setattr(features, "_factorize_by_dict", lambda k: used.append(k) or by_dict(k))
    codes, uniques = features.factorize(keys)
    assert (codes.tolist(), uniques) == ([0, 1, 0, -1], ["A1", long_key])
    assert len(used) == 1


def test_factorize_takes_the_dict_for_a_non_ascii_key_too_wide_to_fold(monkeypatch):
    # Folded, one non-ASCII key would make every row's copy four bytes a
    # character (numpy's UCS-4 text): as wide as that, the dict takes them.
    wide = "é" * (features.WORDS_KEY_BYTES // 4 + 1)
    narrow = "é" * (features.WORDS_KEY_BYTES // 4)
    by_dict, used = features._factorize_by_dict, []
    monkeypatch.setattr(features, "_factorize_by_dict", lambda k: used.append(k) or by_dict(k))
    codes, uniques = features.factorize(["A1", narrow, "A1", None])
    assert (codes.tolist(), uniques, used) == ([0, 1, 0, -1], ["A1", narrow], [])
    codes, uniques = features.factorize(["A1", wide, "A1", None])
    assert (codes.tolist(), uniques) == ([0, 1, 0, -1], ["A1", wide])
    assert len(used) == 1


def _by_item(rows: features.Table, column: str) -> dict[int, float]:
    return dict(zip(rows["item_id"].tolist(), rows[column].tolist(), strict=True))


def _another_machine(tmp_path, monkeypatch, trained):
    """From here on this process is a machine that did not train the model:
    another data folder, and no file at the registered path."""
    shutil.rmtree(trained.path.parent)
    monkeypatch.setenv("TRIAGE_HOME", str(tmp_path / "another-machine"))


def test_a_model_trained_on_another_machine_loads_from_the_database(db, tmp_path, monkeypatch):
    make_history(db, n=800)
    result = _train(db, classifier="logistic", activate=True)
    scores_where_trained = scoring.active_scores(db)
    _another_machine(tmp_path, monkeypatch, result)
    here = artefact.models_dir() / result.model_id / artefact.MODEL_FILE
    assert not here.exists() and not result.path.exists()

    model = scoring.load_model(db)
    assert model is not None and model.id == result.model_id
    assert hashlib.sha256(here.read_bytes()).hexdigest() == result.sha256
    assert json.loads((here.parent / artefact.MANIFEST_FILE).read_text()) == result.manifest
    assert scoring.active_scores(db) == pytest.approx(scores_where_trained)
    # Written once: later loads use this machine's file, still checked.
    here.write_bytes(here.read_bytes() + b"\x00")
    with pytest.raises(artefact.ArtefactRefused, match="SHA-256"):
        scoring.load_model(db)


def test_tampered_stored_bytes_are_never_written_or_loaded(db, tmp_path, monkeypatch):
    make_history(db, n=800)
    result = _train(db, activate=True)
    marker = tmp_path / "marker.txt"
    with db.transaction() as session:
        session.execute(
            update(registry.HarmModelFile).values(content=pickle.dumps(_Marker(marker)))
        )
    _another_machine(tmp_path, monkeypatch, result)
    with pytest.raises(artefact.ArtefactRefused, match="stored copy .* not written or loaded"):
        scoring.load_model(db)
    assert not (artefact.models_dir() / result.model_id).exists()
    assert scoring.active_scores(db) is None and not marker.exists()
    _ranking_works_without_score(db)


def test_a_model_without_stored_bytes_is_missing_on_another_machine(db, tmp_path, monkeypatch):
    make_history(db, n=800)
    result = _train(db, activate=True)
    with db.transaction() as session:
        session.execute(delete(registry.HarmModelFile))
    assert scoring.load_model(db) is not None  # where it was trained, its file is there
    _another_machine(tmp_path, monkeypatch, result)
    with pytest.raises(artefact.ArtefactRefused, match=f"{result.model_id}.* is missing"):
        scoring.load_model(db)


@pytest.mark.parametrize("codes", ["stored", "some NULL", "a level they do not code"])
def test_scoring_codes_and_yes_no_features_are_the_training_encodings(db, codes):
    # scoring_frame packs the flags, yes/no features and category codes into
    # one integer in SQL, up to 57 bits wide: every one must come back as the
    # training frame's encoding of the same item, on each store. The codes
    # kept with the item (store.item_values.HARM_CODES) are mapped to the
    # model's; an item without them (NULL) gets them computed in SQL, and a
    # model level they cannot tell apart (a grade in lower case) is coded in SQL.
    make_history(db, n=400)
    with db.engine.begin() as connection:
        if codes == "some NULL":
            connection.execute(text("UPDATE intel_item SET harm_codes = NULL WHERE id % 3 = 0"))
        if codes == "a level they do not code":
            connection.execute(text("UPDATE intel_item SET grade_intel = 'b' WHERE id % 2 = 0"))
            connection.execute(
                text(f"UPDATE intel_item SET harm_codes = {item_values.harm_codes_sql()}")
            )
    with db.engine.connect() as connection:
        trained = features.training_frame(connection)
        spec = features.default_spec(with_bucket=False)
        limits = features.fit_limits(trained, spec)
        stored = features._stored_codes("grade_intel", limits["levels"]["grade_intel"])
        assert (stored is None) == (codes == "a level they do not code")
        if codes == "some NULL":
            missing = connection.execute(
                text("SELECT count(*) FROM intel_item WHERE harm_codes IS NULL")
            ).scalar_one()
            assert missing > 100
        scored = features.scoring_frame(connection, spec, limits, as_of=datetime(2027, 1, 1))
    encoded = features.encode(trained, spec, limits)
    row_of = {int(item): k for k, item in enumerate(scored["item_id"])}
    rows = [row_of[int(item)] for item in encoded["item_id"]]
    packed = [*spec.categorical, *features.YES_NO, *features.FLAGS]
    assert len(set(spec.categorical)) > 6  # codes past bit 32 are among them
    for name in packed:
        if name in spec.names:
            assert np.array_equal(scored[name][rows], encoded[name].astype(float)), name


def _copy_item(connection, item_id: int, intel_id: str, of: int) -> None:
    """A copy of item ``of`` under another id."""
    columns = [c.name for c in IntelItem.__table__.columns if c.name not in ("id", "intel_id")]
    listed = ", ".join(columns)
    connection.execute(
        text(
            f"INSERT INTO intel_item (id, intel_id, {listed}) "
            f"SELECT :id, :intel_id, {listed} FROM intel_item WHERE id = :of"
        ),
        {"id": item_id, "intel_id": intel_id, "of": of},
    )


@pytest.mark.parametrize("item_id", [2**31 - 1, -5])
def test_scoring_rows_are_the_same_when_ids_do_not_fit_the_packed_integer(db, item_id):
    # The item id rides in the packed integer while every id fits beside the
    # codes (from 0 to a few million); a larger or negative one is read as
    # its own column, and every other value is unchanged.
    make_history(db, n=400)
    spec = features.default_spec(with_bucket=False)
    as_of = datetime(2027, 1, 1)
    with db.engine.connect() as connection:
        limits = features.fit_limits(features.training_frame(connection), spec)
        packed = features.scoring_frame(connection, spec, limits, as_of=as_of)
    with db.engine.begin() as connection:
        # A copy of the first item under that id, without the keys it would corroborate.
        _copy_item(connection, item_id, "BIG", of=int(packed["item_id"][0]))
        connection.execute(
            text("UPDATE intel_item SET subject_ref = NULL, postcode = NULL WHERE id = :id"),
            {"id": item_id},
        )
    with db.engine.connect() as connection:
        apart = features.scoring_frame(connection, spec, limits, as_of=as_of)
    expected_ids = sorted([*packed["item_id"].tolist(), item_id])
    assert apart["item_id"].tolist() == expected_ids
    at = expected_ids.index(item_id)
    rest = np.delete(np.arange(len(apart)), at)
    for name in spec.names:
        if name not in features.CORROBORATION.values():
            assert np.array_equal(apart[name][rest], packed[name], equal_nan=True), name
            assert np.array_equal(apart[name][at], packed[name][0], equal_nan=True), name


def test_an_item_added_while_scoring_reads_is_not_taken_for_another(db, monkeypatch):
    # The ids' width is read before the rows: an item another writer adds in
    # between, with an id wider than that, was cut to the width and read as
    # another item's id (its values scored as item 1's).
    make_history(db, n=400)
    spec = features.default_spec(with_bucket=False)
    as_of = datetime(2027, 1, 1)
    with db.engine.connect() as connection:
        limits = features.fit_limits(features.training_frame(connection), spec)
        before = features.scoring_frame(connection, spec, limits, as_of=as_of)
        high = int(connection.execute(text("SELECT max(id) FROM intel_item")).scalar_one())
    wide = (1 << high.bit_length()) + int(before["item_id"][0])
    read_rows = features._fetch_rows

    def another_writer_first(*args, **kwargs):
        with db.engine.begin() as writer:  # a copy of the last item, under the wide id
            _copy_item(writer, wide, "NEW", of=high)
        return read_rows(*args, **kwargs)

    monkeypatch.setattr(features, "_fetch_rows", another_writer_first)
    with db.engine.connect() as connection:
        during = features.scoring_frame(connection, spec, limits, as_of=as_of)
    ids = during["item_id"].tolist()
    assert len(ids) == len(set(ids)) and set(before["item_id"].tolist()) <= set(ids)
    assert set(ids) <= {*before["item_id"].tolist(), wide}
