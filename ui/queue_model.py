"""The intelligence queue as a Qt table model that stays quick at a million rows.

The model holds only the ordered item ids of the current filter (an
``array('q')``, 8 bytes an item) from ``ranking.queue_ids``; the filtering and
ordering happen in SQL. The first ``FIRST_PAGE`` ids come at once (SQLite's
top-N sort is far cheaper than sorting a million rows); the rest of the ids
follow from a reader thread and are appended without resetting the view.
Display rows are fetched a page at a time with ``ranking.rows`` when the view
asks for them, into a small LRU cache (the approach of Anki's browser table
model).
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from triage import ranking, settings
from triage.db import Database
from ui import labels
from ui.tasks import Tasks

ItemIdRole = Qt.ItemDataRole.UserRole + 1  # the intel_item.id of a row
RowRole = Qt.ItemDataRole.UserRole + 2  # the whole display row (dict)

PAGE = 200
CACHE_ROWS = 4000
FIRST_PAGE = 500

# (key, header, tooltip)
COLUMNS = (
    ("rank", "Rank", "Position in this filtered queue (1 = work first)"),
    ("bucket", "Bucket", "IPIC bucket 1-6 (1-4 high priority, 5-6 low)"),
    ("score", "Score", "Priority within the bucket: higher is worked first"),
    ("age_days", "Days old", "Days since the Department received it"),
    ("flags", "Flags", "Police coordination, safeguarding, stale, passed late, ..."),
    ("intel_id", "Intel ID", "Upstream reference"),
    ("region", "Region", ""),
    ("team", "Team", ""),
    ("status", "Status", "open, accepted or rejected"),
    ("carry_over_count", "Carried", "Meetings it was on the agenda but not discussed"),
    ("harm_score", "Harm model", "Advisory ML score (only with an active model)"),
    ("summary", "Summary", ""),
)
COLUMN = {key: n for n, (key, _h, _t) in enumerate(COLUMNS)}


def _row_item_id(row: dict[str, Any]) -> int | None:
    for key in ("item_id", "id"):
        if row.get(key) is not None:
            return int(row[key])
    return None


class IntelQueueModel(QAbstractTableModel):
    # The first rows of a new filter are shown (how many).
    first_page_ready = Signal(int)
    # The whole filtered queue is known (not just its first page).
    queue_complete = Signal(int)

    def __init__(self, db: Database, tasks: Tasks | None = None, parent=None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.ids = array("q")
        self.complete = True
        self.filters: dict[str, Any] = {}
        self._cache: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._generation = 0
        # No nudging: the model's score of an undecided item stays hidden when
        # the setting says so (read again with every filter).
        self.hide_undecided_harm = settings.load().hide_model_score_until_decided

    # -- loading -----------------------------------------------------------------

    def set_filters(self, **filters: Any) -> None:
        """Run the filtered, ordered id query in SQL and show its result.

        With a task runner nothing blocks the UI: the first page is read on a
        reader thread (``first_page_ready``), then the whole id list on the
        one-thread queue pool, appended when it arrives (``queue_complete``).
        Without one (model tests) the whole list is read here.
        """
        self.filters = {k: v for k, v in filters.items() if v not in (None, "", [], ())}
        self.hide_undecided_harm = settings.load().hide_model_score_until_decided
        self._generation += 1
        generation, filters = self._generation, dict(self.filters)
        if self.tasks is None:
            with self.db.sessions() as session:
                self._show_first(generation, filters, ranking.queue_ids(session, **filters), False)
            return
        self.complete = False

        def read_first(_job) -> list[int] | None:
            if generation != self._generation:
                return None  # typed on: a newer filter is queued
            with self.db.sessions() as session:
                return ranking.queue_ids(session, limit=FIRST_PAGE, **filters)

        self.tasks.read(
            read_first, on_done=lambda ids: self._show_first(generation, filters, ids, True)
        )

    def _show_first(
        self, generation: int, filters: dict[str, Any], ids: list[int] | None, paged: bool
    ) -> None:
        if ids is None or generation != self._generation:
            return
        self.beginResetModel()
        self.ids = array("q", ids)
        self._cache.clear()
        self.endResetModel()
        self.complete = not paged or len(ids) < FIRST_PAGE
        self.first_page_ready.emit(len(self.ids))
        if self.complete:
            self.queue_complete.emit(len(self.ids))
            return

        def read_all(_job) -> list[int] | None:
            if generation != self._generation:
                return None  # the filter changed while this read waited its turn
            with self.db.sessions() as session:
                return ranking.queue_ids(session, **filters)

        self.tasks.read_queue(read_all, on_done=lambda ids: self._append(generation, ids))

    def _append(self, generation: int, all_ids: list[int] | None) -> None:
        if all_ids is None or generation != self._generation:
            return  # the filter changed meanwhile; a newer read is on its way
        shown = len(self.ids)
        if list(all_ids[:shown]) != self.ids.tolist():
            # The queue changed between the two reads: show the new one whole.
            self.beginResetModel()
            self.ids = array("q", all_ids)
            self._cache.clear()
            self.endResetModel()
        elif len(all_ids) > shown:
            self.beginInsertRows(QModelIndex(), shown, len(all_ids) - 1)
            self.ids.extend(all_ids[shown:])
            self.endInsertRows()
        self.complete = True
        self.queue_complete.emit(len(self.ids))

    def _load_page(self, row: int) -> None:
        start = (row // PAGE) * PAGE
        page = list(self.ids[start : start + PAGE])
        with self.db.sessions() as session:
            fetched = ranking.rows(session, page)
        by_id = {}
        for n, values in enumerate(fetched):
            item_id = _row_item_id(values)
            by_id[item_id if item_id is not None else page[n]] = values
        for offset, item_id in enumerate(page):
            values = by_id.get(item_id)
            if values is not None:
                self._cache[start + offset] = values
        while len(self._cache) > CACHE_ROWS:
            self._cache.popitem(last=False)

    def row_data(self, row: int) -> dict[str, Any] | None:
        if row < 0 or row >= len(self.ids):
            return None
        if row not in self._cache:
            self._load_page(row)
        values = self._cache.get(row)
        if values is not None:
            self._cache.move_to_end(row)
        return values

    def item_id(self, row: int) -> int | None:
        return int(self.ids[row]) if 0 <= row < len(self.ids) else None

    # -- Qt model ----------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][1]
            if role == Qt.ItemDataRole.ToolTipRole:
                return COLUMNS[section][2] or None
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if not index.isValid():
            return None
        row = index.row()
        if role == ItemIdRole:
            return self.item_id(row)
        values = self.row_data(row)
        if values is None:
            return None
        if role == RowRole:
            return values
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, key, values)
        if role == Qt.ItemDataRole.BackgroundRole and key == "bucket":
            bucket = values.get("bucket")
            return QBrush(QColor(labels.BUCKET_TINTS.get(bucket, "#ffffff")))
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "bucket":
                return labels.BUCKET_MEANINGS.get(values.get("bucket"))
            if key == "summary":
                return values.get("summary")
        if role == Qt.ItemDataRole.TextAlignmentRole and key in (
            "rank",
            "score",
            "age_days",
            "carry_over_count",
            "harm_score",
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: int, key: str, values: dict[str, Any]) -> str:
        if key == "rank":
            return str(row + 1)
        value = values.get(key)
        if key == "bucket":
            return labels.bucket_text(value)
        if key == "flags":
            return labels.flag_text(value if isinstance(value, list) else [])
        if key == "harm_score":
            hidden = self.hide_undecided_harm and values.get("status") == "open"
            return "" if value is None or hidden else f"{value:.2f}"
        if key == "score":
            return "" if value is None else f"{value:.1f}"
        if key == "carry_over_count":
            return str(value or 0)
        return "" if value is None else str(value)
