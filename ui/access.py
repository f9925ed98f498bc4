"""Keyboard and screen-reader access, applied to every screen as it is built.

- Tab moves from control to control: tables and lists do not keep Tab for
  moving between their cells (the arrow keys do that), read-only text panes
  pass it on, and date fields leave on Tab (``ui.widgets.DateField``).
- Every control has an accessible name: the text of the label that names it
  (a buddy, or its row in a form), else its own text, placeholder or tooltip.
  ``unnamed_controls`` lists any left without one (a test walks every screen).
- A window never grows past the screen it is on.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QSlider,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QWidget,
)

# What counts as a control a keyboard or screen-reader user operates.
CONTROLS = (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QAbstractSpinBox,
    QAbstractItemView,
    QTextEdit,
    QSlider,
    QTabBar,
)


def _plain(text: str) -> str:
    """Label text without mnemonics, markup or a trailing colon."""
    from html import unescape
    from re import sub

    return (
        unescape(sub(r"<[^>]+>", "", text))
        .replace("&&", "\0")
        .replace("&", "")
        .replace("\0", "&")
        .strip()
        .rstrip(":")
        .strip()
    )


def _buddy_names(root: QWidget) -> dict[int, str]:
    """Control id -> the text of the label that names it."""
    names: dict[int, str] = {}
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        if buddy is not None and _plain(label.text()):
            names[id(buddy)] = _plain(label.text())
    for form in root.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if field is None or label is None or not isinstance(label.widget(), QLabel):
                continue
            text = _plain(label.widget().text())
            targets = [field.widget()] if field.widget() is not None else []
            if field.layout() is not None:  # a row of several controls
                layout = field.layout()
                targets = [layout.itemAt(n).widget() for n in range(layout.count())]
            for target in targets:
                if target is not None and text:
                    names.setdefault(id(target), text)
    # A tab's page (or the one control on it) is named by the tab.
    for tabs in root.findChildren(QTabWidget):
        for n in range(tabs.count()):
            page, text = tabs.widget(n), _plain(tabs.tabText(n)).split(" (")[0]
            inside = [page] if isinstance(page, CONTROLS) else _controls(page)
            if len(inside) == 1 and text:
                names.setdefault(id(inside[0]), text)
    # A control straight after a label in a row or column is named by it.
    for layout in root.findChildren(QLayout):
        previous = ""
        for n in range(layout.count()):
            widget = layout.itemAt(n).widget()
            if isinstance(widget, QLabel):
                previous = _plain(widget.text())
                continue
            if widget is not None and isinstance(widget, CONTROLS) and previous:
                names.setdefault(id(widget), previous)
            previous = ""
    return names


def _controls(root: QWidget) -> list[QWidget]:
    return [w for w in root.findChildren(QWidget) if isinstance(w, CONTROLS) and not _inner_part(w)]


def own_name(widget: QWidget) -> str:
    """A name a control carries itself: its text, placeholder or tooltip."""
    for getter in ("text", "placeholderText"):
        method = getattr(widget, getter, None)
        if callable(method):
            value = method()
            if isinstance(value, str) and _plain(value):
                return _plain(value)
    return _plain(widget.toolTip()) if widget.toolTip() else ""


def name_controls(root: QWidget) -> None:
    """Give every control under ``root`` without an accessible name one."""
    labelled = _buddy_names(root)
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or widget.accessibleName():
            continue
        name = labelled.get(id(widget)) or own_name(widget)
        if name:
            widget.setAccessibleName(name)


def keyboard_friendly(root: QWidget) -> None:
    """Tab moves on from tables, lists and read-only text panes."""
    for view in root.findChildren(QAbstractItemView):
        view.setTabKeyNavigation(False)
    for text in root.findChildren(QTextEdit):
        if text.isReadOnly():
            text.setTabChangesFocus(True)


def prepare(root: QWidget) -> None:
    """Everything this module does, for a screen or dialog just built."""
    keyboard_friendly(root)
    name_controls(root)


def unnamed_controls(root: QWidget) -> list[QWidget]:
    """Controls under ``root`` with neither an accessible name nor a label buddy."""
    labelled = _buddy_names(root)
    return [
        w
        for w in root.findChildren(QWidget)
        if isinstance(w, CONTROLS)
        and not w.accessibleName()
        and id(w) not in labelled
        # Qt's own inner parts (a combo box's list, a spin box's line edit, a
        # scroll bar's buttons) are named through the control that owns them.
        and not _inner_part(w)
    ]


def _inner_part(widget: QWidget) -> bool:
    if isinstance(widget, QHeaderView):  # its sections are read out with the table
        return True
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QComboBox, QAbstractSpinBox, QLineEdit)):
            return True  # a list, a line edit or a clear button inside the control
        parent = parent.parentWidget()
    return widget.objectName().startswith("qt_")


def available_size(widget: QWidget) -> QSize:
    """The usable size of the screen ``widget`` is on (or the primary screen)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry().size()


def keep_on_screen(window: QWidget) -> None:
    """Cap the window at its screen's usable size, shrinking it if it has grown."""
    limit = available_size(window)
    window.setMaximumSize(limit)
    if window.width() > limit.width() or window.height() > limit.height():
        window.resize(min(window.width(), limit.width()), min(window.height(), limit.height()))
