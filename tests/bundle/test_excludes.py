"""The modules the spec leaves out of the bundle are truly unused: the command
line runs a demo, trains and activates a harm model, ranks with it, evaluates
it (the fairness table), explains an item and writes the model card while
every excluded module is made unimportable, as it is in the bundle, and under
``python -OO`` (no docstrings, no asserts), as the bundle's bytecode is built.
A wrong exclusion fails here in a minute rather than after a build (check.sh
repeats the same steps in the real bundle)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_packaging import run_spec

ROOT = Path(__file__).resolve().parents[2]

BLOCKED_CLI = """
import importlib.abc, sys
blocked = [name for name in sys.argv[1].split(",") if name]
class LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            raise ModuleNotFoundError(f"No module named {name!r} (not bundled)", name=name)
        return None
sys.meta_path.insert(0, LeftOut())
from triage.cli.main import main
sys.exit(main(sys.argv[2:]))
"""

pytest.importorskip("PyInstaller", reason="packaging extra not installed")


def test_harm_model_trains_and_scores_without_the_excluded_modules(tmp_path):
    excluded = run_spec(ROOT, tmp_path / "dist")["built"]["Analysis"][0].kwargs["excludes"]
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_NOW": "2026-11-20T09:00:00"}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-OO", "-c", BLOCKED_CLI, ",".join(excluded), *args],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    cli("demo", "--intel", "1500", "--em", "50")
    cli("model", "train", "--activate", "--bootstrap", "5")
    ranked = json.loads(cli("rank", "intel", "--limit", "3", "--format", "json"))
    assert ranked and all(isinstance(row["harm_score"], float) for row in ranked)
    evaluation = json.loads(cli("model", "evaluate", "--json"))
    assert "nationality" in json.dumps(evaluation)
    explained = json.loads(cli("explain", "intel", ranked[0]["intel_id"], "--json"))
    assert "contribution" in json.dumps(explained)
    cli("model", "card", "--out", str(tmp_path / "card.md"))
    assert "## Fairness" in (tmp_path / "card.md").read_text()
    cli("stats", "tasking", "--format", "pdf", "--out", str(tmp_path / "tasking.pdf"))
    assert (tmp_path / "tasking.pdf").read_bytes()[:5] == b"%PDF-"
    assert {"sklearn.cluster", "scipy.cluster", "sklearn.datasets"} <= set(excluded)


def test_app_command_line_parses_without_docstrings():
    """The bundle's bytecode has no docstrings (optimize=2): the app's
    command line must not be built from one."""
    parse = "from ui.app import parse_args; print(parse_args(['--smoke']))"
    done = subprocess.run(
        [sys.executable, "-OO", "-c", parse], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "smoke=True" in done.stdout
