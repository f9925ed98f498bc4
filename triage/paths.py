"""Where Triage keeps and finds files: one place for every path.

The user data directory comes from platformdirs; ``TRIAGE_HOME`` moves all of
it under one folder (tests, demos, a USB stick). Bundled read-only files
(``rules/``, ``models/``, icons) are found the same way whether running from a
source tree, an installed wheel or a PyInstaller bundle.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from triage.private_files import private_folder

APP_NAME = "Triage"


def data_dir() -> Path:
    """The folder for the user's databases, settings, models and backups."""
    override = os.environ.get("TRIAGE_HOME")
    folder = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))
    return private_folder(folder)


def default_db_path() -> Path:
    return data_dir() / "triage.sqlite"


def resolve_db_path(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """``--db PATH``, else ``TRIAGE_DB``, else the user data directory."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get("TRIAGE_DB")
    if env:
        return Path(env)
    return default_db_path()


def bundle_root() -> Path:
    """The folder holding ``rules/``, ``models/`` and ``ui/icons``.

    Frozen by PyInstaller they sit under ``sys._MEIPASS``; otherwise they are
    beside the ``triage`` package in the source tree.
    """
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parent.parent


def bundled(*parts: str) -> Path:
    """A bundled read-only file or folder, e.g. ``bundled("rules", "intel")``."""
    return bundle_root().joinpath(*parts)
