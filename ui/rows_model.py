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

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

# How many rows the columns are sized from (Qt's default reads 1,000).
SIZE_FROM_ROWS = 40


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
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
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


def size_columns_once(view: QTableView, model: RowListModel) -> None:
    """Size ``view``'s columns from the first rows that arrive, then leave them
    as the user sets them: re-measuring on every refresh stalled the UI thread
    (90 ms for the meeting list, 350 ms for the EM tabs)."""
    view.horizontalHeader().setResizeContentsPrecision(SIZE_FROM_ROWS)

    def size_once() -> None:
        if model.rows:
            view.resizeColumnsToContents()
            model.modelReset.disconnect(size_once)

    model.modelReset.connect(size_once)
