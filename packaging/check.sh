#!/usr/bin/env bash
# Check a built bundle (packaging/build.sh) from a clean environment: env -i,
# so no PATH, no venv and no display; all data in a scratch folder.
#   1. triage-desk --smoke: demo database, rank, main window, statistics export.
#   2. The model stack, which the smoke never loads (no model is active there):
#      a small demo, train and activate a harm model, rank with its scores.
#      A broken numpy/scipy/scikit-learn library in the bundle shows only here.
set -euo pipefail
cd "$(dirname "$0")/.."

app=dist/triage-desk/triage-desk
[ -x "$app" ] || { echo "no bundle at $app: run packaging/build.sh first" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
clean=(env -i HOME="$scratch" TRIAGE_HOME="$scratch/data" QT_QPA_PLATFORM=offscreen
  LANG=C.UTF-8 TRIAGE_NOW=2026-11-20T09:00:00)

"${clean[@]}" "$app" --smoke
"${clean[@]}" "$app" cli demo --intel 3000 --em 100 >/dev/null
"${clean[@]}" "$app" cli model train --activate --bootstrap 20 >/dev/null
"${clean[@]}" "$app" cli rank intel --limit 5 --format json >"$scratch/ranked.json"
if ! grep -Eq '"harm_score": [0-9]' "$scratch/ranked.json"; then
  echo "model check FAILED: the trained model gave no harm scores" >&2
  exit 1
fi
echo "model check ok: trained, activated and scored in the bundle"
