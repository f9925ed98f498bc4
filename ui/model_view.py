"""The Model screen: train the optional harm score, read its evaluation and
model card, and switch it on or off.

Training (with progress and cancel) fits on a reader thread and only registers
the model on the app's single writer thread, so meeting decisions never wait
for a fit. Activation and deactivation run on the writer thread; activation
verifies the artefact first (``triage.harm.scoring.load_model``) and refuses a
tampered one with the reason. The screen never decides anything: it says what
the model measured, including where it is no better than the rules.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from triage import settings
from triage.harm import card, registry, scoring, training
from triage.jobs import Cancelled, Job
from triage.store.db import Database
from ui import identity
from ui.job_progress import JobProgress
from ui.plain import plain
from ui.tasks import Tasks

COLUMNS = (
    ("id", "Model"),
    ("active", "Active"),
    ("classifier", "Classifier"),
    ("created_at", "Trained"),
    ("created_by", "By"),
    ("training_rows", "Training rows"),
    ("roc_auc", "ROC AUC"),
    ("brier", "Brier"),
)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "–".join(_fmt(v) for v in value)
    return str(value)


def evaluation_html(model_id: str, manifest: dict, ev: dict) -> str:
    """The held-out evaluation as HTML: metrics, reliability, fairness, warnings."""
    held = manifest.get("held_out", {})
    parts = [
        f"<h3>Model {html.escape(model_id)} ({html.escape(str(ev.get('classifier')))})</h3>",
        f"<p>Held-out period {held.get('from')} to {held.get('to')}: {ev.get('rows')} "
        f"accepted outcomes, harm rate {_fmt(ev.get('positive_rate'))}.</p>",
        "<table border=1 cellpadding=3><tr><th>Predictor</th><th>ROC AUC</th>"
        "<th>Average precision</th><th>Brier (lower is better)</th></tr>",
    ]
    rows = [("Harm score", ev.get("model") or {})]
    if ev.get("rules_baseline"):
        rows.append((f"Rules only ({ev['rules_baseline'].get('source')})", ev["rules_baseline"]))
    rows.append(("Constant base rate", ev.get("constant") or {}))
    for label, metrics in rows:
        parts.append(
            f"<tr><td>{html.escape(label)}</td><td>{_fmt(metrics.get('roc_auc'))}</td>"
            f"<td>{_fmt(metrics.get('average_precision'))}</td>"
            f"<td>{_fmt(metrics.get('brier'))}</td></tr>"
        )
    parts.append(
        "</table><h4>Reliability (predicted vs observed)</h4><table border=1 "
        "cellpadding=3><tr><th>Mean predicted</th><th>Observed</th><th>Rows</th></tr>"
    )
    for row in ev.get("reliability", []):
        parts.append(
            f"<tr><td>{_fmt(row['mean_predicted'])}</td><td>{_fmt(row['observed'])}"
            f"</td><td>{row['count']}</td></tr>"
        )
    parts.append("</table>")
    for attribute, groups in (ev.get("fairness") or {}).items():
        parts.append(
            f"<h4>By {html.escape(attribute)} (95% bootstrap intervals)</h4><table border=1 "
            "cellpadding=3><tr><th>Group</th><th>Rows</th><th>Harm rate</th><th>Mean score</th>"
            "<th>ROC AUC</th><th>95% CI</th><th>Brier</th><th>95% CI</th></tr>"
        )
        for g in groups:
            parts.append(
                f"<tr><td>{html.escape(g['group'])}</td><td>{g['count']}</td>"
                f"<td>{_fmt(g.get('positive_rate'))}</td><td>{_fmt(g.get('mean_score'))}</td>"
                f"<td>{_fmt(g.get('roc_auc'))}</td><td>{_fmt(g.get('roc_auc_ci'))}</td>"
                f"<td>{_fmt(g.get('brier'))}</td><td>{_fmt(g.get('brier_ci'))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h4>Warnings</h4><ul>")
    parts += [f"<li>{html.escape(w)}</li>" for w in ev.get("warnings", [])]
    parts.append("</ul>")
    return "".join(parts)


class ModelView(QWidget):
    """Train, inspect, activate and deactivate harm-score models."""

    training_finished = Signal(str)  # model id
    training_failed = Signal(str)  # message
    active_changed = Signal(object)  # model id or None

    def __init__(
        self, db: Database, parent: QWidget | None = None, *, tasks: Tasks | None = None
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks: Tasks = tasks or getattr(parent, "tasks", None) or Tasks(self)
        self.job: Job | None = None

        self.status = QLabel(objectName="modelStatus")
        self.status.setWordWrap(True)
        self.classifier = QComboBox()
        self.classifier.addItems(["auto", "logistic", "hgb"])
        self.classifier.setToolTip(
            "auto measures logistic regression and gradient boosting "
            "on the last part of the training period and keeps the better"
        )
        self.train_button = QPushButton("Train new model")
        self.train_button.clicked.connect(self.train)
        # Training's progress, its messages and Cancel; other outcomes
        # (activation, card export) are said on the same line.
        self.progress = JobProgress()
        self.cancel_button = self.progress.cancel_button
        self.progress_text = plain(self.progress.text)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Harm models")
        self.table.setHorizontalHeaderLabels([title for _key, title in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.activate_button = QPushButton("Activate selected")
        self.activate_button.clicked.connect(self.activate_selected)
        self.deactivate_button = QPushButton("Deactivate")
        self.deactivate_button.clicked.connect(self.deactivate)
        self.export_button = QPushButton("Export card…")
        self.export_button.clicked.connect(self.export_card)

        current = settings.load()
        self.weight = QDoubleSpinBox()
        self.weight.setRange(0.0, 10.0)
        self.weight.setSingleStep(0.5)
        self.weight.setValue(current.model_weight)
        self.weight.setToolTip(
            "0 = the score is shown but never moves the queue; it can only "
            "re-order items within a rules bucket"
        )
        self.weight.valueChanged.connect(self._save_settings)
        self.hide_score = QCheckBox("Hide the score until the item is decided")
        self.hide_score.setChecked(current.hide_model_score_until_decided)
        self.hide_score.toggled.connect(self._save_settings)

        self.evaluation = QTextBrowser(objectName="modelEvaluation")
        self.card = QTextBrowser(objectName="modelCard")
        tabs = QTabWidget()
        tabs.addTab(self.evaluation, "Evaluation")
        tabs.addTab(self.card, "Model card")

        train_row = QHBoxLayout()
        train_row.addWidget(QLabel("Classifier:"))
        train_row.addWidget(self.classifier)
        train_row.addWidget(self.train_button)
        train_row.addWidget(self.progress, 1)
        settings_row = QHBoxLayout()
        settings_row.addWidget(QLabel("Ranking weight:"))
        settings_row.addWidget(self.weight)
        settings_row.addWidget(self.hide_score)
        settings_row.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.activate_button)
        buttons.addWidget(self.deactivate_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(self.table)
        upper_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(tabs)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(train_row)
        layout.addLayout(settings_row)
        layout.addWidget(splitter, 1)

    # -- reading -------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the registry and the active model's status."""
        state = scoring.status(self.db)
        if state["active"] is None:
            self.status.setText("The harm score is <b>off</b>. Ranking uses the rules only.")
        elif state["usable"]:
            self.status.setText(
                f"Harm score <b>on</b>: model {html.escape(state['active'])}. It is advice "
                "beside the rules bucket, never instead of it."
            )
        else:
            self.status.setText(
                f"Model {html.escape(state['active'])} is active but <b>refused</b>: "
                f"{html.escape(state['reason'])}. Ranking uses the rules only."
            )
        with self.db.transaction() as session:
            models = [
                {
                    "id": m.id,
                    "active": m.active,
                    "classifier": m.classifier,
                    "created_at": m.created_at.isoformat(sep=" ", timespec="minutes"),
                    "created_by": m.created_by,
                    "training_rows": m.manifest.get("training", {}).get("rows"),
                    "roc_auc": m.evaluation.get("roc_auc"),
                    "brier": m.evaluation.get("brier"),
                }
                for m in reversed(registry.all_models(session))
            ]
        selected = self.selected_id()
        self.table.setRowCount(len(models))
        for r, model in enumerate(models):
            for c, (key, _title) in enumerate(COLUMNS):
                item = QTableWidgetItem(_fmt(model[key]))
                item.setData(Qt.ItemDataRole.UserRole, model["id"])
                self.table.setItem(r, c, item)
        target = selected or state["active"] or (models[0]["id"] if models else None)
        for r, model in enumerate(models):
            if model["id"] == target:
                self.table.selectRow(r)
        if not models:
            self.evaluation.setHtml(
                "<p>No model yet. A model needs at least "
                f"{training.MIN_ROWS} accepted outcomes with a result.</p>"
            )
            self.card.clear()
        self._enable()

    def selected_id(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def show_selected(self) -> None:
        model_id = self.selected_id()
        if model_id is None:
            return
        with self.db.transaction() as session:
            row = registry.get(session, model_id)
            manifest, ev = dict(row.manifest), dict(row.evaluation)
        self.evaluation.setHtml(evaluation_html(model_id, manifest, ev))
        self.card.setMarkdown(card.markdown(manifest, ev))
        self._enable()

    def _enable(self) -> None:
        busy = self.job is not None
        self.train_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        has = self.selected_id() is not None
        self.activate_button.setEnabled(has and not busy)
        self.export_button.setEnabled(has)
        self.deactivate_button.setEnabled(not busy)

    # -- actions -------------------------------------------------------------------

    def train(self) -> None:
        """Fit on a reader thread, then register on the writer thread: meeting
        decisions queued behind a 20-second fit would wait for all of it."""
        kind = self.classifier.currentText()
        db, actor = self.db, identity.current()

        self.job = self.tasks.read(
            lambda job: training.fit(db, actor=actor, classifier=kind, job=job),
            on_done=self._register,
            on_fail=self._failed,
            on_progress=self.progress.show_progress,
            on_cancel=self._cancelled,
        )
        self.progress.start(self.job, "Training…")
        self._enable()

    def _register(self, fitted: training.FittedModel) -> None:
        db, fit_job, actor = self.db, self.job, identity.current()

        def register(job: Job) -> str:
            # Cancel pressed after the last check of the fit, or while this
            # waited for the writer: nothing is registered.
            if job.cancelled or (fit_job is not None and fit_job.cancelled):
                training.discard(fitted)
                raise Cancelled("training cancelled")
            return training.register(db, fitted, actor=actor, job=job).model_id

        self.job = self.tasks.write(
            register,
            on_done=self._trained,
            on_fail=self._failed,
            on_progress=self.progress.show_progress,
            on_cancel=self._cancelled,
        )
        self.progress.job = self.job  # Cancel now stops the registration

    def cancel(self) -> None:
        self.progress.cancel()

    def _trained(self, model_id: str) -> None:
        self.job = None
        self.progress.finish(
            f"Trained {model_id}. Read its evaluation before activating.", done=True
        )
        self.table.clearSelection()
        self.refresh()
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == model_id:
                self.table.selectRow(r)
        self.training_finished.emit(model_id)

    def _failed(self, message: str) -> None:
        self.job = None
        self.progress.finish(f"Not trained: {message}", done=False)
        self._enable()
        self.training_failed.emit(message)

    def _cancelled(self, _partial: object) -> None:
        self._failed("Cancelled.")

    def activate_selected(self) -> None:
        model_id = self.selected_id()
        if model_id is None:
            return
        db, actor = self.db, identity.current()

        def run(_job: Job) -> str:
            # Verify before activating: a refused artefact never becomes active.
            scoring.load_model(db, model_id)
            with db.transaction() as session:
                registry.set_active(session, model_id, actor)
            return model_id

        self._switch(run, f"Model {model_id} activated; the queue is re-ranked.", "Not activated")

    def deactivate(self) -> None:
        db, actor = self.db, identity.current()

        def run(_job: Job) -> None:
            with db.transaction() as session:
                registry.set_active(session, None, actor)

        self._switch(run, "Harm score off.", "Not deactivated")

    def _switch(self, run, done_text: str, fail_text: str) -> None:
        """Activate or deactivate on the single writer thread, then re-rank."""

        def done(model_id: str | None) -> None:
            self.progress_text.setText(done_text)
            self.refresh()
            self.active_changed.emit(model_id)
            self._rerank()

        self.tasks.write(
            run, on_done=done, on_fail=lambda m: self.progress_text.setText(f"{fail_text}: {m}")
        )

    def _rerank(self) -> None:
        # The main window owns re-ranking (it fills intel_rank.harm_score).
        window = self.window()
        if window is not self and hasattr(window, "rerank"):
            window.rerank()

    def export_card(self, path: str | None = None) -> Path | None:
        model_id = self.selected_id()
        if model_id is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export model card", f"model-card-{model_id}.md", "Markdown (*.md)"
            )
            if not path:
                return None
        with self.db.transaction() as session:
            row = registry.get(session, model_id)
            text = card.markdown(dict(row.manifest), dict(row.evaluation))
        target = Path(path)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as error:
            self.progress_text.setText(f"Model card not written: {target}: {error.strerror}")
            return None
        self.progress_text.setText(f"Model card written to {target}")
        return target

    def _save_settings(self) -> None:
        current = settings.load()
        current.model_weight = float(self.weight.value())
        current.hide_model_score_until_decided = self.hide_score.isChecked()
        settings.save(current)
