"""The modules the spec leaves out of the bundle are truly unused: the command
line runs a demo, trains and activates a harm model and ranks with it while
every excluded module is made unimportable, as it is in the bundle. A wrong
exclusion fails here in seconds rather than after a build (check.sh repeats
the same steps in the real bundle)."""

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
            [sys.executable, "-c", BLOCKED_CLI, ",".join(excluded), *args],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    cli("demo", "--intel", "1500", "--em", "50")
    cli("model", "train", "--activate", "--bootstrap", "5")
    ranked = json.loads(cli("rank", "intel", "--limit", "3", "--format", "json"))
    assert ranked and all(isinstance(row["harm_score"], float) for row in ranked)
