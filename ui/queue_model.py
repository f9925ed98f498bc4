"""The intelligence queue as a Qt table model that stays quick at a million rows.

The model holds only the ordered item ids of the current filter (an
``array('q')``, 8 bytes an item) from ``ranking.queue_ids``; the filtering and
ordering happen in SQL. The first ``FIRST_PAGE`` ids come at once (SQLite's
top-N sort is far cheaper than sorting a million rows); the rest of the ids
follow from a reader thread and are appended without resetting the view.
Display rows are fetched a page at a time with ``ranking.rows`` when the view
asks for them, into a small LRU cache (the approach of Anki's browser table
model).

Clicking a column header sorts the queue by that column (``sort``, Qt's hook):
the ids are read again, in SQL and off the UI thread, exactly as for a new
filter, with each item's rank in the filtered queue beside them, so the Rank
column still says where the item stands in the rank order.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from triage import settings
from triage.intel import ranking
from triage.store.db import Database
from ui import identity, labels, theme
from ui.plain import tooltip
from ui.tasks import Tasks

ItemIdRole = Qt.ItemDataRole.UserRole + 1  # the intel_item.id of a row
RowRole = Qt.ItemDataRole.UserRole + 2  # the whole display row (dict)

PAGE = 200
CACHE_ROWS = 4000
FIRST_PAGE = 500

# (key, header, tooltip)
COLUMNS = (
    (
        "rank",
        "Rank",
        "Position in this filtered queue (1 = work first). Click a header to sort by it "
        "(ties stay in rank order); click Rank for the rank order again",
    ),
    ("bucket", "Bucket", "IPIC bucket 1-6 (1-4 high priority, 5-6 low)"),
    ("score", "Score", "Priority within the bucket: higher is worked first"),
    ("age_days", "Days old", "Days since the Department received it"),
    ("flags", "Flags", "Police coordination, safeguarding, stale, passed late, ..."),
    ("intel_id", "Intel ID", "Upstream reference"),
    ("region", "Region", ""),
    ("team", "Team", ""),
    ("status", "Status", "open, accepted, rejected or closed"),
    ("carry_over_count", "Carried", "Meetings it was on the agenda but not discussed"),
    ("harm_score", "Harm model", "Advisory ML score (only with an active model)"),
    ("summary", "Summary", ""),
)
COLUMN = {key: n for n, (key, _h, _t) in enumerate(COLUMNS)}
# Flags and summaries have no order worth sorting by (ranking.SORT_KEYS).
SORTABLE = frozenset(key for key, _h, _t in COLUMNS if key in ranking.SORT_KEYS)


# What a queue read gives: the ids in order, their ranks (None in rank order),
# and for a first page, its display rows (read there too, off the UI thread).
Read = tuple[list[int], list[int] | None]
FirstRead = tuple[list[int], list[int] | None, list[dict[str, Any]]]


def _read(
    session, filters: dict[str, Any], order: tuple[str | None, bool], limit: int | None = None
) -> Read:
    order_by, descending = order
    weight = identity.model_weight()
    if order_by is None:  # rank order: the fast walk, and the rank is the row number
        return ranking.queue_ids(session, limit=limit, model_weight=weight, **filters), None
    pairs = ranking.queue_ranks(
        session,
        order_by=order_by,
        descending=descending,
        limit=limit,
        model_weight=weight,
        **filters,
    )
    return [item_id for item_id, _rank in pairs], [rank for _item_id, rank in pairs]


class IntelQueueModel(QAbstractTableModel):
    # The first rows of a new filter are shown (how many).
    first_page_ready = Signal(int)
    # The whole filtered queue is known (not just its first page).
    queue_complete = Signal(int)
    # The sort in force is not the one the header asked for (a column that
    # cannot be sorted): (column, order) for the header's indicator; -1 none.
    sort_kept = Signal(int, Qt.SortOrder)

    def __init__(self, db: Database, tasks: Tasks | None = None, parent=None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.ids = array("q")
        # Each row's rank in the filtered queue when sorted by a column; None in
        # rank order, where the rank is the row number.
        self.ranks: array | None = None
        self.sort_column = -1  # -1: the rank order
        self.sort_order = Qt.SortOrder.AscendingOrder
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
        Without one (model tests) the whole list is read here. The column
        sort chosen with ``sort`` stays in force.
        """
        self.filters = {k: v for k, v in filters.items() if v not in (None, "", [], ())}
        self.hide_undecided_harm = settings.load().hide_model_score_until_decided
        if self.sort_column >= 0 and not self.sortable(self.sort_column):
            # Sorted by harm score, which is hidden now: back to rank order.
            self.sort_column, self.sort_order = -1, Qt.SortOrder.AscendingOrder
            self.sort_kept.emit(self.sort_column, self.sort_order)
        self._generation += 1
        generation, filters = self._generation, dict(self.filters)
        order = self._sort_arguments()
        if self.tasks is None:
            with self.db.sessions() as session:
                self._show_first(generation, filters, order, (*_read(session, filters, order), []))
            return
        self.complete = False

        def read_first(_job) -> FirstRead | None:
            if generation != self._generation:
                return None  # typed on: a newer filter is queued
            with self.db.sessions() as session:
                ids, ranks = _read(session, filters, order, limit=FIRST_PAGE)
                # The rows the view paints first, so the UI thread runs no query
                # to show them.
                return ids, ranks, ranking.rows(session, ids[:PAGE])

        self.tasks.read(
            read_first,
            on_done=lambda read: self._show_first(generation, filters, order, read, paged=True),
        )

    def _show_first(
        self,
        generation: int,
        filters: dict[str, Any],
        order: tuple[str | None, bool],
        read: FirstRead | None,
        paged: bool = False,
    ) -> None:
        if read is None or generation != self._generation:
            return
        ids, ranks, first_rows = read
        self.beginResetModel()
        self.ids = array("q", ids)
        self.ranks = None if ranks is None else array("q", ranks)
        self._cache.clear()
        self._cache_page(0, first_rows)
        self.endResetModel()
        self.complete = not paged or len(ids) < FIRST_PAGE
        self.first_page_ready.emit(len(self.ids))
        if self.complete:
            self.queue_complete.emit(len(self.ids))
            return

        def read_all(_job) -> Read | None:
            if generation != self._generation:
                return None  # the filter changed while this read waited its turn
            with self.db.sessions() as session:
                return _read(session, filters, order)

        self.tasks.read_queue(read_all, on_done=lambda read: self._append(generation, read))

    def _append(self, generation: int, read: Read | None) -> None:
        if read is None or generation != self._generation:
            return  # the filter changed meanwhile; a newer read is on its way
        all_ids, all_ranks = read
        shown = len(self.ids)
        same_ranks = all_ranks is None or list(all_ranks[:shown]) == self.ranks.tolist()
        if list(all_ids[:shown]) != self.ids.tolist() or not same_ranks:
            # The queue changed between the two reads: show the new one whole.
            self.beginResetModel()
            self.ids = array("q", all_ids)
            self.ranks = None if all_ranks is None else array("q", all_ranks)
            self._cache.clear()
            self.endResetModel()
        elif len(all_ids) > shown:
            self.beginInsertRows(QModelIndex(), shown, len(all_ids) - 1)
            self.ids.extend(all_ids[shown:])
            if all_ranks is not None:
                self.ranks.extend(all_ranks[shown:])
            self.endInsertRows()
        self.complete = True
        self.queue_complete.emit(len(self.ids))

    # -- sorting -------------------------------------------------------------------

    def sortable(self, column: int) -> bool:
        key = COLUMNS[column][0] if 0 <= column < len(COLUMNS) else None
        if key == "harm_score" and self.hide_undecided_harm:
            return False  # its order would show the scores hidden from undecided items
        return key in SORTABLE

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column`` (Qt calls this when a header is clicked), ties in
        rank order; -1 (the header's third click) is the rank order again.

        A column that cannot be sorted leaves the order as it was, and
        ``sort_kept`` puts the header's indicator back."""
        self.hide_undecided_harm = settings.load().hide_model_score_until_decided
        if column >= 0 and not self.sortable(column):
            self.sort_kept.emit(self.sort_column, self.sort_order)
            return
        before = self._sort_arguments()
        self.sort_column, self.sort_order = column, order
        if self._sort_arguments() != before:  # Rank ascending is the rank order
            self.set_filters(**self.filters)

    def _sort_arguments(self) -> tuple[str | None, bool]:
        """``(order_by, descending)`` for ``ranking.queue_ids``; (None, False) is rank order."""
        if self.sort_column < 0:
            return None, False
        descending = self.sort_order == Qt.SortOrder.DescendingOrder
        key = COLUMNS[self.sort_column][0]
        return (None, False) if key == "rank" and not descending else (key, descending)

    def rank(self, row: int) -> int:
        """The item's place in the filtered queue in rank order (1 = work first)."""
        return int(self.ranks[row]) if self.ranks is not None else row + 1

    def _load_page(self, row: int) -> None:
        start = (row // PAGE) * PAGE
        with self.db.sessions() as session:
            self._cache_page(start, ranking.rows(session, list(self.ids[start : start + PAGE])))

    def _cache_page(self, start: int, rows: list[dict[str, Any]]) -> None:
        """Keep the display ``rows`` of the page starting at row ``start``."""
        by_id = {values["item_id"]: values for values in rows}
        page = self.ids[start : start + PAGE]
        for offset, item_id in enumerate(page):
            values = by_id.get(item_id)
            if values is not None:
                values["rank"] = self.rank(start + offset)
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
        if role == Qt.ItemDataRole.ForegroundRole and key == "bucket":
            return QBrush(QColor(theme.TINT_TEXT))  # dark text on the tint, in a dark theme too
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "bucket":
                return labels.BUCKET_MEANINGS.get(values.get("bucket"))
            if key == "summary":
                return tooltip(values.get("summary"))
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
            return str(self.rank(row))
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
