"""Rule packs kept as data (``rules/intel/`` a folder of TOML files,
``rules/em/pack.toml`` one file): one validation path, one error type and one
cache rule for both.

The validation path: a loader reads its files through a ``Checker``, which
notes every problem as ``file: where: problem`` and lets checking go on, so
that a refused pack names all its problems at once in one ``PackError``.

The cache rule: a pack in force is read and validated once per process, and
read again only when one of its files changed on disk (size or modification
time), so the CLI and the app always rank with what the files say, without
re-reading them for every screen. A pack that fails to load is never put in
force: the error goes to the caller and the last good pack, if any, stays.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["Checker", "PackError", "in_force"]

P = TypeVar("P")


class PackError(Exception):
    """A rule pack that cannot be used; ``problems`` lists each one as
    ``file: where: problem``."""

    def __init__(self, source: Path | str, problems: list[str]) -> None:
        self.source = Path(source)
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"rule pack {source} refused ({len(problems)} problem(s)):\n{listed}")


class Checker:
    """Reads and checks one pack, noting every problem instead of stopping at
    the first; ``refuse_if_any`` raises the one ``PackError`` that lists them."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, file: str, where: str, text: str) -> None:
        self.problems.append(f"{file}: {where}: {text}" if where else f"{file}: {text}")

    def read_toml(self, path: Path) -> dict[str, Any]:
        """The file's TOML ({} and a problem if it is missing or unreadable)."""
        try:
            with open(path, "rb") as handle:
                return tomllib.load(handle)
        except FileNotFoundError:
            self.problem(path.name, "", f"missing from {path.parent}")
        except OSError as error:
            self.problem(path.name, "", f"cannot read ({error.strerror})")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            self.problem(path.name, "", f"not valid TOML: {error}")
        return {}

    def value(
        self, data: dict[str, Any], file: str, dotted: str, kind: type | tuple[type, ...]
    ) -> Any:
        """The value at ``dotted`` if it has type ``kind`` (a bool is not a
        number), else None with the problem noted."""
        node: object = data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                self.problem(file, dotted, "missing")
                return None
            node = node[part]
        if (isinstance(node, bool) and kind is not bool) or not isinstance(node, kind):
            wanted = "a number" if kind in ((int, float), float) else _kind_name(kind)
            self.problem(file, dotted, f"must be {wanted}, not {node!r}")
            return None
        return node

    def refuse_if_any(self) -> None:
        if self.problems:
            raise PackError(self.source, self.problems)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        bool: "true or false",
        int: "a whole number",
        str: "text",
        dict: "a table",
        list: "a list",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


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
