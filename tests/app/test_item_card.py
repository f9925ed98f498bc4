"""The meeting's item card: a value too long for the card is cut short on
screen, never lost (tooltip and the card's text give it in full)."""

from __future__ import annotations

from ui.meeting_view import ItemCard
from ui.widgets import Island

LONG = "Very Long Trading Name Limited, trading as " * 4


def test_a_value_too_long_for_the_card_is_cut_short_and_kept_in_full(qtbot):
    card = ItemCard()
    qtbot.addWidget(card)
    card.resize(360, 300)
    card.show()
    card.show_item("#1 · INT-1", True, [("Sector", "catering"), ("Business", LONG)], "")

    sector, business = card.values.text().split("\n")
    assert sector == "catering"
    assert business.endswith("…") and len(business) < len(LONG)
    assert card.values.fontMetrics().horizontalAdvance(business) <= card.values.width()
    assert LONG in card.values.toolTip()
    assert f"Business  {LONG}" in card.text()

    card.resize(2000, 300)  # wide enough again: shown in full, no tooltip
    card.show_item("#1 · INT-1", True, [("Business", "Star Kitchen")], "")
    assert card.values.text() == "Star Kitchen" and card.values.toolTip() == ""


def test_an_island_keeps_qt_size(qtbot):
    """Its fixed size is not called ``size``, which hid QWidget.size()."""
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QLabel

    label = QLabel("one line")
    island = Island([label], label, size=QSize(300, 24))
    qtbot.addWidget(island)
    island.resize(300, 24)
    assert island.size() == QSize(300, 24)
    assert island.sizeHint() == QSize(300, 24)
