"""Rule packs kept as data (``rules/intel/`` a folder of TOML files,
``rules/em/pack.toml`` one file): one error type and one cache rule for both.

The cache rule: a pack in force is read and validated once per process, and
read again only when one of its files changed on disk (size or modification
time), so the CLI and the app always rank with what the files say, without
re-reading them for every screen. A pack that fails to load is never put in
force: the error goes to the caller and the last good pack, if any, stays.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["PackError", "in_force"]

P = TypeVar("P")


class PackError(Exception):
    """A rule pack that cannot be used; the message names file, key and problem."""


_lock = threading.Lock()
# key -> (the files' signature when loaded, the pack)
_loaded: dict[str, tuple[tuple[tuple[str, int, int], ...], Any]] = {}


def _signature(files: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    signature = []
    for path in files:
        try:
            stat = path.stat()
            signature.append((str(path), stat.st_size, stat.st_mtime_ns))
        except OSError:
            signature.append((str(path), -1, -1))  # missing: the loader says so
    return tuple(signature)


def in_force(key: str, files: Sequence[Path], load: Callable[[], P]) -> P:
    """The pack ``key`` (made by ``load``), re-read when ``files`` changed."""
    signature = _signature(files)
    with _lock:
        cached = _loaded.get(key)
        if cached is not None and cached[0] == signature:
            pack: P = cached[1]
            return pack
    pack = load()  # raises PackError: nothing is put in force
    with _lock:
        _loaded[key] = (signature, pack)
    return pack


def put_in_force(key: str, files: Sequence[Path], pack: Any) -> None:
    """Make ``pack`` (already loaded and valid) the one in force for ``key``."""
    with _lock:
        _loaded[key] = (_signature(files), pack)
