"""The Settings screen: who you are and how the app looks.

Who is signed in (recorded with every decision, note and action), the default
region and team (pre-selected for a new meeting and the queue), the meeting
capacity (0: each team's capacity from ``organisation.toml``), the display
time zone (Europe/London by default) and the theme (light, dark or the
system's). Stored through ``triage.settings`` as the CLI reads them.
"""

from __future__ import annotations

from zoneinfo import available_timezones

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from triage import settings
from triage.intel import regions
from triage.store.db import Database
from ui import identity, labels, theme

THEME_TEXT = {"system": "As the system", "light": "Light", "dark": "Dark"}


class SettingsView(QWidget):
    """Edits the saved settings; ``saved`` is emitted after each save."""

    saved = Signal()

    def __init__(self, db: Database | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("Settings", objectName="title")
        self.signed_in = QLabel()
        self.region = QComboBox()
        self.region.addItem("None", "")
        for region in regions.load_regions():
            self.region.addItem(f"{region.code} · {region.name}", region.code)
        self.team = QComboBox()
        self.capacity = QSpinBox()
        self.capacity.setRange(0, 10000)
        self.capacity.setSpecialValueText("the team's capacity (organisation.toml)")
        self.time_zone = QComboBox()
        self.time_zone.setEditable(False)
        for name in sorted(available_timezones()):
            self.time_zone.addItem(name, name)
        self.theme = QComboBox()
        for key in theme.THEMES:
            self.theme.addItem(THEME_TEXT[key], key)
        self.save_button = QPushButton("Save", objectName="primary")
        self.save_button.clicked.connect(self.save)
        self.message = QLabel(objectName="subtitle")
        self.region.currentIndexChanged.connect(self._fill_teams)

        form = QFormLayout()
        form.addRow("Signed in as", self.signed_in)
        form.addRow("Default &region", self.region)
        form.addRow("Default &team", self.team)
        form.addRow("Meeting &capacity", self.capacity)
        form.addRow("Display time &zone", self.time_zone)
        form.addRow("T&heme", self.theme)
        form.addRow(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        intro = QLabel(
            "Your decisions, notes and EM actions are recorded under the user you "
            "signed in as (users are managed with `triage user`)."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.refresh()

    def _fill_teams(self) -> None:
        code = self.region.currentData()
        self.team.clear()
        self.team.addItem("None", "")
        if code:
            for team in regions.region_by_code(code).teams:
                self.team.addItem(team.name, team.name)

    def refresh(self) -> None:
        stored = settings.load()
        self.signed_in.setText(identity.current().describe())
        self.region.setCurrentIndex(max(0, self.region.findData(stored.default_region)))
        self._fill_teams()
        self.team.setCurrentIndex(max(0, self.team.findData(stored.default_team)))
        self.capacity.setValue(stored.meeting_capacity)
        self.time_zone.setCurrentIndex(max(0, self.time_zone.findData(stored.display_time_zone)))
        self.theme.setCurrentIndex(max(0, self.theme.findData(stored.theme)))

    def save(self) -> None:
        stored = settings.load()
        stored.default_region = self.region.currentData()
        stored.default_team = self.team.currentData()
        stored.meeting_capacity = self.capacity.value()
        stored.display_time_zone = self.time_zone.currentData()
        stored.theme = self.theme.currentData()
        settings.save(stored)
        labels.use_time_zone(stored.display_time_zone)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, theme=stored.theme)
        self.message.setText("Saved.")
        self.saved.emit()
