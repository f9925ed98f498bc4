"""The app's one progress widget for a background job (``triage.jobs.Job``).

A bar for the fraction done, the job's latest message under it and a
Cancel button that cancels the job; every screen that runs a long core
operation (import, model training, ...) shows it through this widget.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from triage.jobs import Job

STEPS = 1000  # the bar's resolution: tenths of a percent


class JobProgress(QWidget):
    """Progress, message and Cancel of the job on show (one at a time)."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job: Job | None = None
        self.bar = QProgressBar()
        self.bar.setRange(0, STEPS)
        self.bar.setFormat("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.text = QLabel()
        self.text.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.text)

    def start(self, job: Job, message: str) -> None:
        """Show ``job`` from nothing done; Cancel now cancels it."""
        self.job = job
        self.bar.setValue(0)
        self.bar.setFormat("%p%")
        self.text.setText(message)
        self.cancel_button.setEnabled(True)

    def show_progress(self, fraction: float, message: str) -> None:
        """The ``progress_changed`` slot of ``ui.tasks``."""
        self.bar.setValue(round(fraction * STEPS))
        if message:
            self.text.setText(message)

    def finish(self, message: str, *, done: bool) -> None:
        """The job ended: full bar if ``done``, else empty; ``message`` says how."""
        self.job = None
        self.cancel_button.setEnabled(False)
        self.bar.setValue(STEPS if done else 0)
        self.bar.setFormat("done" if done else "")
        self.text.setText(message)

    def fraction(self) -> float:
        return self.bar.value() / STEPS

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.text.setText("Cancelling…")
            self.cancel_requested.emit()
