"""The Model screen: train off the UI thread, read the evaluation and card, activate."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from actors import EVERYONE
from model_history import as_if_trained_by_an_older_triage, make_history
from PySide6.QtCore import Qt

from triage import settings
from triage.harm import artefact, features, registry, scoring, training
from triage.meetings import operations as meetings
from ui.model_view import ModelView

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def view(qtbot, db):
    make_history(db, n=800)
    widget = ModelView(db)
    qtbot.addWidget(widget)
    widget.refresh()
    yield widget
    widget.tasks.wait()


def test_train_read_activate_and_deactivate(view, qtbot, db, tmp_path):
    assert "off" in view.status.text()
    assert view.table.rowCount() == 0
    view.classifier.setCurrentText("logistic")
    with qtbot.waitSignal(view.training_finished, timeout=60000) as trained:
        qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
        assert not view.train_button.isEnabled() and view.cancel_button.isEnabled()
    model_id = trained.args[0]
    assert view.progress.fraction() == 1.0
    assert view.table.rowCount() == 1 and view.selected_id() == model_id
    text = view.evaluation.toPlainText()
    assert "ROC AUC" in text and "Rules only" in text and "By nationality" in text
    assert "Selection bias" in text
    assert "Algorithmic Transparency" in view.card.toPlainText()

    with qtbot.waitSignal(view.active_changed, timeout=10000):
        qtbot.mouseClick(view.activate_button, Qt.MouseButton.LeftButton)
    assert "<b>on</b>" in view.status.text() and model_id in view.status.text()
    assert scoring.status(db)["usable"] is True
    exported = view.export_card(str(tmp_path / "card.md"))
    assert exported.read_text().startswith("# Model card")
    assert view.export_card(str(tmp_path / "missing" / "card.md")) is None
    assert "not written" in view.progress_text.text()

    # A tampered file is reported as refused, and not re-activated.
    with db.transaction() as session:
        path = registry.get(session, model_id).path
    with open(path, "ab") as handle:
        handle.write(b"x")
    view.refresh()
    assert "refused" in view.status.text()
    qtbot.mouseClick(view.activate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Not activated" in view.progress_text.text(), timeout=10000)
    assert "SHA-256" in view.progress_text.text()

    with qtbot.waitSignal(view.active_changed, timeout=10000):
        qtbot.mouseClick(view.deactivate_button, Qt.MouseButton.LeftButton)
    assert "<b>off</b>" in view.status.text()
    assert scoring.status(db)["active"] is None


@pytest.fixture
def held_fit(monkeypatch):
    """Training that stops, once it has read its rows, until ``release`` is set."""
    reading, release = threading.Event(), threading.Event()
    read_rows = features.training_frame

    def held(connection):
        frame = read_rows(connection)
        reading.set()
        release.wait(timeout=60)  # a failed test must not hang the suite
        return frame

    monkeypatch.setattr(features, "training_frame", held)
    yield reading, release
    release.set()


def test_a_model_from_an_older_triage_is_refused_with_what_to_do(view, qtbot, db):
    result = training.train(db, classifier="logistic", n_boot=0, actor=EVERYONE)
    as_if_trained_by_an_older_triage(db, result.model_id)
    view.refresh()
    view.table.selectRow(0)
    assert view.selected_id() == result.model_id
    qtbot.mouseClick(view.activate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Not activated" in view.progress_text.text(), timeout=10000)
    assert "older version of Triage; train a new model" in view.progress_text.text()
    assert scoring.status(db)["active"] is None


def test_meeting_decisions_do_not_wait_for_training(view, qtbot, db, held_fit):
    from meeting_fixtures import REGION, TEAM, add_items

    reading, release = held_fit
    (item_id,) = add_items(db, [{"intel_id": "OPEN-1", "harm_flags": ";weapon;"}])
    meeting_id = meetings.start_meeting(
        db, region=REGION, team=TEAM, held_on=date(2026, 11, 20), actor=EVERYONE
    )
    view.classifier.setCurrentText("logistic")
    qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(reading.is_set, timeout=30000)

    # Training is mid-fit: an "A" key's write goes through the writer thread now.
    decided = []
    view.tasks.write(
        lambda _job: meetings.decide(
            db,
            meeting_id=meeting_id,
            item_id=item_id,
            decision="accepted",
            actor=EVERYONE,
        ),
        on_done=decided.append,
        on_fail=decided.append,
    )
    qtbot.waitUntil(lambda: len(decided) == 1, timeout=10000)
    assert isinstance(decided[0], int), decided
    assert not view.train_button.isEnabled() and view.cancel_button.isEnabled()
    with db.transaction() as session:
        assert registry.all_models(session) == []

    with qtbot.waitSignal(view.training_finished, timeout=60000) as trained:
        release.set()
    model_id = trained.args[0]
    assert view.progress.fraction() == 1.0 and view.progress_text.text().startswith("Trained")
    assert view.table.rowCount() == 1 and view.selected_id() == model_id
    assert view.train_button.isEnabled() and not view.cancel_button.isEnabled()
    assert scoring.load_model(db, model_id).id == model_id


def test_cancel_while_fitting(view, qtbot, held_fit):
    reading, release = held_fit
    view.classifier.setCurrentText("logistic")
    qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(reading.is_set, timeout=30000)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.training_failed, timeout=30000) as failed:
        release.set()
    assert failed.args[0] == "Cancelled."
    assert view.progress_text.text() == "Not trained: Cancelled."
    assert view.train_button.isEnabled() and view.table.rowCount() == 0


def test_cancel_while_waiting_for_the_writer_registers_nothing(view, qtbot, db):
    # A long write (an import, say) holds the writer when the fit ends.
    writer_free = threading.Event()
    view.tasks.write(lambda _job: writer_free.wait(timeout=60))
    view.classifier.setCurrentText("logistic")
    try:
        qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.progress_text.text().startswith("Writing"), timeout=60000)
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
        with qtbot.waitSignal(view.training_failed, timeout=30000) as failed:
            writer_free.set()
    finally:
        writer_free.set()
    assert failed.args[0] == "Cancelled."
    with db.transaction() as session:
        assert registry.all_models(session) == []
    assert list(artefact.models_dir().iterdir()) == []


def test_training_failure_is_reported(qtbot, db):
    widget = ModelView(db)  # empty database: nothing to learn from
    qtbot.addWidget(widget)
    widget.refresh()
    with qtbot.waitSignal(widget.training_failed, timeout=30000) as failed:
        qtbot.mouseClick(widget.train_button, Qt.MouseButton.LeftButton)
    assert "at least 200" in failed.args[0]
    assert "Not trained" in widget.progress_text.text()
    widget.tasks.wait()


def test_weight_and_hiding_are_settings(view):
    view.weight.setValue(1.5)
    view.hide_score.setChecked(False)
    stored = settings.load()
    assert stored.model_weight == 1.5 and stored.hide_model_score_until_decided is False


def test_queue_trace_shows_the_model_reasons(db):
    from meeting_fixtures import add_items

    from triage.harm import training
    from triage.intel import ranking
    from ui.intel_view import render_trace
    from ui.queue_model import COLUMN, IntelQueueModel

    make_history(db, n=800)
    (open_item,) = add_items(db, [{"intel_id": "OPEN-1", "harm_flags": ";weapon;"}])
    training.train(db, classifier="logistic", activate=True, n_boot=0, actor=EVERYONE)
    ranking.refresh(db)
    page = render_trace(ranking.explain(db, 1))
    assert "Advisory harm model score" in page and "moved most by" in page

    # No nudging: by default an undecided item's score stays hidden, in the
    # queue and in its trace, while a decided item's shows.
    hidden = render_trace(ranking.explain(db, open_item), show_harm=False)
    assert "moved most by" not in hidden and "hidden until this item is decided" in hidden
    assert settings.load().hide_model_score_until_decided is True
    model = IntelQueueModel(db)
    model.set_filters(include_decided=True)
    shown = {
        model.row_data(r)["status"]: model.data(model.index(r, COLUMN["harm_score"]))
        for r in range(model.rowCount())
    }
    assert shown["open"] == "" and shown["accepted"] != ""
    stored = settings.load()
    stored.hide_model_score_until_decided = False
    settings.save(stored)
    model.set_filters(include_decided=True)
    row = next(r for r in range(model.rowCount()) if model.row_data(r)["status"] == "open")
    assert model.data(model.index(row, COLUMN["harm_score"])) != ""
