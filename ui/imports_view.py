"""The Imports screen: pick or drop an extract, map its columns if needed,
import it with progress and cancel, read the summary, and fix quarantined
rows in place (or discard a junk row, with a reason).

The kind of extract is detected from its header
(``triage.imports.columns.detect_kind``). When the header is not canonical, a mapping
step pairs each source column with a canonical one; the mapping is saved as a
named profile in the settings and offered again for the next extract that
has those headers.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from triage import settings
from triage.imports import importer
from triage.imports.columns import KINDS, detect_kind
from triage.imports.extracts import Extract, UnreadableFile, wrong_separator
from triage.imports.quarantine import quarantined_rows
from triage.jobs import Job
from triage.store.db import Database
from triage.store.models import QuarantinedRow
from ui import access, identity, theme
from ui.job_progress import JobProgress
from ui.labels import esc
from ui.plain import plain
from ui.tasks import Tasks

KIND_LABELS = {
    "intel": "Intelligence items",
    "em-cases": "EM cases",
    "em-events": "EM events",
    "outcomes": "Tasking outcomes",
    "service-levels": "EMS service levels",
    "process-issues": "EM process issues",
}
IGNORE = "(keep as extra column)"


def matching_profile(headers: list[str]) -> tuple[str, dict[str, str], str] | None:
    """A saved profile whose source columns are all in ``headers`` and that
    turns them into a recognised extract: (name, mapping, kind)."""
    folded = {h.strip().casefold() for h in headers}
    for name, mapping in settings.load().mapping_profiles.items():
        if mapping and {k.strip().casefold() for k in mapping} <= folded:
            kind = detect_kind(apply_mapping(headers, mapping))
            if kind:
                return name, mapping, kind
    return None


def apply_mapping(headers: list[str], mapping: dict[str, str]) -> list[str]:
    folded = {k.strip().casefold(): v for k, v in mapping.items()}
    return [folded.get(h.strip().casefold(), h) for h in headers]


class MappingDialog(QDialog):
    """Pair each source column with a canonical column; save as a profile."""

    def __init__(self, file_name: str, headers: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Map the columns of {file_name}")
        self.headers = headers
        self.kind = QComboBox()
        for kind, text in KIND_LABELS.items():
            self.kind.addItem(text, kind)
        self.table = QTableWidget(len(headers), 2)
        self.table.setAccessibleName("Column mapping")
        self.table.setHorizontalHeaderLabels(["Column in the file", "Canonical column"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.combos: list[QComboBox] = []
        for n, header in enumerate(headers):
            item = QTableWidgetItem(header)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(n, 0, item)
            combo = QComboBox()
            combo.setAccessibleName(f"Canonical column for column {n + 1}")
            self.combos.append(combo)
            self.table.setCellWidget(n, 1, combo)
        self.profile = QLineEdit(
            placeholderText="Profile name, e.g. 'Casework system weekly extract'"
        )
        self.problem = plain(QLabel())
        self.problem.setStyleSheet(f"color: {theme.colour('bad')}; font-weight: 600")
        self.kind.currentIndexChanged.connect(self._fill_choices)
        self._fill_choices()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import with this mapping")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Kind of extract", self.kind)
        form.addRow(self.table)
        form.addRow("Save as profile", self.profile)
        form.addRow(self.problem)
        form.addRow(buttons)
        self.resize(640, 520)
        access.prepare(self)

    def _fill_choices(self) -> None:
        spec = KINDS[self.kind.currentData()]
        names = [c.name for c in spec.columns]
        for header, combo in zip(self.headers, self.combos, strict=True):
            combo.clear()
            combo.addItem(IGNORE, None)
            for name in names:
                combo.addItem(name + (" (required)" if name in spec.required else ""), name)
            guess = header.strip().casefold().replace(" ", "_")
            index = combo.findData(guess)
            combo.setCurrentIndex(max(0, index))

    def mapping(self) -> dict[str, str]:
        return {
            header: combo.currentData()
            for header, combo in zip(self.headers, self.combos, strict=True)
            if combo.currentData() and combo.currentData() != header.strip().casefold()
        }

    def selected_kind(self) -> str:
        return self.kind.currentData()

    def _check(self) -> None:
        spec = KINDS[self.selected_kind()]
        chosen = [c.currentData() for c in self.combos if c.currentData()]
        missing = [name for name in spec.required if name not in chosen]
        repeated = sorted({name for name in chosen if chosen.count(name) > 1})
        if missing:
            self.problem.setText(f"Map the required column(s): {', '.join(missing)}")
        elif repeated:
            self.problem.setText(f"Each canonical column once only: {', '.join(repeated)}")
        else:
            self.accept()


class QuarantinePanel(QWidget):
    """Bad rows of every import: fix the cells in place and re-import, or
    discard a row that is junk (it is kept, marked discarded, with the reason)."""

    changed = Signal()

    def __init__(self, db: Database, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.rows: list[QuarantinedRow] = []
        self.list = QTableWidget(0, 4)
        self.list.setAccessibleName("Quarantined rows")
        self.list.setHorizontalHeaderLabels(["File", "Line", "Kind", "Problem"])
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.verticalHeader().setVisible(False)
        self.list.horizontalHeader().setStretchLastSection(True)
        self.list.setColumnWidth(0, 220)
        self.list.setColumnWidth(1, 60)
        self.list.itemSelectionChanged.connect(self._show_row)
        self.cells = QTableWidget(0, 2)
        self.cells.setAccessibleName("Cells of the selected row")
        self.cells.setHorizontalHeaderLabels(["Column", "Value (double-click to fix)"])
        self.cells.verticalHeader().setVisible(False)
        self.cells.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.reason = plain(QLabel())
        self.reason.setWordWrap(True)
        self.reason.setObjectName("banner")
        self.retry = QPushButton("Re-import the fixed row")
        self.retry.setObjectName("primary")
        self.retry.clicked.connect(self.reimport)
        self.discard_button = QPushButton("Discard row…")
        self.discard_button.clicked.connect(self.ask_discard)
        self.message = plain(QLabel())
        right = QWidget()
        rlayout = QVBoxLayout(right)
        rlayout.addWidget(self.reason)
        rlayout.addWidget(self.cells, 1)
        bar = QHBoxLayout()
        bar.addWidget(self.retry)
        bar.addWidget(self.discard_button)
        bar.addWidget(self.message, 1)
        rlayout.addLayout(bar)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(split)

    def refresh(self) -> None:
        """Re-read the open rows, keeping the row being fixed selected."""
        kept = self.current()
        kept_id = kept.id if kept is not None else None
        self.rows = quarantined_rows(self.db, newest_first=True, limit=5000)
        self.list.blockSignals(True)
        self.list.setRowCount(len(self.rows))
        for n, row in enumerate(self.rows):
            for col, value in enumerate((row.file_name, row.line_no, row.kind, row.reason)):
                self.list.setItem(n, col, QTableWidgetItem(str(value)))
        self.list.blockSignals(False)
        self.cells.setRowCount(0)
        self.reason.setText(
            "Select a quarantined row to fix it."
            if self.rows
            else "The quarantine is empty: every imported row was good."
        )
        if kept_id is not None:
            self.select(kept_id)

    def select(self, row_id: int) -> None:
        for n, row in enumerate(self.rows):
            if row.id == row_id:
                self.list.selectRow(n)
                self._show_row()  # selecting an already selected row emits nothing

    def current(self) -> QuarantinedRow | None:
        n = self.list.currentRow()
        return self.rows[n] if 0 <= n < len(self.rows) else None

    def _show_row(self) -> None:
        row = self.current()
        if row is None:
            return
        self.reason.setText(f"{row.file_name}, line {row.line_no}: {row.reason}")
        self.cells.setRowCount(len(row.raw))
        for n, (header, value) in enumerate(row.raw.items()):
            name = QTableWidgetItem(header)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.cells.setItem(n, 0, name)
            self.cells.setItem(n, 1, QTableWidgetItem(value))

    def fixed_values(self) -> dict[str, str]:
        row = self.current()
        fixed = {}
        for n in range(self.cells.rowCount()):
            header = self.cells.item(n, 0).text()
            value = self.cells.item(n, 1).text()
            if row is not None and row.raw.get(header) != value:
                fixed[header] = value
        return fixed

    def reimport(self) -> None:
        row = self.current()
        if row is None:
            self.message.setText("Select a row first.")
            return
        row_id, fixed = row.id, self.fixed_values()

        def done(result) -> None:
            if result.quarantined:
                reason = result.problems[0][1] if result.problems else "still not valid"
                self.message.setText(f"⚠ Still not valid: {reason}")
            else:
                self.message.setText(f"✔ Line {row.line_no} imported.")
            self.refresh()
            self.changed.emit()

        actor = identity.current()
        self.tasks.write(
            lambda job: importer.reimport_quarantined(self.db, row_id, fixed, actor=actor),
            on_done=done,
            on_fail=lambda m: self.message.setText(f"⚠ {m}"),
        )

    def ask_discard(self) -> None:
        row = self.current()
        if row is None:
            self.message.setText("Select a row first.")
            return
        reason, ok = QInputDialog.getText(
            self,
            "Discard quarantined row",
            f"{row.file_name}, line {row.line_no} will not be imported.\n"
            "Why is it discarded (e.g. a test row, a known duplicate)?",
        )
        if ok:
            # The row the dialog named: a refresh while it was open (a re-import
            # finishing) may have moved the selection to another row.
            self.discard(reason, row)

    def discard(self, reason: str, row: QuarantinedRow | None = None) -> None:
        """Mark ``row`` (by default the selected one) discarded; the reason is
        required and audited."""
        row = row or self.current()
        if row is None:
            self.message.setText("Select a row first.")
            return
        if not reason.strip():
            self.message.setText("⚠ Say why the row is discarded.")
            return
        row_id, line_no = row.id, row.line_no

        def done(_result) -> None:
            self.message.setText(f"✔ Line {line_no} discarded.")
            self.refresh()
            self.changed.emit()

        def failed(message: str) -> None:
            self.message.setText(f"⚠ {message}")
            self.refresh()  # e.g. discarded meanwhile from the command line

        actor = identity.current()
        self.tasks.write(
            lambda job: importer.discard_quarantined(self.db, row_id, reason, actor=actor),
            on_done=done,
            on_fail=failed,
        )


class ImportsView(QWidget):
    """File dialog and drag-and-drop; progress with cancel; summary; quarantine."""

    import_finished = Signal(object)  # ImportResult

    def __init__(self, db: Database, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.job: Job | None = None
        self.setAcceptDrops(True)
        title = QLabel("Imports", objectName="title")
        self.drop = QLabel(
            "Drop a CSV or Excel extract here\n(intelligence items, EM cases, EM events or "
            "tasking outcomes)"
        )
        self.drop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop.setMinimumHeight(110)
        self.drop.setStyleSheet(
            f"border: 2px dashed {theme.colour('border')}; border-radius: 8px; "
            f"background: {theme.colour('base')}; font-size: 13pt;"
        )
        choose = QPushButton("Choose a file…")
        choose.setObjectName("primary")
        choose.clicked.connect(self.choose_file)
        self.progress = JobProgress()
        self.cancel_button = self.progress.cancel_button
        self.summary = QLabel("No import yet in this session.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.quarantine = QuarantinePanel(db, tasks)
        self.quarantine.changed.connect(lambda: self.import_finished.emit(None))

        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(choose)
        top = QWidget()
        tlayout = QVBoxLayout(top)
        tlayout.addLayout(head)
        tlayout.addWidget(self.drop)
        tlayout.addWidget(self.progress)
        tlayout.addWidget(self.summary)
        tabs = QTabWidget()
        tabs.addTab(self.quarantine, "Quarantine: rows to fix")
        self.tabs = tabs
        layout = QVBoxLayout(self)
        layout.addWidget(top)
        layout.addWidget(tabs, 1)

    def refresh(self) -> None:
        self.quarantine.refresh()

    # -- choosing a file ------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.import_path(url.toLocalFile())
                break

    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import an extract", "", "Extracts (*.csv *.xlsx);;All files (*)"
        )
        if path:
            self.import_path(path)

    def plan(self, path: str) -> tuple[str, dict[str, str] | None] | None:
        """Kind and mapping for a file: detected, a saved profile, or asked for."""
        try:
            headers = Extract(Path(path)).header
        except UnreadableFile as error:
            self.refuse(str(error))
            return None
        kind = detect_kind(headers)
        if kind:
            return kind, None
        separator = wrong_separator(headers)
        if separator:
            # A mapping dialog offering one column named "intel_id;received_at;..." helps no one.
            self.summary.setText(f"⚠ {esc(Path(path).name)}: {esc(separator)}")
            return None
        profile = matching_profile(headers)
        if profile:
            name, mapping, kind = profile
            self.summary.setText(f"Using saved column mapping “{esc(name)}”.")
            return kind, mapping
        dialog = MappingDialog(Path(path).name, headers, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            self.summary.setText("Import cancelled: no column mapping.")
            return None
        mapping = dialog.mapping()
        name = dialog.profile.text().strip()
        if name:
            stored = settings.load()
            stored.mapping_profiles[name] = mapping
            settings.save(stored)
        return dialog.selected_kind(), mapping

    def import_path(self, path: str) -> None:
        if self.job is not None:
            self.summary.setText("An import is already running.")
            return
        planned = self.plan(path)
        if planned is None:
            return
        kind, mapping = planned
        self.start_import(path, kind, mapping)

    # -- running ------------------------------------------------------------------

    def start_import(self, path: str, kind: str, mapping: dict[str, str] | None) -> None:
        name = Path(path).name
        self.summary.setText(f"Importing {esc(name)} as {KIND_LABELS[kind].lower()}…")
        db, actor = self.db, identity.current()
        self.job = self.tasks.write(
            lambda job: importer.import_file(db, kind, path, job=job, mapping=mapping, actor=actor),
            on_done=self._done,
            on_fail=self._failed,
            on_progress=self.progress.show_progress,
            on_cancel=self._cancelled,
        )
        self.progress.start(self.job, f"Importing {name}…")

    def cancel(self) -> None:
        self.progress.cancel()

    def _done(self, result) -> None:
        self.job = None
        self.progress.finish(f"{result.rows_read:,} rows read", done=True)
        problems = "".join(
            f"<li>line {line}: {esc(reason)}</li>" for line, reason in result.problems[:5]
        )
        self.summary.setText(
            f"<b>{esc(result.file)}</b> ({esc(KIND_LABELS.get(result.kind, result.kind))}): "
            f"{result.rows_read:,} rows read · {result.inserted:,} new · "
            f"{result.updated:,} updated · "
            f"{result.unchanged:,} unchanged · <b>{result.quarantined:,} quarantined</b>"
            + (
                f" · read as {result.encoding} text"
                if result.encoding and result.encoding != "UTF-8"
                else ""
            )
            + (f"<ul>{problems}</ul>Fix them below and re-import." if problems else "")
        )
        self.quarantine.refresh()
        self.import_finished.emit(result)

    def _failed(self, message: str) -> None:
        self.job = None
        self.progress.finish("", done=False)
        self.refuse(message)

    def _cancelled(self, _partial: object) -> None:
        self.job = None
        self.progress.finish("", done=False)
        self.summary.setText("Import cancelled: nothing was changed.")

    def refuse(self, message: str) -> None:
        """A file that cannot be imported: the core's message, in the summary
        and in a dialog (plain text: it names the user's file), never a trace."""
        self.summary.setText(f"⚠ {esc(message)}")
        self.error_box = QMessageBox(
            QMessageBox.Icon.Warning, "The file was not imported", message, parent=self
        )
        self.error_box.setTextFormat(Qt.TextFormat.PlainText)
        self.error_box.open()  # not exec(): the app (and its tests) carry on
