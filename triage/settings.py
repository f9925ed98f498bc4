"""User settings: a typed, declared list with defaults, stored as JSON.

Settings live in ``settings.json`` in the data directory (see ``paths``).
Unknown keys in the file are ignored and bad values fall back to the default,
so a hand-edited file can never stop the app from starting.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from triage import paths

DEFAULT_TIME_ZONE = "Europe/London"
THEMES = ("system", "light", "dark")


@dataclass
class Settings:
    # Weight of the optional ML harm score in the ranking (0 = rules only).
    model_weight: float = 0.0
    # Hide the model's score in a meeting until the item is decided (no nudging).
    hide_model_score_until_decided: bool = True
    # Statistics exports suppress counts below this (0 = no suppression).
    suppress_below: int = 0
    recent_databases: list[str] = field(default_factory=list)
    # Automatic backups (before a migration, a large import, a purge) kept of each kind.
    backups_kept: int = 10
    # Saved column-mapping profiles for extracts with non-canonical headers:
    # {profile name: {source header: canonical column}}.
    mapping_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    # Pre-selected for a new meeting and the queue ("" = none).
    default_region: str = ""
    default_team: str = ""
    # A new meeting's capacity; 0 = the team's capacity from organisation.toml.
    meeting_capacity: int = 0
    # The zone the app shows times in (stored times are UTC).
    display_time_zone: str = DEFAULT_TIME_ZONE
    # The app's colours: "system", "light" or "dark".
    theme: str = "system"

    def remember_database(self, path: str | os.PathLike[str], keep: int = 8) -> None:
        # A server's address as given (open_database hides its password).
        text = str(path) if paths.is_url(path) else str(Path(path).resolve())
        self.recent_databases = [text] + [p for p in self.recent_databases if p != text]
        del self.recent_databases[keep:]


def settings_path(*, create_folder: bool = True) -> Path:
    return paths.data_dir(create=create_folder) / "settings.json"


def load() -> Settings:
    # Reading makes no folder: a command that only reads settings leaves no trace.
    try:
        stored = json.loads(settings_path(create_folder=False).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    defaults = Settings()
    values = {}
    for spec in fields(Settings):
        if spec.name in stored:
            value = stored[spec.name]
            expected = type(getattr(defaults, spec.name))
            if expected is float and isinstance(value, int):
                value = float(value)
            if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
                values[spec.name] = value
    loaded = Settings(**values)
    # Values that parse but mean nothing fall back to the default too.
    if loaded.theme not in THEMES:
        loaded.theme = defaults.theme
    if loaded.meeting_capacity < 0:
        loaded.meeting_capacity = 0
    try:
        ZoneInfo(loaded.display_time_zone)
    except (ValueError, ZoneInfoNotFoundError):
        loaded.display_time_zone = DEFAULT_TIME_ZONE
    return loaded


def save(settings: Settings) -> None:
    target = settings_path()
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    temporary.replace(target)  # atomic: a crash never leaves half a file
