"""Where Triage keeps and finds files: one place for every path.

The user data directory comes from platformdirs; ``TRIAGE_HOME`` moves all of
it under one folder (tests, demos, a USB stick). Bundled read-only files
(``rules/``, ``models/``, icons) are found the same way whether running from a
source tree, an installed wheel or a PyInstaller bundle.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import platformdirs

from triage.private_files import private_folder

APP_NAME = "Triage"


def data_dir(*, create: bool = True) -> Path:
    """The folder for the user's databases, settings, models and backups
    (made, private, unless ``create`` is false: only reading, say)."""
    override = os.environ.get("TRIAGE_HOME")
    folder = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))
    return private_folder(folder) if create else folder


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


# "scheme://...": a database server's address, never a file name.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class UnusableDatabasePath(ValueError):
    """A database named by a path that cannot be one: refused, nothing created."""


def is_url(value: str | os.PathLike[str]) -> bool:
    return bool(_URL.match(os.fspath(value)))


def database_url(cli_value: str | os.PathLike[str] | None = None) -> str | None:
    """The database server address (a SQLAlchemy URL such as
    ``postgresql+psycopg://user@host:5432/triage``) that ``--db`` or, without
    it, ``TRIAGE_DB`` gives; None when they name a file (or nothing)."""
    given = os.fspath(cli_value) if cli_value else os.environ.get("TRIAGE_DB", "")
    return given if given and is_url(given) else None


def without_password(url: str) -> str:
    """A server address with any password in it replaced by ``***``."""
    return re.sub(r"^([^:/]+://[^:@/]*):[^/]*@", r"\1:***@", url)


def refuse_url(value: str | os.PathLike[str]) -> str:
    """``value`` as text, refused if it is a URL (``scheme://...``): a database
    server address is never taken for a file name."""
    text = os.fspath(value)
    if is_url(text):
        raise UnusableDatabasePath(
            f"{text.split('://')[0]}://...: a database server address, not a file; "
            "this needs the path of a database file"
        )
    return text


def usable_db_path(value: str | os.PathLike[str] | None = None) -> Path:
    """The database file ``resolve_db_path`` names, refused (with the reason)
    when it is a URL, a folder, or in a folder that does not exist. A new
    file in an existing folder is fine: it is created on first use."""
    url = database_url(value)  # --db, or TRIAGE_DB without it
    if url:
        refuse_url(url)
    path = resolve_db_path(value)
    if path.is_dir():
        raise UnusableDatabasePath(f"{path} is a folder: give the path of a database file in it")
    if not path.parent.is_dir():
        raise UnusableDatabasePath(
            f"{path}: the folder {path.parent} does not exist "
            "(create it first, or make the database with `triage db init PATH`)"
        )
    return path


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
