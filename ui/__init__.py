"""The Triage desktop app (PySide6). All logic lives in ``triage``; this
package only shows it and calls its operations off the UI thread."""
