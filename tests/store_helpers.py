"""Damaging a database file and telling whether it changed (store tests)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def overwrite_64k(path: Path) -> None:
    """64 KB of junk in the middle of the file: pages the queue must read."""
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(bytes(range(256)) * 256)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
