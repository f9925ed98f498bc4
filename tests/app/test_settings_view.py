"""The Settings screen and the light / dark themes."""

from __future__ import annotations

import json

import pytest
from actors import EVERYONE
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from triage import settings
from ui import theme
from ui.settings_view import SettingsView

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def restore_theme():
    yield
    theme.apply(QApplication.instance(), theme="light")


@pytest.fixture(autouse=True)
def restore_time_zone():
    """Saving settings sets the app-wide display zone: put the default back."""
    from ui import labels

    yield
    labels.use_time_zone("Europe/London")


def test_settings_are_saved_and_the_theme_applied(qtbot, restore_theme):
    view = SettingsView()
    qtbot.addWidget(view)
    assert view.time_zone.currentData() == "Europe/London"  # the default
    assert view.signed_in.text() == EVERYONE.describe()  # who the audit records
    view.region.setCurrentIndex(view.region.findData("LSE"))
    view.team.setCurrentIndex(view.team.findData("London North"))
    view.capacity.setValue(14)
    view.time_zone.setCurrentIndex(view.time_zone.findData("Europe/Dublin"))
    view.theme.setCurrentIndex(view.theme.findData("dark"))
    view.save_button.click()
    stored = settings.load()
    assert (stored.default_region, stored.default_team) == ("LSE", "London North")
    assert (stored.meeting_capacity, stored.display_time_zone, stored.theme) == (
        14,
        "Europe/Dublin",
        "dark",
    )
    window = QApplication.instance().palette().color(QPalette.ColorRole.Window)
    text = QApplication.instance().palette().color(QPalette.ColorRole.WindowText)
    assert window.lightness() < 60 and text.lightness() > 200  # light text on dark
    again = SettingsView()
    qtbot.addWidget(again)
    assert again.team.currentData() == "London North" and again.capacity.value() == 14


@pytest.mark.parametrize("name", ["light", "dark"])
def test_every_scheme_keeps_text_readable(name):
    """Text against its background: WCAG contrast of at least 4.5:1."""

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    c = theme.scheme_for(name)
    for text, background in (
        ("text", "window"),
        ("text", "base"),
        ("text", "alternate"),
        ("text", "header"),
        ("muted", "base"),
        ("muted", "window"),
        ("selection_text", "selection"),
        ("text", "banner"),
        ("link", "base"),
    ):
        assert contrast(c[text], c[background]) >= 4.5, (name, text, background)


def test_a_hand_edited_settings_file_with_bad_values_falls_back(tmp_path):
    settings.settings_path().write_text(
        json.dumps(
            {"theme": "purple", "display_time_zone": "Mars/Olympus", "meeting_capacity": -3}
        ),
        encoding="utf-8",
    )
    stored = settings.load()
    assert (stored.theme, stored.display_time_zone, stored.meeting_capacity) == (
        "system",
        "Europe/London",
        0,
    )


def test_the_display_time_zone_changes_the_times_the_app_shows(qtbot):
    from datetime import datetime

    from ui import labels

    view = SettingsView()
    qtbot.addWidget(view)
    moment = datetime(2026, 7, 1, 9, 0)  # stored UTC
    assert f"{labels.local_time(moment):%H:%M}" == "10:00" and labels.zone_label() == "UK time"
    view.time_zone.setCurrentIndex(view.time_zone.findData("America/New_York"))
    view.save_button.click()
    assert f"{labels.local_time(moment):%H:%M}" == "05:00"
    assert labels.zone_label() == "America/New_York"
