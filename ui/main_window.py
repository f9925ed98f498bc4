"""The main window: navigation, the screens, File menu and the status bar.

Screens written by other parts of the project (EM caseload, Statistics,
Model) are imported lazily when first shown; until a build has them, a
placeholder says so. Every screen is built on first visit, so start-up only
pays for the Intelligence queue.
"""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from triage import paths, settings
from triage.intel import ranking
from triage.jobs import Job
from triage.ops.status import store_counts
from triage.rules import PackError
from triage.store.db import Database, limit_page_cache, open_database
from ui import access, identity, labels, login, theme
from ui.passphrase import NewDatabaseDialog, open_asking
from ui.plain import plain, warn
from ui.rows_model import KEPT_WIDTHS
from ui.tasks import Tasks

log = logging.getLogger(__name__)

# (navigation text, page key)
PAGES = (
    ("Intelligence", "intel"),
    ("EM caseload", "em"),
    ("Meetings", "meetings"),
    ("Statistics", "stats"),
    ("Imports", "imports"),
    ("Rules", "rules"),
    ("Model", "model"),
    ("Settings", "settings"),
    ("Quality assurance", "qa"),
)
# Screens that show the stored ranking: it is brought up to date when they are shown.
RANKED_PAGES = ("intel", "stats")
# Views other helpers provide: module, class, what the placeholder says.
EMBEDDED = {
    "em": ("ui.em_view", "EmCaseloadView", "EM caseload"),
    "stats": ("ui.dashboard_view", "DashboardView", "Statistics dashboard"),
    "model": ("ui.model_view", "ModelView", "Harm model"),
}


def layout_store() -> QSettings:
    """Where the window layout is kept: ``layout.ini`` beside the settings
    (so ``TRIAGE_HOME`` moves it too, and tests never touch the user's)."""
    return QSettings(str(paths.data_dir() / "layout.ini"), QSettings.Format.IniFormat)


def placeholder(title: str, reason: str) -> QLabel:
    label = QLabel(f"<h2>{title}</h2><p>{reason}</p>", objectName="placeholder")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


# SQLite page cache per connection in the app (KiB, negative as PRAGMA wants).
# The core opens connections with 128 MB for bulk imports and ranking; the app
# may hold five at once (UI thread, writer, two readers, the queue reader), which
# would put a million-item database well past its 600 MB budget. The operating
# system's file cache keeps re-reads fast whatever this is.
APP_PAGE_CACHE_KIB = 32768


def keep_startup_objects_out_of_full_collections() -> None:
    """Once the window is up, move every object made so far (modules, mappers,
    widgets and their wrappers: about 140,000) out of the garbage collector's
    full collections (``gc.freeze``). Each full collection walked all of them:
    70-85 ms of CPU on whichever thread's allocation set it off, which fell
    now and then in a meeting's start or on the EM page (issue 15.1). Objects
    freed by their reference count are freed as before; only reference cycles
    among those start-up objects are kept, which live as long as the window."""
    QTimer.singleShot(0, gc.freeze)


