"""Help > About: the build, the data versions and the bundled components'
licences (``triage.ops.about``), with a button that copies it all for a
support request."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from triage.ops.about import About
from ui.plain import text as plain_text
from ui.widgets import close_and_copy_buttons


class AboutDialog(QDialog):
    def __init__(self, about: About, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.about = about
        self.setWindowTitle("About Triage")
        facts = QFormLayout()
        for label, value in about.facts():
            shown = QLabel(plain_text(value))
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            shown.setAccessibleName(label)
            facts.addRow(label, shown)
        self.components = QTableWidget(len(about.components), 3)
        self.components.setAccessibleName("Bundled components and their licences")
        self.components.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        self.components.verticalHeader().hide()
        for row, component in enumerate(about.components):
            for column, value in enumerate((component.name, component.version, component.licence)):
                self.components.setItem(row, column, QTableWidgetItem(value))
        self.components.resizeColumnsToContents()
        buttons, self.copy_button = close_and_copy_buttons(self, self.copy)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Triage</b>: intelligence tasking and EM caseload"))
        layout.addLayout(facts)
        layout.addWidget(QLabel("Bundled components and their licences:"))
        layout.addWidget(self.components)
        layout.addWidget(buttons)
        self.resize(640, 520)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.about.text())
