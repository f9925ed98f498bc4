"""Small widgets shared by the screens."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDateEdit, QWidget

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
