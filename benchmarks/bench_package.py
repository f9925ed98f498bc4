"""Benchmark: the packaged app's build time, size and start-up, against the venv.

Start-up is timed twice, each frozen (``dist/triage-desk/triage-desk`` run
with ``env -i``: no PATH, no venv) and, as the baseline in the same run, the
same entry script under the project's venv Python:
  * ``cli --version``: interpreter start and the CLI's imports, nothing else;
  * ``--smoke``: demo database in a temp folder, rank, main window, statistics
    export (what .ci/run checks).
Size is the bundle's files (symlinks not counted twice) against the venv's
site-packages it was built from, with the largest parts listed.

    .venv/bin/python benchmarks/bench_package.py [--build] [--runs N]

``--build`` first runs ``packaging/build.sh --clean`` and times it; without
it the existing ``dist/triage-desk`` is measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "triage-desk"
APP = BUNDLE / ("triage-desk.exe" if sys.platform == "win32" else "triage-desk")
ENTRY = ROOT / "packaging" / "triage_desk.py"
MB = 1024 * 1024


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def timed(command: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - began)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="build from scratch first, timed")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    if args.build:
        began = time.perf_counter()
        subprocess.run([str(ROOT / "packaging" / "build.sh"), "--clean"], check=True)
        print(f"build (packaging/build.sh --clean): {time.perf_counter() - began:.0f} s")
    if not APP.exists():
        sys.exit(f"no bundle at {BUNDLE}: run packaging/build.sh (or pass --build)")

    bundle = size(BUNDLE)
    venv = size(Path(sysconfig.get_paths()["purelib"]))
    print(
        f"bundle: {bundle / MB:.0f} MB unpacked (budget 250 MB); "
        f"venv site-packages {venv / MB:.0f} MB; ratio {bundle / venv:.2f}"
    )
    parts = sorted(
        ((size(p) if p.is_dir() else p.stat().st_size, p.name)
         for p in (BUNDLE / "_internal").iterdir() if not p.is_symlink()),
        reverse=True,
    )  # fmt: skip
    print("  largest: " + ", ".join(f"{name} {n / MB:.0f} MB" for n, name in parts[:8]))

    frozen_env = {"HOME": os.environ.get("HOME", "/tmp"), "QT_QPA_PLATFORM": "offscreen"}
    venv_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for label, extra in (("cli --version", ["cli", "--version"]), ("--smoke", ["--smoke"])):
        frozen = timed([str(APP), *extra], frozen_env, args.runs)
        source = timed([sys.executable, str(ENTRY), *extra], venv_env, args.runs)
        f, s = statistics.median(frozen), statistics.median(source)
        print(
            f"{label}: frozen median {f:.2f} s (min {min(frozen):.2f}), venv median "
            f"{s:.2f} s (min {min(source):.2f}); ratio {f / s:.2f} [{args.runs} runs]"
        )


if __name__ == "__main__":
    main()
