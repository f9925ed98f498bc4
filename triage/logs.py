"""The app's log file and crash reports, for support.

``triage.log`` rotates in the user's log folder (platformdirs; under
``$TRIAGE_HOME/logs`` when that is set): at most ``MAX_BYTES`` a file and
``BACKUPS`` old files, so it never grows without bound. A crash report,
``crash-<time>.txt``, is written beside it when the app meets an exception
nothing handled.

No personal data goes into the log: callers log events and counts, never a
cell, a name or a file path, and a filter replaces the user's home folder and
login name wherever they would still appear (a library's message naming a
file, say). Crash reports get the same treatment; their traceback names
Triage's own code, and the user sees the whole text before sending it.
"""

from __future__ import annotations

import getpass
import logging
import logging.handlers
import os
import platform
import re
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import platformdirs

from triage.paths import APP_NAME
from triage.private_files import private_folder, restrict

LOG_NAME = "triage.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Our own loggers say what happened at INFO; libraries only their warnings.
OWN_LOGGERS = ("triage", "ui")


def log_dir() -> Path:
    """The folder for ``triage.log`` and crash reports (made private if new)."""
    override = os.environ.get("TRIAGE_HOME")
    if override:
        return private_folder(Path(override) / "logs")
    return private_folder(Path(platformdirs.user_log_dir(APP_NAME, False)))


class Redact(logging.Filter):
    """Replaces the home folder with ``~`` and the login name with ``<user>``."""

    def __init__(self) -> None:
        super().__init__()
        self.home = str(Path.home())
        try:
            user = getpass.getuser()
        except Exception:  # no login name to be found: nothing to hide
            user = ""
        # Whole words only, and not a name so short it would blank ordinary words.
        self.user = re.compile(rf"\b{re.escape(user)}\b") if len(user) >= 3 else None

    def text(self, message: str) -> str:
        if len(self.home) > 1:
            message = message.replace(self.home, "~")
        if self.user is not None:
            message = self.user.sub("<user>", message)
        return message

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.text(record.getMessage()), None
        if record.exc_info:  # a traceback could quote data: its type only
            kind = record.exc_info[0]
            record.msg += f" ({kind.__name__ if kind else 'error'})"
            record.exc_info, record.exc_text = None, None
        return True


def start_logging(folder: Path | None = None) -> Path:
    """Send our loggers (INFO) and everyone's warnings to the rotating log
    file; once per process. Returns the log file's path."""
    path = (folder or log_dir()) / LOG_NAME
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            return Path(handler.baseFilename)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    restrict(path)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(Redact())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    return path


def write_crash_report(
    kind: type[BaseException],
    error: BaseException,
    trace: TracebackType | None,
    build: str,
    folder: Path | None = None,
) -> tuple[Path, str]:
    """Write ``crash-<UTC time>.txt`` beside the log; (its path, its text)."""
    now = datetime.now(UTC)
    redact = Redact()
    text = "\n".join(
        [
            f"Triage crash report, {now:%Y-%m-%d %H:%M:%S} UTC",
            build,
            f"Python {platform.python_version()} on {platform.platform()}",
            "",
            redact.text("".join(traceback.format_exception(kind, error, trace))),
        ]
    )
    path = (folder or log_dir()) / f"crash-{now:%Y%m%d-%H%M%S-%f}.txt"
    path.write_text(text, encoding="utf-8")
    restrict(path)
    logging.getLogger("triage.crash").error(
        "uncaught %s: crash report %s written", kind.__name__, path.name
    )
    return path, text
