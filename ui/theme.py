"""The look: large, high-contrast type that still reads on a projector, in a
light or a dark scheme (or the system's).

Every colour comes from one scheme, so each screen reads in both: text,
backgrounds, borders and the accent. The palette and font are the
application's; the style sheet is set on each window (``style``), not on the
application: with an application-wide sheet every widget was polished by
Qt's style-sheet style as it was made and again each time it was re-parented
while a screen was assembled (200 ms of the UI thread to build the EM screen,
against 40 ms when the screen is assembled first and styled once as it joins
the window). Cells tinted by bucket keep dark text
on their light tint (the models say so with a foreground colour). Text panes
(explanations, help) follow the scheme through the palette.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

ACCENT = "#1d4f91"
THEMES = ("system", "light", "dark")

LIGHT = {
    "text": "#1b1f23",
    "muted": "#4a5563",
    "window": "#f6f7f9",
    "base": "#ffffff",
    "alternate": "#f7f9fb",
    "grid": "#e3e7ec",
    "header": "#e9edf2",
    "border": "#9aa7b5",
    "soft_border": "#cfd6de",
    "hover": "#eef3f9",
    "selection": "#c9dcf3",
    "selection_text": "#1b1f23",
    "banner": "#fff4ce",
    "banner_border": "#c9a400",
    "accent": ACCENT,
    "accent_text": "#ffffff",
    "danger": "#b3261e",
    "accept": "#e3f1e5",
    "accept_border": "#2e7d32",
    "reject": "#fbe4e2",
    "link": "#1d4f91",
    "good": "#1b5e20",
    "bad": "#8e1b14",
}
DARK = {
    "text": "#e8edf3",
    "muted": "#aeb8c4",
    "window": "#1b2027",
    "base": "#232a33",
    "alternate": "#29313b",
    "grid": "#38424e",
    "header": "#2f3843",
    "border": "#6b7988",
    "soft_border": "#4a5563",
    "hover": "#34404d",
    "selection": "#2f5f9e",
    "selection_text": "#ffffff",
    "banner": "#4d4215",
    "banner_border": "#c9a400",
    "accent": "#4f8fe0",
    "accent_text": "#0d1117",
    "danger": "#ff8a80",
    "accept": "#1f3d24",
    "accept_border": "#66bb6a",
    "reject": "#4a2220",
    "link": "#8cb8ff",
    "good": "#81c784",
    "bad": "#ff8a80",
}


def scheme_for(theme: str) -> dict[str, str]:
    """The colours for ``theme`` (system follows the desktop's light or dark)."""
    if theme == "dark":
        return DARK
    if theme == "light":
        return LIGHT
    hints = QGuiApplication.styleHints()
    dark = hasattr(hints, "colorScheme") and hints.colorScheme() == Qt.ColorScheme.Dark
    return DARK if dark else LIGHT


def stylesheet(c: dict[str, str]) -> str:
    return f"""
QWidget {{ font-size: 11pt; color: {c["text"]}; }}
QMainWindow, QDialog {{ background: {c["window"]}; }}
QListWidget#nav {{
    background: #1f2a37; color: #e8edf3; border: none; font-size: 12pt; padding-top: 8px;
}}
QListWidget#nav::item {{ padding: 11px 16px; color: #e8edf3; }}
QListWidget#nav::item:selected {{ background: {ACCENT}; color: white; font-weight: bold; }}
QLabel#title {{ font-size: 17pt; font-weight: 600; }}
QLabel#subtitle {{ color: {c["muted"]}; }}
QLabel#counter {{ font-size: 20pt; font-weight: 700; padding: 4px 12px;
    border: 2px solid {c["accent"]}; border-radius: 6px; background: {c["base"]}; }}
QLabel#counter[over="true"] {{ border-color: {c["danger"]}; color: {c["danger"]}; }}
QLabel#banner {{ background: {c["banner"]}; border: 1px solid {c["banner_border"]}; padding: 8px;
    font-weight: 600; }}
QLabel#card, QFrame#card {{ background: {c["base"]}; border: 1px solid {c["soft_border"]};
    border-radius: 6px; }}
QLabel#card {{ padding: 12px; }}
QLabel#card_heading {{ font-size: 16pt; font-weight: 700; }}
QLabel#card_fits, QLabel#card_names, QLabel#card_values {{ font-size: 12pt; }}
QLabel#card_fits[fits="true"] {{ color: {c["good"]}; }}
QLabel#card_fits[fits="false"] {{ color: {c["bad"]}; }}
QLabel#card_names {{ color: {c["muted"]}; }}
QLabel#placeholder {{ color: {c["muted"]}; font-size: 13pt; }}
QTableView, QTableWidget, QListView {{ background: {c["base"]}; gridline-color: {c["grid"]};
    selection-background-color: {c["selection"]}; selection-color: {c["selection_text"]};
    alternate-background-color: {c["alternate"]}; }}
QHeaderView::section {{ background: {c["header"]}; color: {c["text"]}; padding: 5px; border: none;
    border-right: 1px solid {c["soft_border"]}; font-weight: 600; }}
QPushButton {{ padding: 6px 14px; border: 1px solid {c["border"]}; border-radius: 4px;
    background: {c["base"]}; }}
QPushButton:hover {{ background: {c["hover"]}; }}
QPushButton:disabled {{ color: {c["muted"]}; border-color: {c["soft_border"]}; }}
QPushButton#primary {{ background: {c["accent"]}; color: {c["accent_text"]};
    border-color: {c["accent"]}; font-weight: 600; }}
QPushButton#accept {{ background: {c["accept"]}; border-color: {c["accept_border"]};
    font-weight: 600; }}
QPushButton#reject {{ background: {c["reject"]}; border-color: {c["danger"]}; font-weight: 600; }}
QPushButton#reason {{ text-align: left; }}
QLineEdit, QComboBox, QAbstractSpinBox, QDateEdit {{ background: {c["base"]};
    border: 1px solid {c["border"]}; border-radius: 3px; padding: 2px 4px; }}
QComboBox QAbstractItemView {{ background: {c["base"]}; color: {c["text"]};
    selection-background-color: {c["selection"]}; selection-color: {c["selection_text"]}; }}
QGroupBox {{ border: 1px solid {c["soft_border"]}; border-radius: 4px; margin-top: 14px;
    padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; font-weight: 600; }}
QTabBar::tab {{ background: {c["header"]}; color: {c["text"]}; padding: 6px 12px;
    border: 1px solid {c["soft_border"]}; border-bottom: none; }}
QTabBar::tab:selected {{ background: {c["base"]}; font-weight: 600; }}
QStatusBar {{ background: {c["header"]}; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QMenuBar, QMenu {{ background: {c["header"]}; color: {c["text"]}; }}
QMenu::item:selected, QMenuBar::item:selected {{ background: {c["selection"]};
    color: {c["selection_text"]}; }}
QTextBrowser {{ background: {c["base"]}; border: 1px solid {c["soft_border"]}; }}
QToolTip {{ background: {c["base"]}; color: {c["text"]}; border: 1px solid {c["border"]}; }}
"""


def palette(c: dict[str, str]) -> QPalette:
    """The same scheme as a palette: native parts (pop-ups, rich text) follow it."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: c["window"],
        QPalette.ColorRole.WindowText: c["text"],
        QPalette.ColorRole.Base: c["base"],
        QPalette.ColorRole.AlternateBase: c["alternate"],
        QPalette.ColorRole.Text: c["text"],
        QPalette.ColorRole.Button: c["header"],
        QPalette.ColorRole.ButtonText: c["text"],
        QPalette.ColorRole.ToolTipBase: c["base"],
        QPalette.ColorRole.ToolTipText: c["text"],
        QPalette.ColorRole.PlaceholderText: c["muted"],
        QPalette.ColorRole.Highlight: c["selection"],
        QPalette.ColorRole.HighlightedText: c["selection_text"],
        QPalette.ColorRole.Link: c["link"],
        QPalette.ColorRole.BrightText: c["danger"],
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(c["muted"]))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(c["muted"]))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(c["muted"]))
    return p


# The scheme in force, for code that draws (charts) or writes HTML colours.
current: dict[str, str] = LIGHT


# Text on the light bucket tints stays dark in either scheme.
TINT_TEXT = "#1b1f23"


def colour(name: str) -> str:
    """A colour of the scheme in force by name (text, muted, good, bad, ...)."""
    return current[name]


def muted() -> str:
    """The colour for secondary text in HTML panes, readable in either scheme."""
    return current["muted"]


# Set on a window by ``style``: its sheet follows a change of scheme.
THEMED = "triageThemed"


def style(window: QWidget) -> None:
    """Give ``window`` (a main window, or a dialog with no parent) the style
    sheet of the scheme in force; widgets inside it, and dialogs it parents,
    inherit it."""
    window.setProperty(THEMED, True)
    window.setStyleSheet(stylesheet(current))


def apply(app: QApplication, presenter: bool = False, theme: str | None = None) -> None:
    """Fonts, palette and the style sheet of every styled window; ``theme``
    defaults to the saved setting."""
    global current
    if theme is None:
        from triage import settings

        theme = settings.load().theme
    current = scheme_for(theme if theme in THEMES else "system")
    font = QFont(app.font())
    font.setPointSize(13 if presenter else 11)
    app.setFont(font)
    app.setStyle("Fusion")  # the only built-in style that draws a palette faithfully
    app.setPalette(palette(current))
    for window in app.topLevelWidgets():
        if window.property(THEMED):
            style(window)
