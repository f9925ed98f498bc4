"""The statistics dashboard: the same tables as ``triage stats``, with bar charts.

Every figure is a ``StatTable`` from ``triage.stats`` (so the dashboard, the
CLI and the exports can never disagree), shown as a simple bar chart drawn
with QPainter (no QtCharts in PySide6-Essentials) above the table itself.
Clicking a bar or a cell that stands for a set of items emits
``drill_down_requested`` with the queue filters behind it (e.g.
``{"region": "LSE", "buckets": [5, 6], "statuses": ["open"]}``); the main
window opens the intelligence queue with them. ``refresh()`` is called by the
main window after each import and meeting.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from triage import clock, settings
from triage.intel import regions
from triage.stats.period import Period
from triage.stats.table import StatTable, cell_text
from triage.store.db import Database
from triage.users import Action, Actor, permitted
from ui import access, identity
from ui.plain import plain, warn
from ui.rows_model import SIZE_FROM_ROWS
from ui.tasks import Tasks
from ui.widgets import replace_tab

if TYPE_CHECKING:
    # Imported where used, off the screen's first showing: the report's
    # modules on the reader thread that computes it, the writers (xlsxwriter,
    # fpdf: 65 ms) on the first export. Together 100 ms of the UI thread.
    from triage.stats.report import StatsReport

# Colour-blind-safe palette (Okabe-Ito); the legend always names each series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
PERIODS = (("All received", None), ("Last 12 months", 365), ("Last 3 months", 91))
# A figure below its target: dark red on pale red, and said in words too.
FLAGGED_TEXT = "#8B0000"
FLAGGED_BACKGROUND = "#FDE0DC"


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class BarChart(QWidget):
    """Grouped or stacked bars for a ``StatTable``'s chart spec; a click names the bar."""

    bar_clicked = Signal(int, str)  # row index in the table, column key (series)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table: StatTable | None = None
        self.bars: list[tuple[QRectF, int, str]] = []
        self.setMinimumHeight(220)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(640, 240)

    def set_table(self, table: StatTable) -> None:
        self.table = table
        self.update()

    def series(self) -> tuple[list[str], list[tuple[str, str, list[tuple[int, float]]]]]:
        """Category labels and (key, label, [(row, value)]) per series."""
        assert self.table is not None and self.table.chart is not None
        spec, rows = self.table.chart, self.table.rows
        n = min(spec.rows if spec.rows is not None else len(rows), len(rows))
        if spec.by_row:
            categories = [self.table.column(k).title for k in spec.values]
            series = [
                (
                    spec.values[0],
                    str(rows[r].get(spec.category)),
                    [(r, _number(rows[r].get(k))) for k in spec.values],
                )
                for r in range(n)
            ]
            return categories, series
        categories = [str(rows[r].get(spec.category) or "") for r in range(n)]
        series = [
            (key, self.table.column(key).title, [(r, _number(rows[r].get(key))) for r in range(n)])
            for key in spec.values
        ]
        return categories, series

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        self.bars = []
        if self.table is None or self.table.chart is None or not self.table.rows:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No data in this period")
            return
        categories, series = self.series()
        spec = self.table.chart
        if not categories or not series:
            return
        legend_height = 18 * ((len(series) + 2) // 3)
        plot = QRectF(48, 24, self.width() - 60, self.height() - 70 - legend_height)
        painter.setFont(QFont(self.font().family(), 9, QFont.Weight.Bold))
        painter.drawText(
            QRectF(0, 2, self.width(), 20),
            Qt.AlignmentFlag.AlignCenter,
            spec.title or self.table.title,
        )
        painter.setFont(QFont(self.font().family(), 8))
        if spec.stacked:
            top = max(sum(s[2][i][1] for s in series) for i in range(len(categories)))
        else:
            top = max(v for s in series for _, v in s[2])
        top = top or 1.0
        # Axis and three gridlines with their values.
        painter.setPen(QPen(QColor("#BBBBBB")))
        for step in range(4):
            y = plot.bottom() - plot.height() * step / 3
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.drawText(
                QRectF(0, y - 8, 44, 16), Qt.AlignmentFlag.AlignRight, f"{top * step / 3:,.0f}"
            )
        group_width = plot.width() / len(categories)
        for c, label in enumerate(categories):
            left = plot.left() + c * group_width + group_width * 0.1
            inner = group_width * 0.8
            base = plot.bottom()
            for s, (key, _name, points) in enumerate(series):
                row, value = points[c]
                height = plot.height() * value / top
                if spec.stacked:
                    rect = QRectF(left, base - height, inner, height)
                    base -= height
                else:
                    width = inner / len(series)
                    rect = QRectF(left + s * width, plot.bottom() - height, width, height)
                bar_key = spec.values[c] if spec.by_row else key
                painter.fillRect(rect, QColor(PALETTE[s % len(PALETTE)]))
                self.bars.append((rect, row, bar_key))
            painter.setPen(QPen(QColor("#333333")))
            text = label if len(label) <= 22 else label[:20] + "…"
            painter.drawText(
                QRectF(left - 4, plot.bottom() + 2, inner + 8, 30),
                Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap,
                text,
            )
        # Legend: a swatch and the series name (never colour alone).
        y = plot.bottom() + 36
        column_width = self.width() / 3
        for s, (_key, name, _points) in enumerate(series):
            x = 8 + (s % 3) * column_width
            row_y = y + 18 * (s // 3)
            painter.fillRect(QRectF(x, row_y + 3, 10, 10), QColor(PALETTE[s % len(PALETTE)]))
            painter.setPen(QPen(QColor("#333333")))
            short = name if len(name) <= 40 else name[:38] + "…"
            painter.drawText(
                QRectF(x + 14, row_y, column_width - 20, 16),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                short,
            )

    def bar_at(self, point: QPointF) -> tuple[int, str] | None:
        for rect, row, key in self.bars:
            if rect.adjusted(-1, -1, 1, 1).contains(point):
                return row, key
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.bar_at(event.position())
        if hit is not None:
            self.bar_clicked.emit(*hit)


class TablePanel(QWidget):
    """A statistics table with its chart; clicks become queue filters."""

    drill_down_requested = Signal(dict)

    def __init__(self, parent: QWidget | None = None, *, chart: bool = True) -> None:
        super().__init__(parent)
        self.table: StatTable | None = None
        self.title = plain(QLabel())
        self.title.setStyleSheet("font-weight: bold; font-size: 12pt")
        self.chart = BarChart(self) if chart else None
        self.grid = QTableWidget(self)
        self.grid.setAccessibleName("Statistics table")  # the table's title once shown
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.verticalHeader().setVisible(False)
        # Sized once per table (below): in ResizeToContents mode every setItem
        # re-measured the whole column on the UI thread.
        self.grid.horizontalHeader().setResizeContentsPrecision(SIZE_FROM_ROWS)
        self.grid.cellClicked.connect(self._cell_clicked)
        self.definition = plain(QLabel())
        self.definition.setWordWrap(True)
        self.definition.setStyleSheet("color: #444444; font-style: italic")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        if self.chart is not None:
            layout.addWidget(self.chart)
            self.chart.bar_clicked.connect(self._drill_down)
        layout.addWidget(self.grid)
        layout.addWidget(self.definition)

    def set_table(self, table: StatTable) -> None:
        self.table = table
        self.title.setText(table.title)
        self.grid.setAccessibleName(table.title)
        self.definition.setText(table.definition)
        if self.chart is not None:
            self.chart.setVisible(table.chart is not None)
            self.chart.set_table(table)
        self.grid.clear()
        self.grid.setColumnCount(len(table.columns))
        self.grid.setRowCount(len(table.rows))
        self.grid.setHorizontalHeaderLabels([c.title for c in table.columns])
        for r, row in enumerate(table.rows):
            for c, column in enumerate(table.columns):
                item = QTableWidgetItem(cell_text(row.get(column.key), column.kind))
                if column.kind != "text":
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if table.filters_for(r, column.key) is not None:
                    item.setToolTip("Click to open the matching queue")
                if (r, column.key) in table.flagged:
                    # Below target: said in words as well as colour.
                    item.setText(f"{item.text()} (below target)")
                    item.setToolTip("Below its target")
                    item.setForeground(QColor(FLAGGED_TEXT))
                    item.setBackground(QColor(FLAGGED_BACKGROUND))
                self.grid.setItem(r, c, item)
        self.grid.resizeColumnsToContents()
        # Tall enough for up to 12 rows and a horizontal scroll bar: the page scrolls, not
        # each table.
        height = self.grid.horizontalHeader().sizeHint().height() + 6
        height += sum(self.grid.rowHeight(r) for r in range(min(len(table.rows), 12)))
        height += self.grid.horizontalScrollBar().sizeHint().height()
        self.grid.setFixedHeight(height)

    def _cell_clicked(self, row: int, column: int) -> None:
        if self.table is not None:
            self._drill_down(row, self.table.columns[column].key)

    def _drill_down(self, row: int, key: str) -> None:
        """Open the queue behind a row (and column or bar series), if it stands for one."""
        if self.table is None:
            return
        filters = self.table.filters_for(row, key)
        if filters is not None:
            self.drill_down_requested.emit(filters)


def compute_report(db: Database, period: Period, region: str | None, actor: Actor) -> StatsReport:
    """The report the dashboard shows, every table (a core call: run on a reader thread)."""
    from triage.stats.report import build_report

    title = "Triage statistics" + (f" - {region}" if region else "")
    return build_report(db, period, title=title, actor=actor, region=region)


class DashboardView(QWidget):
    """Lead indicators, Figure 9, conversion, feedback per rule and the EM figures."""

    drill_down_requested = Signal(dict)
    refreshed = Signal()

    PANELS = {
        "tasking": (
            "lead_indicators",
            "figure9",
            "conversion",
            "not_discussed_pool",
            "pass_on_48h",
        ),
        "feedback": ("rule_feedback", "rejection_reasons", "model_agreement"),
        "em": ("figure6", "battery_consolidated", "figure14", "figure5"),
        "breaches": ("breach_rates", "breach_trend"),
        "service": ("service_levels", "process_issues"),
    }

    def __init__(
        self, db: Database, parent: QWidget | None = None, *, tasks: Tasks | None = None
    ) -> None:
        super().__init__(parent)
        self.db = db
        # Taken now: once the main window shelves this screen in its stack,
        # parent() is the stack, and asking it then ran the statistics on the UI
        # thread (freezes of 2 to 11.6 s were measured).
        self.tasks: Tasks | None = tasks or getattr(parent, "tasks", None)
        self.report: StatsReport | None = None
        self.tables: dict[str, StatTable] = {}
        self.shown_period: Period | None = None
        self._generation = 0
        self.period_box = QComboBox()
        for label, days in PERIODS:
            self.period_box.addItem(label, days)
        self.region_box = QComboBox()
        self.region_box.addItem("All regions", None)
        for region in regions.load_regions():
            self.region_box.addItem(region.name, region.code)
        self.refresh_button = QPushButton("Refresh")
        # The figures are there to be passed on: the same files as `triage stats`.
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save these statistics as an XLSX workbook or a PDF summary")
        self.export_button.clicked.connect(self.export_dialog)
        self.status = plain(QLabel())
        self.period_box.currentIndexChanged.connect(self.refresh)
        self.region_box.currentIndexChanged.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Period:"))
        bar.addWidget(self.period_box)
        bar.addWidget(QLabel("Region:"))
        bar.addWidget(self.region_box)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.export_button)
        self.tabs = QTabWidget()
        self.panels: dict[str, TablePanel] = {}
        self._tab_panels: list[tuple[str, ...]] = []  # each tab's panels, in tab order
        self._unfilled: set[str] = set()  # panels whose table is not shown yet
        # In the app, a tab's panels are made when it is first shown: making
        # and styling all sixteen at the screen's first showing held the UI
        # thread for about 60 ms. Standalone (tests, tools), all at once.
        self._unmade: dict[QWidget, int] = {}
        for n, (tab, names) in enumerate(
            (
                ("Tasking", self.PANELS["tasking"]),
                ("Feedback", self.PANELS["feedback"]),
                ("EM", self.PANELS["em"]),
                ("Breach trends", self.PANELS["breaches"]),
                ("EMS service levels", self.PANELS["service"]),
            )
        ):
            self._tab_panels.append(names)
            if n == 0 or self.tasks is None:
                page = self._make_tab(names)
            else:
                page = QWidget()
                self._unmade[page] = n
            self.tabs.addTab(page, tab)
        self.tabs.currentChanged.connect(self._tab_shown)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.tabs)

    def _make_tab(self, names: tuple[str, ...]) -> QScrollArea:
        page = QWidget()
        column = QVBoxLayout(page)
        for name in names:
            panel = TablePanel(page)
            panel.drill_down_requested.connect(self.drill_down_requested)
            self.panels[name] = panel
            column.addWidget(panel)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        return scroll

    def _tab_shown(self, index: int) -> None:
        if self.tabs.widget(index) in self._unmade:
            del self._unmade[self.tabs.widget(index)]
            scroll = self._make_tab(self._tab_panels[index])
            access.prepare(scroll)
            replace_tab(self.tabs, index, scroll)
        self._fill_tab(index)

    def set_database(self, db: Database) -> None:
        self.db = db
        self.refresh()

    def period(self) -> Period:
        days = self.period_box.currentData()
        today = clock.to_local(clock.now()).date()
        return Period.resolve(today - timedelta(days=days) if days else None, today, today)

    def refresh(self) -> None:
        """Recompute every table from the database and redraw.

        In the app (a parent with ``tasks``) the work runs on a reader thread,
        as it takes seconds on a million items; a result made obsolete by a
        newer refresh is dropped. Standalone, it runs at once.
        """
        period = self.period()
        region = self.region_box.currentData()
        self._generation += 1
        generation = self._generation
        actor = identity.current()
        if not permitted(actor, Action.READ_STATISTICS):
            # Said here rather than by a failed computation: the core refuses
            # (and audits the refusal) all the same if it is asked.
            self.status.setText(f"{actor.describe()} may not {Action.READ_STATISTICS}.")
            return
        tasks = self.tasks
        if tasks is None:
            self._show(generation, compute_report(self.db, period, region, actor))
            return
        self.status.setText("Computing statistics…")
        db = self.db
        tasks.read(
            lambda _job: compute_report(db, period, region, actor),
            on_done=lambda report: self._show(generation, report),
            on_fail=lambda message: self.status.setText(f"Statistics failed: {message}"),
        )

    def _show(self, generation: int, report: StatsReport) -> None:
        if generation != self._generation:
            return
        self.report = report
        self.tables = {t.name: t for t in report.all_tables()}
        self.shown_period = period = report.period
        self._unfilled = {name for names in self._tab_panels for name in names}
        if self.tasks is None:  # standalone (tests, tools): every tab at once
            for index in range(self.tabs.count()):
                self._fill_tab(index)
        else:
            # In the app, the tab on show now and each other tab when first
            # shown: filling all sixteen tables at once held the UI thread for
            # 73 ms on 100,000 items.
            self._fill_tab(self.tabs.currentIndex())
        self.status.setText(period.label)
        self.refreshed.emit()

    def _fill_tab(self, index: int) -> None:
        """Show the report's tables in tab ``index``'s panels, if not yet shown."""
        for name in self._tab_panels[index] if 0 <= index < len(self._tab_panels) else ():
            if name not in self._unfilled or name not in self.panels:
                continue
            self._unfilled.discard(name)
            table, panel = self.tables.get(name), self.panels[name]
            panel.setVisible(table is not None)
            if table is not None:
                panel.set_table(table)

    def export_dialog(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(
            self,
            "Export statistics",
            "statistics.xlsx",
            "Excel workbook, every table (*.xlsx);;PDF summary, one page (*.pdf)",
        )
        if not path:
            return
        if Path(path).suffix.lower() not in (".xlsx", ".pdf"):
            path += ".pdf" if "pdf" in chosen.lower() else ".xlsx"
        self.export(path)

    def export(self, path: str) -> None:
        """The tables on screen, small counts suppressed as ``triage stats`` does."""
        if self.report is None or self.shown_period is None:
            self.status.setText("Nothing to export yet: the statistics are being computed.")
            return
        from triage.stats import exports

        released = self.report.released(settings.load().suppress_below)
        try:
            exports.write_report(Path(path), released)
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            warn(self, "Export statistics", f"Could not write {path}: {reason}")
            return
        self.status.setText(f"{self.shown_period.label} · exported to {path}")
