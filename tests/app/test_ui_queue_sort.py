"""Sorting the Intelligence screen's queue by clicking its column headers
(pytest-qt, offscreen): the order, the indicator, the Rank column, filters
keeping the sort and the way back to rank order."""

from __future__ import annotations

import pytest
from meeting_fixtures import KINDS, add_items, ranked, standard_items
from PySide6.QtCore import QPoint, Qt

from triage import settings
from triage.intel import ranking
from ui.main_window import MainWindow
from ui.queue_model import COLUMN, IntelQueueModel

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

ASCENDING, DESCENDING = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder


@pytest.fixture
def window(qtbot, db):
    standard_items(db, 20)
    # Fresher, so ranked above the older items of their bucket though added
    # last: ties broken by id instead of rank would show.
    add_items(db, [{"intel_id": f"INT-NEW{n}", "age_days": n, **KINDS["other"]} for n in (0, 1)])
    ranked(db)
    main = MainWindow(db)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.tasks.wait()
    main.close()


def click_header(qtbot, view, key: str) -> None:
    header = view.table.horizontalHeader()
    column = COLUMN[key]
    middle = QPoint(
        header.sectionViewportPosition(column) + header.sectionSize(column) // 2,
        header.height() // 2,
    )
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=middle)


def queue(db, **query) -> list[int]:
    with db.sessions() as session:
        return ranking.queue_ids(session, **query)


def shown(model, key: str) -> list[str]:
    return [model.data(model.index(r, COLUMN[key])) for r in range(model.rowCount())]


def test_header_clicks_sort_reverse_and_return_to_rank_order(window, qtbot, db):
    view = window.page("intel")
    model, header = view.model, view.table.horizontalHeader()
    rank_order = queue(db)
    qtbot.waitUntil(lambda: model.ids.tolist() == rank_order and len(rank_order) == 23)
    assert shown(model, "rank") == [str(n) for n in range(1, 24)]

    click_header(qtbot, view, "age_days")
    by_age = queue(db, order_by="age_days")
    assert by_age != rank_order
    qtbot.waitUntil(lambda: model.ids.tolist() == by_age)
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        COLUMN["age_days"],
        ASCENDING,
    )
    ages = [int(a) for a in shown(model, "age_days")]
    assert ages == sorted(ages)
    # Rank still says where each item stands in the rank order, not the row.
    assert shown(model, "rank") == [str(rank_order.index(i) + 1) for i in by_age]
    assert model.row_data(0)["rank"] == rank_order.index(by_age[0]) + 1

    click_header(qtbot, view, "age_days")
    oldest_first = queue(db, order_by="age_days", descending=True)
    qtbot.waitUntil(lambda: model.ids.tolist() == oldest_first)
    assert header.sortIndicatorOrder() == DESCENDING
    ages = [int(a) for a in shown(model, "age_days")]
    assert ages == sorted(ages, reverse=True)

    # Flags cannot be sorted: the order and the indicator stay.
    click_header(qtbot, view, "flags")
    assert model.ids.tolist() == oldest_first
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        COLUMN["age_days"],
        DESCENDING,
    )

    # A filter keeps the sort.
    view.bucket.setCurrentIndex(view.bucket.findText("Low priority (5-6)"))
    low = queue(db, buckets=[5, 6], order_by="age_days", descending=True)
    qtbot.waitUntil(lambda: model.ids.tolist() == low and len(low) == 10)
    assert shown(model, "rank") == [str(queue(db, buckets=[5, 6]).index(i) + 1) for i in low]

    # The third click: rank order again, no indicator.
    click_header(qtbot, view, "age_days")
    qtbot.waitUntil(lambda: model.ids.tolist() == queue(db, buckets=[5, 6]))
    assert header.sortIndicatorSection() == -1
    assert shown(model, "rank") == [str(n) for n in range(1, 11)]

    # Ties keep the rank order: buckets last first, each bucket in rank order.
    view.bucket.setCurrentIndex(0)
    click_header(qtbot, view, "bucket")
    click_header(qtbot, view, "bucket")
    by_bucket = queue(db, order_by="bucket", descending=True)
    qtbot.waitUntil(lambda: model.ids.tolist() == by_bucket)
    buckets = [model.row_data(r)["bucket"] for r in range(model.rowCount())]
    assert buckets == sorted(buckets, reverse=True) and buckets[0] == 6
    for bucket in set(buckets):
        same = [i for i, b in zip(by_bucket, buckets, strict=True) if b == bucket]
        assert same == sorted(same, key=rank_order.index)

    # Clicking Rank goes back to rank order from any sort.
    click_header(qtbot, view, "rank")
    qtbot.waitUntil(lambda: model.ids.tolist() == rank_order)
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        COLUMN["rank"],
        ASCENDING,
    )
    assert shown(model, "rank") == [str(n) for n in range(1, 24)]


def test_the_hidden_harm_score_cannot_be_sorted_by(qtbot, db):
    standard_items(db, 10)
    ranked(db)
    model = IntelQueueModel(db)  # no task runner: reads happen at once
    model.set_filters()
    rank_order = model.ids.tolist()
    assert settings.load().hide_model_score_until_decided
    # Its order would give away the scores hidden from undecided items.
    with qtbot.waitSignal(model.sort_kept) as kept:
        model.sort(COLUMN["harm_score"], DESCENDING)
    assert kept.args == [-1, ASCENDING] and model.ids.tolist() == rank_order

    stored = settings.load()
    stored.hide_model_score_until_decided = False
    settings.save(stored)
    model.sort(COLUMN["harm_score"], DESCENDING)
    assert model.sort_column == COLUMN["harm_score"]
    # Hidden again: the next filter drops that sort and tells the header.
    stored.hide_model_score_until_decided = True
    settings.save(stored)
    with qtbot.waitSignal(model.sort_kept) as kept:
        model.set_filters()
    assert kept.args == [-1, ASCENDING] and model.ids.tolist() == rank_order
