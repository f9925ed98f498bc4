"""A read-only table of ready-made text rows, for lists of a few thousand lines.

A ``QTableWidget`` makes one ``QTableWidgetItem`` per cell, and with its
header in ``ResizeToContents`` mode every ``setItem`` re-measured the whole
column: filling the meeting list of the demo database (about 1,200 meetings)
took 48 s of the UI thread. Here the rows are plain tuples handed over in one
model reset; the view asks only for the cells it paints, and the columns are
sized once, from the first rows to arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

# How many rows the columns are sized from (Qt's default reads 1,000).
SIZE_FROM_ROWS = 40
# Set on a header whose column widths were restored from the last run.
KEPT_WIDTHS = "kept_widths"


class RowListModel(QAbstractTableModel):
    """A fixed number of columns over a list of rows, replaced whole by
    ``set_rows`` (one model reset). Subclasses say what a row shows."""

    def __init__(self, column_count: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.column_count = column_count
        self.rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.column_count


class TextRowsModel(RowListModel):
    """Rows of display strings (tuples) under fixed headers."""

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(len(headers), parent)
        self.headers = list(headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> str | None:
        # In range checked: an exception here reaches Qt as a crash.
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> str | None:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        return self.rows[index.row()][index.column()]


def rows_table(model: TextRowsModel) -> QTableView:
    """A row-selecting, read-only view of ``model``, its columns sized once."""
    view = QTableView()
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    size_columns_once(view, model)
    return view


class _SizeColumnsOnce(QObject):
    """Sizes a view's columns once, from the first rows to arrive, when the
    view is on screen: a tab behind another is sized when first shown, so a
    screen of seven tabs filled at once measures one (the EM screen's six
    hidden tabs took 31 ms of the UI thread on their first filling)."""

    def __init__(self, view: QTableView, model: RowListModel) -> None:
        super().__init__(view)
        self.view, self.model = view, model
        model.modelReset.connect(self.try_now)
        view.installEventFilter(self)

    def try_now(self) -> None:
        if not self.model.rows or not self.view.isVisible():
            return
        # Widths kept from the last run (``MainWindow._restore_layout``) win.
        if not self.view.horizontalHeader().property(KEPT_WIDTHS):
            fit_columns(self.view, self.model)
        self.model.modelReset.disconnect(self.try_now)
        self.view.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            self.try_now()
        return False


def size_columns_once(view: QTableView, model: RowListModel) -> None:
    """Size ``view``'s columns from the first rows that arrive (once it is
    shown), then leave them as the user sets them: re-measuring on every
    refresh stalled the UI thread (90 ms for the meeting list, 350 ms for the
    EM tabs)."""
    # A double click on a column's edge fits it to this many rows too.
    view.horizontalHeader().setResizeContentsPrecision(SIZE_FROM_ROWS)
    _SizeColumnsOnce(view, model)


def fit_columns(view: QTableView, model: QAbstractTableModel) -> None:
    """Each column as wide as its header and its first ``SIZE_FROM_ROWS``
    cells' text, measured with the view's font. (``resizeColumnsToContents``
    asks the model for every role of every cell it measures: 17,000 Python
    calls and 170 ms for the EM screen's tabs.)"""
    header = view.horizontalHeader()
    header.ensurePolished()  # its style sheet's (bold) font
    view.ensurePolished()
    cell_font = view.fontMetrics()
    header_font = header.fontMetrics()
    # Room for the cell's and the header section's margins and the sort arrow.
    cell_room = 2 * view.style().pixelMetric(view.style().PixelMetric.PM_FocusFrameHMargin) + 12
    header_room = 32
    rows = min(model.rowCount(), SIZE_FROM_ROWS)
    for column in range(model.columnCount()):
        title = model.headerData(column, Qt.Orientation.Horizontal) or ""
        width = header_font.horizontalAdvance(str(title)) + header_room
        for row in range(rows):
            text = model.data(model.index(row, column))
            if text:
                width = max(width, cell_font.horizontalAdvance(str(text)) + cell_room)
        header.resizeSection(column, min(width, 480))
