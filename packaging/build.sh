#!/usr/bin/env bash
# Build the packaged desktop app: dist/triage-desk/ with the executable
# triage-desk (`triage-desk cli ...` is the command line), from
# packaging/triage-desk.spec. Needs the project venv (./run setup).
# PyInstaller builds for the OS it runs on: run this on the kind of machine
# you ship to (docs/install.md); check the result with packaging/check.sh.
#   packaging/build.sh           build (incremental: reuses build/pyinstaller)
#   packaging/build.sh --clean   build from scratch
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
[ -x "$VENV/bin/python" ] || { echo "No virtual environment at $VENV: run ./run setup first." >&2; exit 2; }

# PyInstaller in the venv, installed only when missing or outside the pinned range
# (so a machine that has it builds with no network).
if ! "$VENV/bin/python" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
major, minor = (int(part) for part in version("pyinstaller").split(".")[:2])
sys.exit(0 if (6, 5) <= (major, minor) < (7, 0) else 1)
PY
then
  "$VENV/bin/python" -m pip install -q "pyinstaller>=6.5,<7"
fi

options=(--noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller)
if [ "${1:-}" = "--clean" ]; then options+=(--clean); fi
version=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("triage"))')
start=$(date +%s)
"$VENV/bin/python" -m PyInstaller "${options[@]}" packaging/triage-desk.spec
seconds=$(( $(date +%s) - start ))

app=dist/triage-desk/triage-desk
[ -x "$app" ] || [ -x "$app.exe" ] || [ -d dist/Triage.app ] || { echo "build produced no $app" >&2; exit 1; }
echo "built dist/triage-desk (triage $version) in ${seconds}s, $(du -sh dist/triage-desk | cut -f1) unpacked"
