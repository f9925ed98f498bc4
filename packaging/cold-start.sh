#!/usr/bin/env bash
# Time the packaged app from exec to its main window on screen: a 3,000-item
# demo database in a scratch folder, the bundle started from env -i under a
# virtual X server (xvfb-run; xwininfo polled every 20 ms for the main window,
# "Triage — <file>", until it is viewable). The first start follows a dropped
# page cache when run as root (cold); the others are warm. Prints one line per
# start and the machine's load.
#   packaging/cold-start.sh [RUNS]        default 4; needs xvfb-run and xwininfo (x11-utils)
set -euo pipefail
cd "$(dirname "$0")/.."
app=$(pwd)/dist/triage-desk/triage-desk
[ -x "$app" ] || { echo "no bundle at $app: run packaging/build.sh first" >&2; exit 2; }
command -v xvfb-run >/dev/null && command -v xwininfo >/dev/null ||
  { echo "needs xvfb-run and xwininfo (apt-get install xvfb x11-utils)" >&2; exit 2; }
runs=${1:-4}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
clean=(env -i HOME="$scratch" TRIAGE_HOME="$scratch/data" LANG=C.UTF-8 TRIAGE_NOW=2026-11-20T09:00:00)
"${clean[@]}" QT_QPA_PLATFORM=offscreen "$app" cli --db "$scratch/demo.sqlite" demo --intel 3000 --em 100 >/dev/null

# One start under the X server xvfb-run made: seconds to the window, or fail.
cat >"$scratch/start.sh" <<'START'
#!/usr/bin/env bash
app=$1 scratch=$2
for _ in $(seq 100); do xwininfo -root >/dev/null 2>&1 && break; sleep 0.05; done
began=$(date +%s.%N)
env -i HOME="$scratch" TRIAGE_HOME="$scratch/data" LANG=C.UTF-8 TRIAGE_NOW=2026-11-20T09:00:00 \
  DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" TRIAGE_DB="$scratch/demo.sqlite" "$app" >"$scratch/app.log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  id=$(xwininfo -root -tree 2>/dev/null | awk '/"Triage — / {print $1; exit}')
  if [ -n "$id" ] && xwininfo -id "$id" 2>/dev/null | grep -q IsViewable; then
    echo "$(date +%s.%N) $began" | awk '{printf "%.2f\n", $1 - $2}'
    kill "$pid"; wait "$pid" 2>/dev/null || true
    exit 0
  fi
  sleep 0.02
done
echo "the app exited before its window:" >&2; tail -5 "$scratch/app.log" >&2; exit 1
START
chmod +x "$scratch/start.sh"

for ((run = 1; run <= runs; run++)); do
  kind=warm
  if [ "$run" -eq 1 ] && [ "$(id -u)" -eq 0 ] && sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
    kind="cold (page cache dropped)"
  fi
  seconds=$(xvfb-run -a -s "-screen 0 1920x1080x24" "$scratch/start.sh" "$app" "$scratch")
  echo "start $run, $kind: main window after $seconds s"
done
echo "load: $(uptime | sed 's/.*load average/load average/')"
