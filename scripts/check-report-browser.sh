#!/usr/bin/env bash
# Renders the HTML report in headless Chromium and checks it
# (scripts/browser-check/check-report.mjs: every chart has drawn marks per
# series colour, no console or page errors, no request but the file itself).
#
#   scripts/check-report-browser.sh [--bin PATH]
#
# Two cases, each `gen` (seed 7) → `compute` (with gen's own convstats.toml)
# → check-report.mjs:
#   - 10,000 conversations: screenshot target/report-10k.png;
#   - 1,000,000 conversations: report at most 1,000,000 bytes, rendered in
#     at most 2,000 ms; screenshot target/report-1m.png.
# --bin PATH uses that binary and builds nothing; the default is
# target/release/convstats, brought up to date with `cargo build --release`
# (a no-op when it is). Chromium: env CHROMIUM, else /usr/bin/chromium (Debian's
# package). `npm ci` runs in scripts/browser-check when its node_modules is
# missing. The generated data (about 4.4 GB of input and 2.1 GB of outputs
# for the 1M case) lives in a temporary directory under target/, removed at
# the end. Needs: bash, node and npm, chromium; cargo when building.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bin=
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) [ $# -ge 2 ] || { echo "--bin needs a PATH" >&2; exit 2; }; bin=$2; shift 2 ;;
    --bin=*) bin=${1#--bin=}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (usage: $0 [--bin PATH])" >&2; exit 2 ;;
  esac
done

if [ -n "$bin" ]; then
  [ -x "$bin" ] || { echo "--bin $bin: not an executable file" >&2; exit 2; }
  bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
else
  bin=$root/target/release/convstats
  echo "== cargo build --release"
  cargo build --release --locked --bin convstats
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || {
  echo "chromium not found at $chromium: install Debian's chromium (apt-get install chromium) or set CHROMIUM" >&2
  exit 2
}
command -v node >/dev/null || { echo "node not found" >&2; exit 2; }
checker_dir=$root/scripts/browser-check
if [ ! -d "$checker_dir/node_modules/playwright-core" ]; then
  echo "== npm ci (scripts/browser-check)"
  (cd "$checker_dir" && npm ci --no-audit --no-fund)
fi

echo "binary:   $bin"
echo "chromium: $("$chromium" --version 2>/dev/null)"
echo "node:     $(node --version), playwright-core $(node -p "require('$checker_dir/node_modules/playwright-core/package.json').version")"

mkdir -p target
work=$(mktemp -d "$root/target/check-report-browser.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
mb() { awk -v n="$1" 'BEGIN { printf "%.1f MB", n / 1e6 }'; }

# check NAME CONVERSATIONS SCREENSHOT [check-report.mjs options...]
check() {
  local name=$1 n=$2 shot=$3
  shift 3
  local dir=$work/$name t0 t1 t2 t3 status=0
  mkdir -p "$dir"
  echo
  echo "== $name: $n conversations"
  t0=$(now)
  # (set -e does not apply in a function called with ||: each step says so.)
  "$bin" gen --print-config > "$dir/convstats.toml" || { echo "$name: gen --print-config failed" >&2; return 1; }
  "$bin" gen --conversations "$n" --seed 7 > "$dir/input.ndjson" || { echo "$name: gen failed" >&2; return 1; }
  t1=$(now)
  echo "gen:      $(secs "$t0" "$t1") s, $(mb "$(stat -c %s "$dir/input.ndjson")") of NDJSON"
  "$bin" compute "$dir/input.ndjson" --config "$dir/convstats.toml" --out "$dir/out" -q ||
    { echo "$name: compute failed" >&2; return 1; }
  t2=$(now)
  rm -f "$dir/input.ndjson"
  # The report is small: checked and kept beside its screenshot, to look at
  # after a failure.
  local report=${shot%.png}.html
  cp "$dir/out/report.html" "$report" || { echo "$name: compute wrote no report.html" >&2; return 1; }
  echo "compute:  $(secs "$t1" "$t2") s, report.html $(stat -c %s "$report") bytes, $(grep -o 'class="chart"' "$report" | wc -l) charts"
  node "$checker_dir/check-report.mjs" "$report" "$shot" "$@" || status=$?
  t3=$(now)
  echo "check:    $(secs "$t2" "$t3") s (Chromium start, render, screenshot)"
  echo "$name:    $(secs "$t0" "$t3") s end to end, exit $status"
  rm -rf "$dir"
  return "$status"
}

failed=()
check 10k 10000 "$root/target/report-10k.png" || failed+=(10k)
check 1m 1000000 "$root/target/report-1m.png" --max-bytes 1000000 --max-render-ms 2000 || failed+=(1m)
echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "check-report-browser: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "check-report-browser: OK (screenshots and reports: target/report-10k.{png,html}, target/report-1m.{png,html})"
