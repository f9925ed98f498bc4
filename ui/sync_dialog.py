"""File > Sync: push this laptop copy's offline work to its server, or pull a
team's work from a server into a new laptop copy.

Both run the core's ``triage.sync`` operations (the CLI's ``triage sync``)
on the writer thread; conflicts are listed in the dialog, never written.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from triage import settings
from triage.store.db import Database, open_database
from triage.sync.pull import PullResult, pull
from triage.sync.push import CopyStatus, PushResult, push, status
from ui import login
from ui.passphrase import open_asking
from ui.plain import plain


class SyncDialog(QDialog):
    def __init__(self, window: QWidget, db: Database, tasks) -> None:
        super().__init__(window)
        self.window_, self.db, self.tasks = window, db, tasks
        self.server_db: Database | None = None
        self.pulled: Path | None = None
        self.setWindowTitle("Sync with the team server")
        # What this database is as a laptop copy: read off the UI thread, as
        # comparing every pulled item's state takes a moment on a big copy.
        self.copy: CopyStatus | None = None
        self.ready = False
        stored = settings.load()
        layout = QVBoxLayout(self)
        self.about = plain(QLabel("Reading this database's sync state…"))
        self.about.setWordWrap(True)
        layout.addWidget(self.about)
        form = QFormLayout()
        self.server = QLineEdit()
        self.server.setAccessibleName("Server: a database file or URL")
        form.addRow("Server (file or URL)", self.server)
        self.region = QLineEdit(stored.default_region)
        self.region.setAccessibleName("Region")
        form.addRow("Region", self.region)
        self.team = QLineEdit(stored.default_team)
        self.team.setAccessibleName("Team")
        form.addRow("Team", self.team)
        target_row = QHBoxLayout()
        self.target = QLineEdit()
        self.target.setAccessibleName("New laptop copy file")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        target_row.addWidget(self.target, 1)
        target_row.addWidget(browse)
        form.addRow("New laptop copy", target_row)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.push_button = buttons.addButton(
            "&Push offline work", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.pull_button = buttons.addButton(
            "Pu&ll into the new copy", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.push_button.setEnabled(False)
        self.push_button.clicked.connect(self.start_push)
        self.pull_button.clicked.connect(self.start_pull)
        buttons.rejected.connect(self.reject)
        self.report = QPlainTextEdit(readOnly=True)
        self.report.setAccessibleName("Sync report")
        layout.addWidget(self.report, 1)
        layout.addWidget(buttons)
        tasks.read(lambda _job: status(db), on_done=self._show_status, on_fail=self._failed)

    def _show_status(self, copy: CopyStatus | None) -> None:
        first = not self.ready
        self.copy, self.ready = copy, True
        self.about.setText(self._about())
        self.push_button.setEnabled(copy is not None)
        if first and copy is not None:
            self.server.setText(copy.server)
            self.region.setText(copy.region)
            self.team.setText(copy.team)

    def _about(self) -> str:
        if self.copy is None:
            return (
                "This database is not a laptop copy. Pull a team's open queue and its "
                "region's EM caseload from the team server into a new file to work offline."
            )
        unsent = self.copy.unsent
        return (
            f"Laptop copy of {self.copy.region}/{self.copy.team} from {self.copy.server}. "
            f"Not yet pushed: {unsent.text()}."
        )

    def _browse(self) -> None:
        path, _f = QFileDialog.getSaveFileName(
            self, "New laptop copy", "laptop.sqlite", "Triage database (*.sqlite)"
        )
        if path:
            self.target.setText(path)

    def _busy(self, busy: bool) -> None:
        self.push_button.setEnabled(not busy and self.copy is not None)
        self.pull_button.setEnabled(not busy)

    def _open_server(self) -> tuple[Database, object] | None:
        """The server opened and the user signed in on it (None: given up, or failed)."""
        text = self.server.text().strip()
        if not text:
            self.report.setPlainText("Give the server: its database file or URL.")
            return None
        try:
            if "://" in text:
                server = open_database(text)
            else:
                if not Path(text).is_file():
                    self.report.setPlainText(f"{text}: no such database.")
                    return None
                server = open_asking(Path(text), self)
        except Exception as error:  # unreachable, refused, not a database: said as it is
            self.report.setPlainText(f"Cannot open the server: {error}")
            return None
        if server is None:
            return None
        actor = login.sign_in_to(server, self)
        if actor is None:
            server.close()
            return None
        self.server_db = server
        return server, actor

    def _done_with_server(self) -> None:
        if self.server_db is not None:
            self.server_db.close()
            self.server_db = None
        self._busy(False)

    def _failed(self, message: str) -> None:
        self._done_with_server()
        self.report.setPlainText(f"Not done: {message}")

    def start_push(self) -> None:
        opened = self._open_server()
        if opened is None:
            return
        server, actor = opened
        self._busy(True)
        self.report.setPlainText("Pushing…")
        db = self.db
        self.tasks.write(
            lambda job: push(db, server, actor=actor, job=job),
            on_done=self._pushed,
            on_fail=self._failed,
        )

    def _pushed(self, result: PushResult) -> None:
        self._done_with_server()
        lines = [
            f"Pushed: {result.applied['intel']} items, {result.applied['em']} EM cases, "
            f"{result.notes} notes, {result.meetings} meetings."
        ]
        if result.conflicts:
            lines.append(
                f"{len(result.conflicts)} conflict(s), not sent: the server's decision stands."
            )
            lines += [f"• {c.text()}" for c in result.conflicts]
        self.report.setPlainText("\n".join(lines))
        db = self.db
        self.tasks.read(lambda _job: status(db), on_done=self._show_status)

    def start_pull(self) -> None:
        target = self.target.text().strip()
        if not target:
            self.report.setPlainText("Choose a file for the new laptop copy.")
            return
        path = Path(target)
        if self.db.path is not None and path.exists() and path.resolve() == self.db.path.resolve():
            self.report.setPlainText("That is the database open now: choose another file.")
            return
        opened = self._open_server()
        if opened is None:
            return
        server, actor = opened
        region, team = self.region.text().strip(), self.team.text().strip()
        self._busy(True)
        self.report.setPlainText("Pulling…")
        self.tasks.write(
            lambda job: pull(server, path, region=region, team=team, actor=actor, job=job),
            on_done=self._pulled,
            on_fail=self._failed,
        )

    def _pulled(self, result: PullResult) -> None:
        self._done_with_server()
        self.pulled = result.target
        counts = result.counts
        self.report.setPlainText(
            f"Pulled {result.region}/{result.team} into {result.target}: {counts['items']} open "
            f"items, {counts['em_cases']} EM cases. Open it with File > Open database."
        )
