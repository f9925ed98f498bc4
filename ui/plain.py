"""Untrusted text shown as plain text, never as rich text.

Qt renders a label, a tooltip or a message box as HTML when its text looks
like HTML (``Qt::AutoText``). Text from extracts, file names and error
messages naming them can hold ``<img src=...>`` or ``<a href=...>``: a label
that shows such text is made plain here, and a rich label escapes every
value with ``ui.labels.esc``.
"""

from __future__ import annotations

import html

from PySide6.QtGui import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


def plain(label: QLabel) -> QLabel:
    """The label, set to show its text as written."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def text(value: str) -> str:
    """``value`` in a form Qt shows as written wherever it guesses the format
    (tooltips, message boxes): unchanged unless Qt would take it for HTML,
    else escaped inside a paragraph (tooltips have no text format of their
    own: escaped HTML is the way to say "plain")."""
    if not Qt.mightBeRichText(value):
        return value
    return "<p style='white-space:pre-wrap'>" + html.escape(value) + "</p>"


def tooltip(value: str | None) -> str | None:
    """A tooltip of untrusted text (None when there is none)."""
    return text(value) if value else None


def warn(parent: QWidget | None, title: str, message: str) -> None:
    """A warning box whose message (often naming a file) is shown as written."""
    QMessageBox.warning(parent, title, text(message))
