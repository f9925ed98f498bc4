"""The look: large, high-contrast type that still reads on a projector."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

ACCENT = "#1d4f91"

STYLE = f"""
QWidget {{ font-size: 11pt; color: #1b1f23; }}
QMainWindow, QDialog {{ background: #f6f7f9; }}
QListWidget#nav {{
    background: #1f2a37; color: #e8edf3; border: none; font-size: 12pt; padding-top: 8px;
}}
QListWidget#nav::item {{ padding: 11px 16px; color: #e8edf3; }}
QListWidget#nav::item:selected {{ background: {ACCENT}; color: white; font-weight: bold; }}
QLabel#title {{ font-size: 17pt; font-weight: 600; }}
QLabel#subtitle {{ color: #4a5563; }}
QLabel#counter {{ font-size: 20pt; font-weight: 700; padding: 4px 12px;
    border: 2px solid {ACCENT}; border-radius: 6px; background: white; }}
QLabel#counter[over="true"] {{ border-color: #b3261e; color: #b3261e; }}
QLabel#banner {{ background: #fff4ce; border: 1px solid #c9a400; padding: 8px; font-weight: 600; }}
QLabel#card {{ background: white; border: 1px solid #cfd6de; border-radius: 6px; padding: 12px; }}
QLabel#placeholder {{ color: #5b6673; font-size: 13pt; }}
QTableView {{ background: white; gridline-color: #e3e7ec; selection-background-color: #c9dcf3;
    selection-color: #1b1f23; alternate-background-color: #f7f9fb; }}
QHeaderView::section {{ background: #e9edf2; padding: 5px; border: none;
    border-right: 1px solid #d3d9e0; font-weight: 600; }}
QPushButton {{ padding: 6px 14px; border: 1px solid #9aa7b5; border-radius: 4px;
    background: white; }}
QPushButton:hover {{ background: #eef3f9; }}
QPushButton#primary {{ background: {ACCENT}; color: white; border-color: {ACCENT};
    font-weight: 600; }}
QPushButton#accept {{ background: #e3f1e5; border-color: #2e7d32; font-weight: 600; }}
QPushButton#reject {{ background: #fbe4e2; border-color: #b3261e; font-weight: 600; }}
QStatusBar {{ background: #e9edf2; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QTextBrowser {{ background: white; border: 1px solid #cfd6de; }}
"""


def apply(app: QApplication, presenter: bool = False) -> None:
    font = QFont(app.font())
    font.setPointSize(13 if presenter else 11)
    app.setFont(font)
    app.setStyleSheet(STYLE)
