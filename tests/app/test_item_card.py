"""The meeting's item card: a value too long for the card is cut short on
screen, never lost (tooltip and the card's text give it in full)."""

from __future__ import annotations

import pytest

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


def test_a_card_filled_before_it_is_shown_is_cut_to_width_once_shown(qtbot):
    """A meeting fills the card before its screen is on show (and laid out):
    the values are cut to the width the card is shown at."""
    card = ItemCard()
    qtbot.addWidget(card)
    card.resize(360, 300)
    card.show_item("#1 · INT-1", True, [("Business", LONG)], "a summary")
    assert card.values.text() == LONG  # not cut yet
    card.show()
    shown = card.values.text()
    assert shown.endswith("…") and len(shown) < len(LONG)
    assert card.values.fontMetrics().horizontalAdvance(shown) <= card.values.width()
    assert card.values.geometry().right() < card.width() and card.summary.geometry().height() > 0


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


def test_a_wrapped_label_gives_qt_heights_and_forgets_them_on_change(qtbot):
    """The remembered height for a width is the one Qt gives a plain
    word-wrapped label with the same text and font, before and after the
    text and the font change."""
    from PySide6.QtWidgets import QLabel

    from ui.widgets import WrappedLabel

    text = "<b>A</b> accept · <b>R</b> reject, then <b>1-9</b> reason · " * 3
    ours, qts = WrappedLabel(text), QLabel(text)
    qts.setWordWrap(True)
    for label in (ours, qts):
        qtbot.addWidget(label)

    def heights() -> list[tuple[int, int]]:
        return [(ours.heightForWidth(w), qts.heightForWidth(w)) for w in (120, 300, 120, 900)]

    assert all(a == b for a, b in heights())
    narrow = ours.heightForWidth(120)
    assert narrow > ours.heightForWidth(900)  # it wraps

    for label in (ours, qts):
        label.setText("short")
    assert all(a == b for a, b in heights())
    assert ours.heightForWidth(120) < narrow  # not the old text's height

    font = ours.font()
    font.setPointSize(font.pointSize() * 3)
    for label in (ours, qts):
        label.setText(text)
        ours.heightForWidth(300)  # remembered with the old font...
        label.setFont(font)
    assert all(a == b for a, b in heights())  # ...and forgotten with it


@pytest.mark.parametrize(
    "change",
    [
        lambda label: label.clear(),
        lambda label: label.setNum(5),
        lambda label: label.setMargin(30),
        lambda label: label.setIndent(80),
        lambda label: label.setWordWrap(False),
    ],
    ids=["clear", "setNum", "setMargin", "setIndent", "setWordWrap"],
)
def test_a_wrapped_label_forgets_its_heights_on_every_change_of_what_they_depend_on(qtbot, change):
    from PySide6.QtWidgets import QLabel

    from ui.widgets import WrappedLabel

    text = "<b>A</b> accept · <b>R</b> reject, then <b>1-9</b> reason · " * 3
    ours, qts = WrappedLabel(text), QLabel(text)
    qts.setWordWrap(True)
    for label in (ours, qts):
        qtbot.addWidget(label)
    assert ours.heightForWidth(200) == qts.heightForWidth(200)  # remembered
    for label in (ours, qts):
        change(label)
    assert ours.heightForWidth(200) == qts.heightForWidth(200)
