"""Small widgets shared by the screens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate, QEvent, QSize, Qt
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QWidget,
)

from triage import clock


class DateField(QDateEdit):
    """A date with a calendar pop-up where Tab leaves the field.

    Qt's date edit uses Tab to step from day to month to year, so a keyboard
    user is held in the field; here Tab and Shift+Tab move to the next or
    previous control like everywhere else (the arrow keys still move between
    the day, month and year).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        today = clock.to_local(clock.now()).date()  # UK time, as the core dates things
        self.setDate(QDate(today.year, today.month, today.day))

    def day(self) -> date:
        return self.date().toPython()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            forward = event.key() == Qt.Key.Key_Tab and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            )
            QWidget.focusNextPrevChild(self, forward)
            return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, forward: bool) -> bool:
        # The base date edit would step between its sections instead.
        return QWidget.focusNextPrevChild(self, forward)


class WrappedLabel(QLabel):
    """A word-wrapped label that remembers its height for each width asked.

    A word-wrapped label gives its whole screen a height that depends on its
    width, and each screen sits in a resizable scroll area: every layout pass
    of the window then asks the label again, and Qt keeps no answer (it lays
    the text out anew each time, 0.1-0.3 ms for the meeting's rich-text key
    help). Showing a meeting asked 24 times for 4 widths: 3 ms of the start's
    UI thread. The answers are forgotten when the text, the font, the style,
    the margins, the indent or the wrapping changes."""

    KEPT = 32  # widths remembered; a window dragged wider asks for many

    def __init__(self, text: str = "", parent: QWidget | None = None, **kwargs: object) -> None:
        self._heights: dict[int, int] = {}
        super().__init__(text, parent, **kwargs)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:
        if text != self.text():
            self._heights.clear()
            super().setText(text)

    def setTextFormat(self, format: Qt.TextFormat) -> None:
        self._heights.clear()
        super().setTextFormat(format)

    # QLabel's other ways to change what a height depends on.
    def clear(self) -> None:
        self._heights.clear()
        super().clear()

    def setNum(self, number: float) -> None:
        self._heights.clear()
        super().setNum(number)

    def setMargin(self, margin: int) -> None:
        self._heights.clear()
        super().setMargin(margin)

    def setIndent(self, indent: int) -> None:
        self._heights.clear()
        super().setIndent(indent)

    def setWordWrap(self, on: bool) -> None:
        self._heights.clear()
        super().setWordWrap(on)

    FORGET_ON = frozenset(
        {
            QEvent.Type.Polish,
            QEvent.Type.FontChange,
            QEvent.Type.StyleChange,
            QEvent.Type.ContentsRectChange,
            QEvent.Type.LayoutDirectionChange,
        }
    )

    def event(self, event: QEvent) -> bool:
        if event.type() in self.FORGET_ON:
            self._heights.clear()
        return super().event(event)

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            if len(self._heights) >= self.KEPT:
                self._heights.clear()
            height = self._heights[width] = super().heightForWidth(width)
        return height


class Island(QWidget):
    """Widgets stacked top to bottom, laid out here, the ``stretch`` one
    taking the height left: a change inside (a card's new text, a banner or a
    panel shown) moves only these widgets. In a layout, Qt passes every such
    change up through each enclosing layout to the window, which re-measured
    the whole meeting screen on every keystroke (7 ms of the UI thread of the
    15 a decision cost it)."""

    SPACING = 6

    def __init__(
        self,
        widgets: list[QWidget],
        stretch: QWidget,
        parent: QWidget | None = None,
        *,
        size: QSize | None = None,
    ):
        """``size``: a fixed height and the width wanted (a one-line status
        label whose new text must not lay the screen out again); without it,
        a side panel that grows both ways."""
        super().__init__(parent)
        self.widgets = widgets
        self.stretch = stretch
        for widget in widgets:
            widget.setParent(self)
        self.fixed_size = size  # not `size`: that would hide QWidget.size()
        if size is None:
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        else:
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(360, 480) if self.fixed_size is None else self.fixed_size

    def minimumSizeHint(self) -> QSize:
        return QSize(200, 240) if self.fixed_size is None else QSize(0, self.fixed_size.height())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.place()
            return True  # handled here: not passed up to the window
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.place()

    def place(self) -> None:
        area = self.contentsRect()
        width = area.width()
        shown = [w for w in self.widgets if not w.isHidden()]
        heights = {
            w: w.heightForWidth(width) if w.hasHeightForWidth() else w.sizeHint().height()
            for w in shown
            if w is not self.stretch
        }
        spare = area.height() - sum(heights.values()) - self.SPACING * (len(shown) - 1)
        y = area.top()
        for widget in shown:
            height = heights.get(widget, max(0, spare))
            widget.setGeometry(area.left(), y, width, height)
            y += height + self.SPACING


def close_and_copy_buttons(
    dialog: QDialog, copy: Callable[[], None]
) -> tuple[QDialogButtonBox, QPushButton]:
    """A dialog's Close button, and a "Copy details" button that calls ``copy``
    (for a support request)."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    copy_button = QPushButton("&Copy details")
    buttons.addButton(copy_button, QDialogButtonBox.ButtonRole.ActionRole)
    copy_button.clicked.connect(copy)
    buttons.rejected.connect(dialog.reject)
    return buttons, copy_button


def replace_tab(tabs: QTabWidget, index: int, widget: QWidget) -> None:
    """Put ``widget`` in place of tab ``index``'s page (its title kept, and
    the current tab too, without announcing a change): a screen builds a
    tab's contents when the tab is first shown, not all of them at once."""
    old, title, current = tabs.widget(index), tabs.tabText(index), tabs.currentIndex()
    tabs.blockSignals(True)
    tabs.removeTab(index)
    tabs.insertTab(index, widget, title)
    tabs.setCurrentIndex(current)
    tabs.blockSignals(False)
    old.deleteLater()
