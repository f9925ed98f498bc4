#!/usr/bin/env bash
# Resolve the packaged app's requirements (triage[ui] from pyproject.toml,
# plus packaging/requirements.in) into packaging/requirements.lock: every
# package pinned with the SHA-256 of each of its files, so two builds from one
# commit install the same packages (packaging/build.sh uses --require-hashes).
# packaging/numpy-build.in (the tools numpy is compiled with, build.sh) goes
# into packaging/numpy-build.lock the same way.
# Run it after changing a dependency, and commit the locks. Uses pip-tools in a
# throw-away venv under build/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=build/lock-tools
[ -x "$tools/bin/pip-compile" ] || {
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install -q "pip-tools>=7.4,<8"
}
"$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links --extra ui \
  --output-file packaging/requirements.lock pyproject.toml packaging/requirements.in
"$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links \
  --output-file packaging/numpy-build.lock packaging/numpy-build.in