class MainWindow(QMainWindow):
    def __init__(self, db: Database, tasks: Tasks | None = None) -> None:
        super().__init__()
        theme.style(self)
        self.db = db
        limit_page_cache(db, APP_PAGE_CACHE_KIB)
        self.tasks = tasks or Tasks(self)
        self.pages: dict[str, QWidget] = {}
        # Built screens whose data changed since they were last shown.
        self._stale: set[str] = set()
        self.setWindowTitle(f"Triage — {db.name}")
        limit = access.available_size(self)
        self.resize(min(1440, limit.width()), min(900, limit.height()))
        self.layout_store = layout_store()
        labels.use_time_zone(settings.load().display_time_zone)
        self.help_dialog: QDialog | None = None

        self.nav = QListWidget(objectName="nav")
        self.nav.setFixedWidth(200)
        for text_, _key in PAGES:
            self.nav.addItem(text_)
        self.stack = QStackedWidget()
        self._slots = {}
        for _text, key in PAGES:
            holder = QWidget()
            self._slots[key] = holder
            self.stack.addWidget(holder)
        self.nav.currentRowChanged.connect(self._nav_changed)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.db_label = plain(QLabel())
        self.pack_label = plain(QLabel())
        self.counts_label = plain(QLabel())
        self.job_label = plain(QLabel())
        bar = self.statusBar()
        bar.addWidget(self.db_label, 1)
        bar.addPermanentWidget(self.job_label)
        bar.addPermanentWidget(self.counts_label)
        bar.addPermanentWidget(self.pack_label)
        self._menus()
        self.nav.setCurrentRow(0)
        self.update_status(counts=False)
        self._count_after_first_page()
        self.ensure_ranked()
        self.nav.setAccessibleName("Screens")
        geometry = self.layout_store.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        access.keep_on_screen(self)

    # -- pages ---------------------------------------------------------------------

    def page(self, key: str) -> QWidget:
        """The screen for ``key``, built on first use."""
        if key not in self.pages:
            widget = self._build(key)
            self._put(key, widget)
            self.pages[key] = widget
        return self.pages[key]

    def _put(self, key: str, widget: QWidget) -> None:
        """Put ``widget`` in ``key``'s place in the stack, deleting what was there.

        Each screen sits in a scroll area: a screen that needs more room than
        the window has (a long reason panel, a long file name) scrolls instead
        of growing the window past the screen."""
        old = self._slots[key]
        index = self.stack.indexOf(old)
        self.stack.removeWidget(old)
        old.deleteLater()
        holder = QScrollArea()
        holder.setWidgetResizable(True)
        holder.setFrameShape(QScrollArea.Shape.NoFrame)
        access.prepare(widget)
        self._restore_layout(key, widget)
        # The holder joins the window empty, then the screen, made outside the
        # window, joins it once: each move of a whole screen into the styled
        # window re-polishes every widget in it (tens of ms each time).
        self.stack.insertWidget(index, holder)
        holder.setWidget(widget)
        self._slots[key] = holder

    def _build(self, key: str) -> QWidget:
        if key == "intel":
            from ui.intel_view import IntelligenceView

            view = IntelligenceView(self.db, self.tasks)
            view.refresh()
            return view
        if key == "meetings":
            from ui.meeting_view import MeetingsView

            view = MeetingsView(self.db, self.tasks)
            # A meeting decision only marks the other screens out of date: they
            # re-read when shown, so keystrokes never wait for a million-row queue.
            view.changed.connect(self._mark_stale)
            view.refresh()
            return view
        if key == "imports":
            from ui.imports_view import ImportsView

            view = ImportsView(self.db, self.tasks)
            view.import_finished.connect(lambda _result: self.ensure_ranked())
            view.refresh()
            return view
        if key == "settings":
            from ui.settings_view import SettingsView

            view = SettingsView(self.db)
            # A new time zone or name shows on the other screens when next visited.
            view.saved.connect(self._mark_stale)
            return view
        if key == "qa":
            from ui.qa_view import QaView

            view = QaView(self.db, self.tasks)
            view.changed.connect(lambda: self._others_changed("qa"))
            view.refresh()
            return view
        if key == "rules":
            from ui.rules_view import RulesView

            view = RulesView(self.db, self.tasks)
            view.refresh()
            return view
        module_name, class_name, title = EMBEDDED[key]
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            return placeholder(title, "This screen is not part of this build yet.")
        try:
            # Made outside the window (styled once as it joins it, in _put).
            view = cls(self.db, tasks=self.tasks)
            if key == "stats" and hasattr(view, "drill_down_requested"):
                view.drill_down_requested.connect(self.drill_down)
            if key == "em":
                # Bridge items joined the ranked queue: the other screens re-read.
                view.em_refreshed.connect(lambda _result: self._others_changed("em"))
            view.refresh()
        except Exception as error:  # a broken screen must not take the app down
            log.exception("could not open the %s screen", title)
            return placeholder(title, f"Could not open this screen: {error}")
        return view

    def _nav_changed(self, row: int) -> None:
        key = PAGES[row][1]
        widget = self.page(key)
        self.stack.setCurrentWidget(self._slots[key])
        if key in RANKED_PAGES:
            self.ensure_ranked()  # a decision, an import or a new day may have made it stale
        if key in self._stale:
            self._stale.discard(key)
            self._refresh(key, widget)
        if key == "meetings":
            widget.setFocus()

    def show_page(self, key: str) -> QWidget:
        self.nav.setCurrentRow([k for _t, k in PAGES].index(key))
        return self.pages[key]

    def drill_down(self, filters: dict) -> None:
        """From a dashboard figure to the queue behind it."""
        self.show_page("intel").set_filters(filters)

    # -- menus and status ----------------------------------------------------------

    def _action(self, menu, text_: str, slot: Callable, shortcut=None) -> QAction:
        action = QAction(text_, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New database…", self.new_database, QKeySequence.StandardKey.New)
        self._action(
            file_menu, "&Open database…", self.open_database_dialog, QKeySequence.StandardKey.Open
        )
        self._action(file_menu, "Open &server database…", self.open_server_dialog)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._action(file_menu, "&Sync with the team server…", self.open_sync)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        data_menu = self.menuBar().addMenu("&Data")
        self._action(data_menu, "&Re-rank now", self.rerank, "Ctrl+R")
        go_menu = self.menuBar().addMenu("&Go")
        for n, (text_, _key) in enumerate(PAGES, 1):
            self._action(
                go_menu, text_, lambda _=False, row=n - 1: self.nav.setCurrentRow(row), f"Ctrl+{n}"
            )
        help_menu = self.menuBar().addMenu("&Help")
        self._action(
            help_menu, "&Help and keys", self.show_help, QKeySequence.StandardKey.HelpContents
        )
        self._action(help_menu, "&About Triage", self.show_about)

    def show_about(self) -> None:
        """Help > About: version, build, data versions, components' licences."""
        from triage.ops.about import about
        from ui.about import AboutDialog

        AboutDialog(about(self.db), self).exec()

    def open_sync(self) -> QDialog:
        """File > Sync: push this laptop copy's offline work, or pull a new copy."""
        from ui.sync_dialog import SyncDialog

        dialog = SyncDialog(self, self.db, self.tasks)
        dialog.finished.connect(lambda _result: self._data_changed())
        dialog.open()
        return dialog

    def show_help(self) -> None:
        """F1: the help window, beside the app (not modal), closed by Esc."""
        from ui.help import HelpDialog

        if self.help_dialog is None:
            self.help_dialog = HelpDialog(self)
        self.help_dialog.show()
        self.help_dialog.raise_()
        self.help_dialog.activateWindow()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in settings.load().recent_databases:
            self._action(self.recent_menu, path, lambda _=False, p=path: self.open_recent(p))
        if not self.recent_menu.actions():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def ensure_ranked(self) -> None:
        """Bring the stored ranking up to date on the writer thread
        (``ranking.ensure_current``: one cheap read when nothing changed); when
        it had to re-rank, the screens re-read."""
        db, weight = self.db, identity.model_weight()

        def work(_job: Job) -> ranking.RankRun | None:
            try:
                return ranking.ensure_current(db, model_weight=weight)
            except PackError:
                return None  # the Rules screen explains; keep the ranks we have

        self.tasks.write(
            work, on_done=lambda run: run is not None and db is self.db and self._ranked(run)
        )

    def _count_after_first_page(self) -> None:
        """The status bar's counts are read once the queue's first page is
        on screen: counting a million items takes 0.2 s of CPU, which beside
        the first page's read took a core from the launch."""
        model = self.pages["intel"].model  # type: ignore[attr-defined]
        waiting = True

        def first_page(_count: int) -> None:
            nonlocal waiting
            if waiting:
                waiting = False
                QTimer.singleShot(0, self, self._read_counts)  # after its paint

        model.first_page_ready.connect(first_page)

    def update_status(self, counts: bool = True) -> None:
        who = identity.current().describe()
        # Signed in first: the protection ends the line, as the status bar always had it.
        self.db_label.setText(
            f"Database: {self.db.location} · signed in as {who} · {self.db.protection}"
        )
        try:
            self.pack_label.setText(f"Rule pack {ranking.pack_in_force().version[:10]}")
        except PackError:
            self.pack_label.setText("⚠ Rule pack refused (see Rules)")
        if counts:
            self._read_counts()

    def _read_counts(self) -> None:
        db = self.db
        self.tasks.read(lambda _job: store_counts(db).text(), on_done=self.counts_label.setText)

    # -- background work -----------------------------------------------------------

    def rerank(self) -> None:
        self.job_label.setText("Ranking…")
        weight = identity.model_weight()
        self.tasks.write(
            lambda job: ranking.refresh(self.db, model_weight=weight),
            on_done=self._ranked,
            on_fail=lambda m: self.job_label.setText(f"⚠ Ranking failed: {m}"),
        )

    def _ranked(self, run: ranking.RankRun) -> None:
        self.job_label.setText(
            f"Ranked {run.items:,} items" + (f" in {run.seconds:.1f} s" if run.seconds else "")
        )
        self._data_changed()

    def _data_changed(self) -> None:
        """After an import or a re-rank: refresh the screen on show, mark the rest."""
        self.update_status()
        self._mark_stale()
        current = self.stack.currentWidget()
        for key, widget in self.pages.items():
            if self._slots[key] is current and not (key == "meetings" and widget.in_meeting()):
                self._stale.discard(key)
                self._refresh(key, widget)

    def _others_changed(self, key: str) -> None:
        """Screen ``key`` changed data it has already re-read: the rest re-read on show."""
        self.update_status()
        self._stale.update(k for k in self.pages if k != key)

    def _mark_stale(self) -> None:
        self._stale.update(self.pages)

    def _refresh(self, key: str, widget: QWidget) -> None:
        if hasattr(widget, "refresh"):
            try:
                widget.refresh()
            except Exception:
                log.exception("refreshing the %s screen failed", key)

    # -- databases -----------------------------------------------------------------

    def new_database(self) -> None:
        path, _f = QFileDialog.getSaveFileName(
            self, "New database", "triage.sqlite", "Triage database (*.sqlite)"
        )
        if not path:
            return
        target = Path(path)
        if self.db.path is not None and target.resolve() == self.db.path.resolve():
            warn(self, "New database", f"{path} is the database open now: choose another name.")
            return
        choice = NewDatabaseDialog(target, self)
        if choice.exec() != QDialog.DialogCode.Accepted:
            return
        # The dialog asked before overwriting; a stale -wal file would be replayed
        # into the new database, so it goes too.
        for old in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            old.unlink(missing_ok=True)
        try:
            db = open_database(target, choice.passphrase(), settings.load().backups_kept)
        except Exception as error:
            QMessageBox.warning(self, "New database", f"{path}: {error}")
            return
        self._adopt(db)

    def open_database_dialog(self) -> None:
        path, _f = QFileDialog.getOpenFileName(
            self, "Open database", "", "Triage database (*.sqlite *.db);;All files (*)"
        )
        if path:
            self.switch_database(path)

    def open_server_dialog(self) -> None:
        """A database on a team's PostgreSQL server, by its address."""
        from PySide6.QtWidgets import QInputDialog

        url, ok = QInputDialog.getText(
            self,
            "Open server database",
            "Server address (postgresql+psycopg://user@host:5432/database;\n"
            "the password from ~/.pgpass or PGPASSWORD, or in the address):",
        )
        if ok and url.strip():
            self.switch_database(url.strip())

    def open_recent(self, path: str) -> None:
        """A recent database, unless it was moved or deleted since (opening a
        missing path would silently create an empty database there)."""
        if not paths.is_url(path) and not Path(path).exists():
            stored = settings.load()
            stored.recent_databases = [p for p in stored.recent_databases if p != path]
            settings.save(stored)
            warn(self, "Cannot open database", f"{path} no longer exists (moved or deleted).")
            return
        self.switch_database(path)

    def switch_database(self, path: str) -> None:
        try:
            db = open_asking(path, self, settings.load().backups_kept)
        except Exception as error:
            warn(self, "Cannot open database", f"{paths.without_password(path)}: {error}")
            return
        if db is not None:
            self._adopt(db)

    def _adopt(self, db: Database) -> None:
        """Show a database just opened, and remember it among the recent ones."""
        actor = login.sign_in_to(db, self)
        if actor is None:  # gave up signing in: stay on the database in use
            db.close()
            return
        identity.sign_in(actor)
        self.tasks.wait()
        stored = settings.load()
        stored.remember_database(db.location)
        settings.save(stored)
        self.set_database(db)

    def set_database(self, db: Database) -> None:
        """Show another database: every screen is rebuilt on it."""
        limit_page_cache(db, APP_PAGE_CACHE_KIB)
        old, self.db = self.db, db
        self.save_layout()
        for key in self.pages:
            self._put(key, QWidget())
        self.pages.clear()
        self._stale.clear()
        old.close()
        self.setWindowTitle(f"Triage — {db.name}")
        self._nav_changed(self.nav.currentRow())
        self.update_status()
        self.ensure_ranked()

    # -- layout kept between runs --------------------------------------------------

    def _parts(self, key: str, widget: QWidget) -> dict[str, QSplitter | QHeaderView]:
        """A screen's splitters and table headers, by a name stable across runs.

        A header is named by its table's accessible name and column count, not
        by its place among the screen's children: that order changes as tabs
        and panels are shown, and a state restored onto another table (the
        8-column meeting list's onto the 5-column results) made Qt ask for
        columns the model does not have and crashed the app."""
        parts: dict[str, QSplitter | QHeaderView] = {}
        for n, splitter in enumerate(widget.findChildren(QSplitter)):
            parts[f"{key}/splitter{n}"] = splitter
        for header in widget.findChildren(QHeaderView):
            view, model = header.parent(), header.model()
            if header.orientation() != Qt.Orientation.Horizontal or model is None:
                continue
            if model.columnCount() == 0:  # filled later (a statistics table): nothing to keep
                continue
            table = view.accessibleName() if isinstance(view, QWidget) else ""
            name = f"{key}/{table or 'table'} ({model.columnCount()} columns)"
            if name not in parts:  # two alike tables: the first keeps its layout
                parts[name] = header
        return parts

    def _restore_layout(self, key: str, widget: QWidget) -> None:
        for name, part in self._parts(key, widget).items():
            state = self.layout_store.value(name)
            if isinstance(state, QByteArray) and part.restoreState(state):
                part.setProperty(KEPT_WIDTHS, True)

    def save_layout(self) -> None:
        """The window's place and size, splitters and column widths, for next time."""
        self.layout_store.setValue("window/geometry", self.saveGeometry())
        for key, widget in self.pages.items():
            for name, part in self._parts(key, widget).items():
                self.layout_store.setValue(name, part.saveState())
        self.layout_store.sync()

    def closeEvent(self, event) -> None:
        self.tasks.wait()
        self.save_layout()
        super().closeEvent(event)
