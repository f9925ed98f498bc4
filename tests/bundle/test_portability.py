"""The code keeps its POSIX-only calls in one module, triage/private_files.py
(which does nothing on Windows), so a Windows or macOS build needs no other
change (docs/packaging.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = ROOT / "triage" / "private_files.py"
POSIX_MODULES = {"fcntl", "pwd", "grp", "termios", "tty", "resource", "posix", "pty"}
POSIX_CALLS = {
    "chmod", "fchmod", "lchmod", "chown", "fchown", "lchown", "umask", "getuid", "geteuid",
    "getgid", "getegid", "setsid", "fork", "killpg", "getpgid", "mkfifo", "statvfs", "nice",
}  # fmt: skip


def posix_only_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in POSIX_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "") in POSIX_MODULES:
            found.append(node.module or "")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"os.{a.name}" for a in node.names if a.name in POSIX_CALLS]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in POSIX_CALLS
        ):
            found.append(f"os.{node.attr}")
    return [f"{path.relative_to(ROOT)}: {use}" for use in found]


def test_posix_only_calls_live_in_private_files_only():
    sources = sorted((ROOT / "triage").rglob("*.py")) + sorted((ROOT / "ui").rglob("*.py"))
    uses = [use for path in sources if path != ALLOWED for use in posix_only_uses(path)]
    assert uses == []
    assert posix_only_uses(ALLOWED)  # the one module that has them (and guards them)


def test_the_check_finds_a_posix_call(tmp_path, monkeypatch):
    sample = ROOT / "triage" / "__init__.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: "import fcntl\nos.umask(0)")
    assert posix_only_uses(sample) == ["triage/__init__.py: fcntl", "triage/__init__.py: os.umask"]
